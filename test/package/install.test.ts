/**
 * The package as a user gets it: `npm pack`, then a brand-new CDK app in a temporary directory
 * outside the repository installs the tarball offline (npm cache + tarball, no esbuild), synthesizes
 * a stack that imports an existing cluster by ARN and adds the runner with a schedule, runs
 * `npx ecs-exec --help`, type-checks the three entry points, and runs a command through
 * `ecs-exec-runner/client` against the agent double.
 */
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_JOBS_DIRECTORY } from '../../lambda/detach/scripts';
import { BUNDLE_ENTRY_FILE, RUNNER_LAMBDAS } from '../../lib/bundling';
import type { CfnTemplate } from '../../lib/local/definition';
import { MessageGatewayDouble } from '../../local/agent-double';
import { generateDataKey } from '../../local/fake-kms';
import { actionsOf, type Statement } from '../cdk/helpers';
import { REPO_ROOT } from '../local/support';
import { REPO_PACKAGE, runIn, writeConsumerManifest } from './consumer-app';

const SLOW_MS = 240_000;
const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const STACK = 'ConsumerStack';
const SCHEDULE = 'nightly-migrate-status';
const TARGET_ID = 'ecs:prod_0123456789abcdef0123456789abcdef_app-runtime';
const FAST_AGENT = {
  initialReadDelayMs: 0,
  interChunkDelayMs: 0,
  closeAckWaitMs: 300,
  resendTickMs: 20,
} as const;
const CDK_CLI = path.join(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const TSC = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');

/** The user's stack, in plain JavaScript: no ts-node, no esbuild. */
const APP_JS = `
const { App, Stack } = require('aws-cdk-lib');
const ecs = require('aws-cdk-lib/aws-ecs');
const kms = require('aws-cdk-lib/aws-kms');
const { EcsExecRunner } = require('ecs-exec-runner');

// The built-in CloudFormation validation costs ~5 s of CPU per synth; the repository's own synth runs it.
const app = new App({ builtinCloudFormationValidation: false });
const stack = new Stack(app, '${STACK}');
const cluster = ecs.Cluster.fromClusterArn(stack, 'Cluster', '${CLUSTER_ARN}');
new EcsExecRunner(stack, 'Runner', {
  clusters: [cluster],
  execKmsKey: kms.Key.fromKeyArn(stack, 'ExecKey', '${KEY_ARN}'),
  defaultService: 'web',
  schedules: [{ name: '${SCHEDULE}', expression: 'cron(0 3 * * ? *)', event: { command: 'bin/rails db:migrate:status' } }],
});
`;

/** The three entry points as a TypeScript user imports them (type-checked, not run). */
const TYPES_TS = `
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsExecRunner, type EcsExecRunnerProps } from 'ecs-exec-runner';
import { type DataKeyProvider, run, type RunResult, SessionError } from 'ecs-exec-runner/client';
import { ExecErrorName, type ExecEvent, type ExecResult, FanOutErrorName } from 'ecs-exec-runner/contract';

const stack = new Stack(new App(), 'S');
const props: EcsExecRunnerProps = { clusters: [ecs.Cluster.fromClusterArn(stack, 'C', '${CLUSTER_ARN}')] };
const runner = new EcsExecRunner(stack, 'R', props);
const event: ExecEvent = { command: 'true', service: 'web' };
const retryable: readonly string[] = [ExecErrorName.AgentNotReady, FanOutErrorName.TasksFailed];
declare const dataKeyProvider: DataKeyProvider;
export async function one(): Promise<RunResult> {
  return run('true', async () => ({ sessionId: 's', streamUrl: 'wss://x', tokenValue: 't' }), { dataKeyProvider });
}
export const used = [runner.runCommandStateMachine.stateMachineArn, event, retryable, SessionError, (r: ExecResult) => r.exitCode];
`;

/**
 * The client example of the README, against a stand-in for ecs:ExecuteCommand and kms:GenerateDataKey
 * (STAND_IN_URL): a KMS-encrypted session, a sink that sees every byte, the exit code.
 */
const CLIENT_MJS = `
import { run } from 'ecs-exec-runner/client';

const post = async (route, body) => {
  const response = await fetch(process.env.STAND_IN_URL + route, { method: 'POST', body: JSON.stringify(body) });
  return response.json();
};
let sinkBytes = 0;
const result = await run(
  'printf "hello from the client\\\\n"; exit 3',
  (prepared) => post('/execute-command', { command: prepared.command }),
  {
    tty: false,
    timeoutMs: 20_000,
    dataKeyProvider: async ({ keyId, sessionId }) => {
      const key = await post('/generate-data-key', { keyId, sessionId });
      return { plaintext: Buffer.from(key.plaintext, 'base64'), ciphertextBlob: Buffer.from(key.ciphertextBlob, 'base64') };
    },
    sink: { write: (chunk) => { sinkBytes += chunk.length; }, end: () => {} },
  },
);
process.stdout.write(JSON.stringify({ output: result.output, exitCode: result.exitCode, encrypted: result.encrypted, sinkBytes }));
`;

/** Answers the client script's two AWS calls with the agent double and the fake KMS. */
async function startStandIn(gateway: MessageGatewayDouble): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
      let reply: unknown;
      if (req.url === '/execute-command') {
        reply = gateway.createSession({
          command: body.command as string,
          kms: { keyId: KEY_ARN, targetId: TARGET_ID },
          timing: FAST_AGENT,
        });
      } else {
        const key = generateDataKey({
          keyId: body.keyId as string,
          numberOfBytes: 64,
          encryptionContext: { 'aws:ssm:SessionId': body.sessionId as string, 'aws:ssm:TargetId': TARGET_ID },
        });
        reply = {
          plaintext: key.plaintext.toString('base64'),
          ciphertextBlob: key.ciphertextBlob.toString('base64'),
        };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

interface PackedFile {
  readonly path: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe('the npm package, installed into a new CDK app', () => {
  let work: string;
  let appDir: string;
  let installed: string;
  let template: CfnTemplate;
  let cdkOut: string;
  let synthOutput: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ecs-exec-runner-consumer-'));
    appDir = path.join(work, 'app');
    mkdirSync(appDir);
    // prepack builds dist/ (tsc, the Lambda bundles, the CLI).
    const packed = await runIn(REPO_ROOT, 'npm', ['pack', '--pack-destination', work, '--json', '--silent']);
    const [pack] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
    writeConsumerManifest(appDir, path.join(work, pack?.filename ?? 'missing.tgz'));
    writeFileSync(path.join(appDir, 'app.js'), APP_JS);
    writeFileSync(
      path.join(appDir, 'cdk.json'),
      JSON.stringify({ app: 'node app.js', context: { 'cli-telemetry': false }, notices: false }),
    );
    await runIn(appDir, 'npm', ['ci', '--offline', '--no-audit', '--no-fund']);
    installed = path.join(appDir, 'node_modules', REPO_PACKAGE.name);
    cdkOut = path.join(appDir, 'cdk.out');
    synthOutput = (await runIn(appDir, process.execPath, [CDK_CLI, 'synth', '--quiet'])).stderr;
    template = JSON.parse(readFileSync(path.join(cdkOut, `${STACK}.template.json`), 'utf8')) as CfnTemplate;
  }, SLOW_MS);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs without esbuild: the app resolves no esbuild at all', () => {
    expect(existsSync(path.join(appDir, 'node_modules', 'esbuild'))).toBe(false);
    expect(() => require.resolve('esbuild', { paths: [appDir] })).toThrow();
    expect(synthOutput).not.toMatch(/Bundling asset/);
  });

  it('deploys the shipped prebuilt bundles as the functions code', () => {
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    const shipped = Object.fromEntries(
      Object.keys(RUNNER_LAMBDAS).map((name) => [
        name,
        readFileSync(path.join(installed, 'dist', 'lambda-bundles', name, BUNDLE_ENTRY_FILE), 'utf8'),
      ]),
    );
    const deployed = functions.map((fn) => {
      const key = String((fn.Properties?.Code as { S3Key?: string } | undefined)?.S3Key).replace(
        /\.zip$/,
        '',
      );
      const entry = readFileSync(path.join(cdkOut, `asset.${key}`, BUNDLE_ENTRY_FILE), 'utf8');
      return {
        bundle: Object.entries(shipped).find(([, text]) => text === entry)?.[0],
        handler: fn.Properties?.Handler,
        runtime: fn.Properties?.Runtime,
      };
    });
    expect(deployed.map((d) => d.bundle).sort()).toEqual(Object.keys(RUNNER_LAMBDAS).sort());
    expect(new Set(deployed.map((d) => `${d.handler} ${d.runtime}`))).toEqual(
      new Set(['index.handler nodejs24.x']),
    );
  });

  it('has both state machines and the schedule', () => {
    const ofType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
    expect(ofType('AWS::StepFunctions::StateMachine')).toHaveLength(2);
    expect(ofType('AWS::Scheduler::Schedule').map((r) => r.Properties?.Name)).toEqual([SCHEDULE]);
  });

  it('grants least privilege: no wildcard action, ECS Exec only on the imported cluster, KMS only on its key', () => {
    const statements: Statement[] = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap(
        (r) => (r.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? [],
      )
      .filter((s) => s.Effect === 'Allow');
    const wildcards = statements
      .flatMap(actionsOf)
      .filter((action) => action === '*' || action.endsWith(':*'));
    expect(wildcards).toEqual([]);
    const exec = statements.find((s) => actionsOf(s).includes('ecs:ExecuteCommand'));
    expect(exec?.Condition).toEqual({ ArnEquals: { 'ecs:cluster': [CLUSTER_ARN] } });
    expect(JSON.stringify(exec?.Resource)).toContain(CLUSTER_ARN);
    expect(JSON.stringify(exec?.Resource)).toContain(':task/prod/*');
    const kms = statements.filter((s) => actionsOf(s).some((action) => action.startsWith('kms:')));
    // The data key for sessions, and DescribeKey for the doctor action: both on the key only; the
    // alerts function publishes to its topic, encrypted with the topic's own key.
    expect(kms.map((s) => [actionsOf(s), s.Resource])).toEqual([
      [['kms:GenerateDataKey'], KEY_ARN],
      [['kms:DescribeKey'], KEY_ARN],
      [
        ['kms:GenerateDataKey', 'kms:Decrypt'],
        { 'Fn::GetAtt': [expect.stringMatching(/^RunnerAlertsTopicKey/), 'Arn'] },
      ],
    ]);
  });

  it(
    'runs the CLI with npx ecs-exec (compiled, no tsx)',
    async () => {
      const { stdout } = await runIn(appDir, 'npx', ['--offline', 'ecs-exec', '--help']);
      expect(stdout).toMatch(/^Usage: ecs-exec <command>/);
      expect(existsSync(path.join(appDir, 'node_modules', 'tsx'))).toBe(false);
    },
    SLOW_MS,
  );

  it(
    'type-checks the construct, the client and the contract from their .d.ts',
    async () => {
      writeFileSync(path.join(appDir, 'types.ts'), TYPES_TS);
      const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
      await expect(
        runIn(appDir, TSC, [...args, '--target', 'es2022', '--skipLibCheck', '--types', '', 'types.ts']),
      ).resolves.toBeDefined();
    },
    SLOW_MS,
  );

  it(
    'runs a command through ecs-exec-runner/client (a KMS session) against the agent double',
    async () => {
      writeFileSync(path.join(appDir, 'client.mjs'), CLIENT_MJS);
      const gateway = await MessageGatewayDouble.start();
      const standIn = await startStandIn(gateway);
      try {
        const { stdout } = await runIn(appDir, process.execPath, ['client.mjs'], {
          ...process.env,
          STAND_IN_URL: standIn.url,
        });
        expect(JSON.parse(stdout)).toEqual({
          output: 'hello from the client\n',
          exitCode: 3,
          encrypted: true,
          sinkBytes: 'hello from the client\n'.length,
        });
      } finally {
        standIn.server.close();
        await gateway.close();
      }
    },
    SLOW_MS,
  );

  it(
    'ships only what a consumer needs (npm pack --dry-run)',
    async () => {
      const { stdout } = await runIn(REPO_ROOT, 'npm', [
        'pack',
        '--dry-run',
        '--json',
        '--ignore-scripts',
        '--silent',
      ]);
      const files = (JSON.parse(stdout) as Array<{ files: PackedFile[] }>)[0]?.files.map((f) => f.path) ?? [];
      expect(files).toEqual(
        expect.arrayContaining([
          'package.json',
          'README.md',
          'LICENSE',
          'CHANGELOG.md',
          'bin/ecs-exec.js',
          'dist/cli/ecs-exec.cjs',
          'dist/lib/index.js',
          'dist/lib/index.d.ts',
          'dist/exports/contract.js',
          'dist/exports/contract.d.ts',
          'dist/exports/client.js',
          'dist/exports/client.d.ts',
          ...Object.keys(RUNNER_LAMBDAS).map((name) => `dist/lambda-bundles/${name}/${BUNDLE_ENTRY_FILE}`),
        ]),
      );
      const unwanted = files.filter(
        (file) =>
          /^(test|local|bench|scripts|config|cli|lambda|lib)\//.test(file) ||
          /\.map$/.test(file) ||
          (/\.ts$/.test(file) && !/\.d\.ts$/.test(file)) ||
          /(^|\/)(local|test|fake-[a-z-]+|agent-double)\//.test(file),
      );
      expect(unwanted).toEqual([]);
      // Nothing installed names the machine that built it.
      const leaking = filesUnder(installed).filter((file) => {
        const text = readFileSync(path.join(installed, file), 'utf8');
        // The detached jobs' documented default directory is not a path of this machine.
        const scrubbed = text.replaceAll(DEFAULT_JOBS_DIRECTORY, '');
        return scrubbed.includes(REPO_ROOT) || scrubbed.includes(tmpdir());
      });
      expect(leaking).toEqual([]);
    },
    SLOW_MS,
  );
});
