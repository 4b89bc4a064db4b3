/**
 * Every command in the README's shell blocks is exercised here (or by .ci/run): the npm, npx and
 * ecs-exec commands run as written, against the local environment where they need AWS; the aws CLI
 * commands (no AWS here) have their payloads and flags checked. A new README command fails this
 * test until it is given an exerciser.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isDoctorEvent, parseDoctorEvent, parseExecEvent } from '../lambda/event';
import { type LocalEnvironment, startLocalEnvironment } from '../local/local-environment';
import { cleanEnv, REPO_ROOT, spawnProcess } from './local/support';

const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const SLOW_MS = 180_000;

/** Commands of every ```sh block: continuations joined, comments dropped, `&&` chains split. */
function readmeCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/\s{2,}#.*$/, '').trim())
      .filter((line) => line !== '')
      .flatMap((line) => line.split(' && ').map((part) => part.trim())),
  );
}

const commands = readmeCommands(README);

function shell(command: string, env: NodeJS.ProcessEnv) {
  return spawnProcess('/bin/sh', ['-c', command], env).result;
}

/** The exit status the README command's own remote command asks for (`exit N`), else 0. */
function expectedExit(command: string): number {
  return Number(/exit (\d+)/.exec(command)?.[1] ?? 0);
}

describe('README commands', () => {
  it('has the commands this test knows how to exercise', () => {
    const known = [
      /^npm ci$/,
      /^npm test$/,
      /^npm run (lint|bench)$/,
      /^npm run build$/,
      // Needs an AWS account: test/integ/integ-script.test.ts runs the script without one (it refuses).
      /^npm run integ$/,
      /^npm install ecs-exec-runner /,
      /^npm start /,
      /^npx cdk (synth|deploy)/,
      /^npx ecs-exec /,
      /^aws stepfunctions start-execution /,
      /^aws lambda invoke /,
      /^cat result\.json$/,
    ];
    const unknown = commands.filter((command) => !known.some((pattern) => pattern.test(command)));
    expect(unknown).toEqual([]);
    expect(commands.length).toBeGreaterThan(15);
  });

  it('runs the test command exactly as .ci/run does, and npm test includes type checks, lint and jest', () => {
    expect(commands).toContain('npm ci');
    expect(commands).toContain('npm test');
    expect(readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm ci && npm test$/m);
    const scripts = (
      JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(scripts.test).toBe('tsc && biome check . && jest');
    expect(scripts.lint).toBe('biome check .');
    expect(scripts.bench).toMatch(/bench\/run\.ts/);
  });

  it('installs the package with its peers, and builds what test/package/install.test.ts packs and installs', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      name: string;
      scripts: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    expect(commands.filter((command) => command.startsWith('npm install '))).toEqual([
      `npm install ${[pkg.name, ...Object.keys(pkg.peerDependencies)].join(' ')}`,
    ]);
    expect(commands).toContain('npm run build');
    expect(pkg.scripts.prepack).toBe('npm run build');
  });

  it(
    'runs every npm start command against the embedded default',
    async () => {
      const starts = commands.filter((command) => command.startsWith('npm start '));
      expect(starts.length).toBeGreaterThanOrEqual(5);
      for (const command of starts) {
        const { code, stdout, stderr } = await shell(command, cleanEnv({ ECS_EXEC_LOCAL_FAST_AGENT: '1' }));
        expect({ command, code }).toEqual({ command, code: expectedExit(command) });
        // A result on stdout; a failed command's output tail on stderr.
        expect((code === 0 ? stdout : stderr).length).toBeGreaterThan(0);
      }
    },
    SLOW_MS,
  );

  it(
    'synthesizes offline for npx cdk synth and for each npx cdk deploy variant',
    async () => {
      const cdk = commands.filter((command) => command.startsWith('npx cdk '));
      expect(cdk.some((command) => command.startsWith('npx cdk deploy'))).toBe(true);
      // Deploy needs an account; its synthesis (with the same context) is what can run here.
      const synths = [
        ...new Set(cdk.map((command) => command.replace(/^npx cdk (synth|deploy)/, 'npx cdk synth -q'))),
      ];
      // Separate output folders: two CLIs may not synthesize into one cdk.out at once.
      const results = await Promise.all(
        synths.map((command, index) =>
          shell(
            `${command} -o ${path.join(tmpdir(), `readme-synth-${process.pid}-${index}`)}`,
            cleanEnv({ CDK_DISABLE_CLI_TELEMETRY: 'true' }),
          ),
        ),
      );
      for (const [index, result] of results.entries()) {
        expect({
          command: synths[index],
          code: result.code,
          stderr: result.code === 0 ? '' : result.stderr,
        }).toEqual({
          command: synths[index],
          code: 0,
          stderr: '',
        });
      }
    },
    SLOW_MS,
  );

  it(
    'runs npm run bench end to end (on small sizes: targets live in the figures, not in tests)',
    async () => {
      expect(commands).toContain('npm run bench');
      const { code, stdout } = await shell(
        'npm run bench',
        cleanEnv({ BENCH_QUICK: '1', BENCH_AGENT_WARM_UP_MIB: '0' }),
      );
      expect(code).toBe(0);
      for (const figure of [
        'codec:',
        'handler bundle',
        'end to end:',
        'memory:',
        'real agent pace:',
        'transfer:',
      ])
        expect(stdout).toContain(figure);
    },
    SLOW_MS,
  );

  it('gives aws stepfunctions start-execution an input the Lambda accepts', () => {
    const starts = commands.filter((command) => command.startsWith('aws stepfunctions start-execution'));
    expect(starts.length).toBeGreaterThan(0);
    for (const command of starts) {
      const input = /--input '([^']+)'/.exec(command)?.[1];
      expect(input).toBeDefined();
      expect(parseExecEvent(JSON.parse(input as string), { cluster: 'demo' }).command.length).toBeGreaterThan(
        0,
      );
    }
  });

  it('calls aws lambda invoke with a valid payload and the flags that keep it from running twice', () => {
    const invokes = commands.filter((command) => command.startsWith('aws lambda invoke'));
    expect(invokes.length).toBeGreaterThan(0);
    for (const command of invokes) {
      expect(command).toContain('--cli-binary-format raw-in-base64-out');
      expect(command).toMatch(/--cli-read-timeout 0\b/);
      const payload = JSON.parse(/--payload '([^']+)'/.exec(command)?.[1] as string) as unknown;
      if (isDoctorEvent(payload)) {
        // The doctor only reads: it needs no idempotency key.
        expect(parseDoctorEvent(payload, { cluster: 'demo' }).cluster).toBe('demo');
      } else {
        expect(parseExecEvent(payload, { cluster: 'demo' }).idempotencyKey).toBeDefined();
      }
    }
  });

  describe('ecs-exec against the local environment', () => {
    let env: LocalEnvironment;

    beforeAll(async () => {
      process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
      env = await startLocalEnvironment({ fastAgent: true });
      await env.runStateMachine({ command: 'true' });
    }, SLOW_MS);

    afterAll(async () => {
      await env.close();
      delete process.env.POWERTOOLS_LOG_LEVEL;
    });

    it(
      'runs every npx ecs-exec command as written',
      async () => {
        const cli = commands.filter((command) => command.startsWith('npx ecs-exec '));
        expect(cli.length).toBeGreaterThanOrEqual(4);
        const vars = { RUN_COMMAND_ARN: env.runCommandStateMachineArn, EXECUTION_ARN: '' };
        const outcomes: Array<{ command: string; code: number | null }> = [];
        for (const command of cli) {
          const result = await shell(command, cleanEnv({ ...env.fake.env, ...vars }));
          outcomes.push({ command, code: result.code });
          // The no-wait run prints the ARN the history example then reads.
          if (command.includes('--no-wait')) vars.EXECUTION_ARN = result.stdout.trim();
        }
        // Each README example, run locally: the remote exit code (127: no such program here), a
        // task that does not exist locally (TargetNotFound, 68), an ARN, a timeline, a cancelled job.
        expect(outcomes.map((o) => o.code)).toEqual(
          cli.map((command) => {
            if (command.includes('bin/rails')) return 127;
            if (command.includes('--task 0123456789abcdef0123456789abcdef')) return 68;
            // The detached job is stopped: CommandTimedOut ("cancelled").
            if (command.includes('ecs-exec cancel')) return 124;
            return 0;
          }),
        );
        expect(vars.EXECUTION_ARN).toMatch(/^arn:aws:states:/);
      },
      SLOW_MS,
    );
  });
});
