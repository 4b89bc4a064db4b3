/**
 * `npm start` (scripts/local-run.ts) as a user runs it: a child process with no AWS settings,
 * the real handler, the agent double running commands on this machine. The runs are independent
 * (each its own endpoint on a free port), so they start together and each test awaits its own.
 * The state machine and Ctrl-C are in local-run-state-machine.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { RunExitCode } from '../../cli/execution-exit-codes';
import { ExitCode } from '../../cli/exit-codes';
import { ExecErrorName, type ExecResult } from '../../lambda/contract';
import { DEFAULT_WORLD_IDS } from '../../local/fake-aws';
import { type ChildResult, runLocal, type Spawned } from './support';

/** The agent double's real first-read delay (1 s), which the default (faithful) timings keep. */
const AGENT_INITIAL_READ_DELAY_MS = 1000;

let busy: Server;
let busyPort: number;
let runs: Record<string, Spawned>;

const result = (name: string): Promise<ChildResult> => {
  const run = runs[name];
  if (run === undefined) throw new Error(`no run named ${name}`);
  return run.result;
};

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
  runs = {
    // Faithful agent timings and a developer profile that must be ignored.
    uname: runLocal(['uname -a'], { fastAgent: false, env: { AWS_PROFILE: 'no-such-profile' } }),
    text: runLocal(['--output', 'text', '--', 'printf', "'%s|'", 'a', 'b']),
    failing: runLocal(['--output', 'text', 'echo out; echo err >&2; exit 3']),
    kms: runLocal(['--kms', '--output', 'json', 'echo encrypted']),
    stdin: runLocal(['--stdin', 'line 1\nline 2\n', '--', 'wc -l']),
    stdinFile: runLocal(['--stdin-file', '-', '--output', 'text', 'tr a-z A-Z'], { stdin: 'from a pipe\n' }),
    busyPort: runLocal(['--port', String(busyPort), 'echo never']),
    usage: runLocal(['--service', 'web', '--task', 'abc', 'ls']),
    // The fan-out state machine on the one task of `web` (the 300-task fleet is fan-out.test.ts's).
    fanOut: runLocal(['--fan-out', '--service', DEFAULT_WORLD_IDS.service, '--output', 'text', 'hostname']),
    fanOutTask: runLocal(['--fan-out', '--task', DEFAULT_WORLD_IDS.taskId, 'hostname']),
    help: runLocal(['--help']),
    execOptions: runLocal([
      ...['--env', 'GREETING=hello there', '--env', 'EMPTY=', '--workdir', '/tmp', '--user', 'nobody'],
      ...['--transfer', 'gzip', '--output', 'json'],
      'printf "%s|%s|%s|%s" "$GREETING" "$(env | grep -c ^EMPTY=$)" "$(pwd)" "$(id -un)"',
    ]),
  };
});

afterAll(async () => {
  for (const run of Object.values(runs)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await Promise.allSettled(Object.values(runs).map((run) => run.result));
  await new Promise<void>((resolve) => busy.close(() => resolve()));
});

describe('npm start', () => {
  it('passes --env, --workdir, --user and --transfer into the event', async () => {
    const { code, stdout } = await result('execOptions');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ output: 'hello there|1|/tmp|nobody', transfer: 'gzip' });
  });

  it('runs `uname -a` end to end and prints the state result as pretty JSON', async () => {
    const { code, stdout, stderr } = await result('uname');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^\{\n {2}"exitCode": 0,\n/);
    const parsed = JSON.parse(stdout) as ExecResult;
    expect(parsed).toMatchObject({
      exitCode: 0,
      output: execFileSync('uname', ['-a'], { encoding: 'utf8' }),
      truncated: false,
      cluster: DEFAULT_WORLD_IDS.cluster,
      container: 'app',
    });
    expect(parsed.sessionId).toMatch(/^ecs-execute-command-/);
    // The real agent's timings by default: nothing arrives before its first read.
    expect(parsed.durationMs).toBeGreaterThanOrEqual(AGENT_INITIAL_READ_DELAY_MS);
  });

  it('prints only the output with --output text, words after -- joined into one command', async () => {
    const { code, stdout } = await result('text');
    expect(code).toBe(0);
    // Like ssh: `printf '%s|' a b`, one command string.
    expect(stdout).toBe('a|b|');
  });

  it("exits with a failing command's exit code and prints the error and the output tail on stderr", async () => {
    const { code, stdout, stderr } = await result('failing');
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${ExecErrorName.NonZeroExit}: the command exited with code 3`);
    expect(stderr).toContain('  exitCode: 3\n');
    expect(stderr).toMatch(/--- end of the output ---\nout\nerr\n$/);
  });

  it('--kms runs an encrypted session on the KMS cluster', async () => {
    const { code, stdout } = await result('kms');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      exitCode: 0,
      output: 'encrypted\n',
      cluster: DEFAULT_WORLD_IDS.kmsCluster,
    });
  });

  it('--stdin and --stdin-file - feed the command', async () => {
    const inline = await result('stdin');
    expect(inline.code).toBe(0);
    expect((JSON.parse(inline.stdout) as ExecResult).output).toMatch(/^\s*2\n$/);
    const piped = await result('stdinFile');
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe('FROM A PIPE\n');
  });

  it('names a busy port and how to choose another, exit 64', async () => {
    const { code, stdout, stderr } = await result('busyPort');
    expect(code).toBe(RunExitCode.Usage);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(
      `npm start: cannot listen on 127.0.0.1 port ${busyPort} (EADDRINUSE); choose another with --port <n>, or --port 0 for any free port`,
    );
  });

  it('rejects contradictory options with a usage error before starting anything', async () => {
    const { code, stderr } = await result('usage');
    expect(code).toBe(ExitCode.InvalidInput);
    expect(stderr).toContain('give --service or --task, not both');
  });

  it('--fan-out prints one block per task (task id, output, exit code) and the counts', async () => {
    const { code, stdout, stderr } = await result('fanOut');
    expect(code).toBe(0);
    const hostname = execFileSync('hostname', { encoding: 'utf8' });
    expect(stdout).toBe(`==> task ${DEFAULT_WORLD_IDS.taskId} <==\n${hostname}<== exit code 0\n`);
    expect(stderr).toMatch(
      /^fan-out: 1 task of web, 1 succeeded, 0 failed\nresults: s3:\/\/\S+\/exec-output\/fan-out\/results\/[0-9a-f-]{36}\/manifest\.json\n$/,
    );
  });

  it('--fan-out runs on every task of a service: --task is a usage error', async () => {
    const { code, stderr } = await result('fanOutTask');
    expect(code).toBe(ExitCode.InvalidInput);
    expect(stderr).toContain(
      '--fan-out runs the command on every task of --service; --task cannot be used with it',
    );
  });

  it('--help prints the options and the exit codes', async () => {
    const { code, stdout } = await result('help');
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: npm start -- [options] "<command>"');
    for (const flag of [
      '--kms',
      '--state-machine',
      '--fan-out',
      '--max-concurrency N',
      '--output json|text',
      '--port N',
      '--stdin-file PATH',
    ]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toContain('124    CommandTimedOut');
  });
});
