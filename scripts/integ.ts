/**
 * `npm run integ`: the integration test on a real AWS account. Deploys the integ app
 * (test/integ/integ.runner.ts: the demo stack, then the assertion stack whose custom resources run
 * real commands through the run-one state machine), reads the assertion results, and destroys both
 * stacks whatever happened. Refuses to start without usable credentials. The pinned CDK CLI
 * (devDependency aws-cdk) deploys it; integ-runner cannot read this cloud assembly version (README).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  assertionVerdict,
  callerIdentity,
  EXIT_FAILED,
  EXIT_NO_CREDENTIALS,
  NoUsableCredentials,
  type StackOutputs,
  stsTimeoutMs,
} from './integ-support';

const REPO_ROOT = path.join(__dirname, '..');
const CDK = path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
const INTEG_APP = 'npx tsx test/integ/integ.runner.ts';

function say(line: string): void {
  process.stdout.write(`[integ] ${line}\n`);
}

/** Runs the pinned CDK CLI in the foreground; true when it exits 0. */
function cdk(args: readonly string[]): boolean {
  say(`cdk ${args.join(' ')}`);
  const run = spawnSync(CDK, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (run.error) say(`could not run the CDK CLI: ${run.error.message}`);
  return run.status === 0;
}

async function main(): Promise<number> {
  const timeoutMs = stsTimeoutMs(process.env);
  say(`checking AWS credentials (STS GetCallerIdentity, ${timeoutMs} ms timeout)`);
  let identity: Awaited<ReturnType<typeof callerIdentity>>;
  try {
    identity = await callerIdentity(timeoutMs);
  } catch (err) {
    if (!(err instanceof NoUsableCredentials)) throw err;
    process.stderr.write(
      `[integ] refusing to run: npm run integ deploys to a real AWS account and needs usable credentials (${err.message}).\n` +
        '[integ] Set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and AWS_REGION, bootstrap the account once\n' +
        '[integ] (npx cdk bootstrap aws://ACCOUNT/REGION), and see README "Integration test on a real account". Nothing was deployed.\n',
    );
    return EXIT_NO_CREDENTIALS;
  }
  say(`deploying as ${identity.arn} into account ${identity.account}, region ${identity.region}`);

  // The cloud assembly and the outputs outside the repository: two runs never share a directory.
  const workDir = mkdtempSync(path.join(tmpdir(), 'ecs-exec-runner-integ-'));
  const outputsFile = path.join(workDir, 'outputs.json');
  const common = ['--app', INTEG_APP, '--output', path.join(workDir, 'cdk.out')];
  // Ctrl-C reaches the CDK CLI (same process group); this process stays to destroy the stacks.
  process.on('SIGINT', () => say('interrupted: waiting for the CDK CLI to stop, then destroying the stacks'));

  const started = Date.now();
  const deployed = cdk([
    'deploy',
    ...common,
    '--all',
    '--require-approval',
    'never',
    '--outputs-file',
    outputsFile,
  ]);
  let failures: readonly string[] = deployed
    ? []
    : ['the deploy failed (a failed assertion fails it: see above)'];
  if (deployed) {
    const verdict = assertionVerdict(JSON.parse(readFileSync(outputsFile, 'utf8')) as StackOutputs);
    say(`${verdict.passed} assertion(s) passed`);
    failures = verdict.failures;
  }

  say('destroying both stacks (also after a failed deploy)');
  const destroyed = cdk(['destroy', ...common, '--all', '--force']);
  if (!destroyed)
    failures = [...failures, 'the destroy failed: delete the EcsExecRunnerInteg* stacks by hand'];
  rmSync(workDir, { recursive: true, force: true });

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  if (failures.length > 0) {
    for (const failure of failures) process.stderr.write(`[integ] FAILED: ${failure}\n`);
    return EXIT_FAILED;
  }
  say(`passed in ${minutes} min; both stacks destroyed`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[integ] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT_FAILED);
  },
);
