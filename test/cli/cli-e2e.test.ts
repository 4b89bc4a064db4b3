/**
 * `ecs-exec` (bin/ecs-exec.js, a child process) against the local environment: the CLI reaches the
 * fake Step Functions and CloudFormation only through AWS_ENDPOINT_URL; each execution runs the
 * synthesized "run one command" state machine in this process, its Task calling the real handler.
 */

import { RunExitCode } from '../../cli/execution-exit-codes';
import { DEFAULT_STACK_NAME } from '../../cli/stack-names';
import { ExecErrorName } from '../../lambda/contract';
import { DEFAULT_WORLD_IDS, fleetHostname, fleetTaskId } from '../../local/fake-aws';
import { type LocalEnvironment, startLocalEnvironment } from '../../local/local-environment';
import { type ChildResult, CLI_BIN, cleanEnv, type Spawned, spawnProcess } from '../local/support';

const TIMELINE_LINE = /^\+\d+\.\d{3}s {2}\S/;

let env: LocalEnvironment;
let runs: Record<string, Spawned>;

function cli(args: readonly string[]): Spawned {
  // The fake's endpoint, region and dummy keys; no profile, no session token.
  return spawnProcess(process.execPath, [CLI_BIN, ...args], cleanEnv(env.fake.env));
}

const result = (name: string): Promise<ChildResult> => {
  const run = runs[name];
  if (run === undefined) throw new Error(`no run named ${name}`);
  return run.result;
};

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  env = await startLocalEnvironment({ fastAgent: true });
  // Synthesizes the stack once, before the CLIs start polling (the runs below then take well under a second).
  await env.runStateMachine({ command: 'true' });
  runs = {
    // No --stack or --state-machine: the default stack's output names the state machine.
    success: cli(['run', '--', "printf 'first\\nsecond'"]),
    failing: cli(['run', '--stack', DEFAULT_STACK_NAME, '--', 'echo oops; exit 6']),
    history: cli([
      'run',
      '--history',
      '--state-machine',
      env.runCommandStateMachineArn,
      '--',
      'echo timeline',
    ]),
    kms: cli([
      'run',
      '--json',
      '--cluster',
      DEFAULT_WORLD_IDS.kmsCluster,
      '--service',
      DEFAULT_WORLD_IDS.kmsService,
      '--name',
      'kms-json',
      '--',
      'echo',
      'sealed',
    ]),
    noWait: cli(['run', '--no-wait', '--name', 'fire-and-forget', '--', 'true']),
  };
});

afterAll(async () => {
  for (const run of Object.values(runs)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await Promise.allSettled(Object.values(runs).map((run) => run.result));
  await env.close();
  delete process.env.POWERTOOLS_LOG_LEVEL;
});

describe('ecs-exec run against the local environment', () => {
  it('prints exactly the output and exits 0, quiet on stderr when it is not a terminal', async () => {
    const { code, stdout, stderr } = await result('success');
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'first\nsecond', stderr: '' });
    // It found the state machine through CloudFormation and started it through Step Functions.
    const operations = env.fake.calls.map((call) => `${call.service}.${call.operation}`);
    expect(operations).toEqual(
      expect.arrayContaining(['cloudformation.DescribeStacks', 'sfn.StartExecution']),
    );
    // The run without --name got a generated, valid execution name.
    const starts = env.fake.calls
      .filter((call) => call.operation === 'StartExecution')
      .map((call) => call.input as { name?: string; input?: string });
    const start = starts.find((input) => input.input?.includes('first'));
    expect(start?.name).toMatch(/^ecs-exec-\d{8}T\d{6}-[0-9a-f]{12}$/);
  });

  it("exits with the command's code on NonZeroExit, the error and the output tail on stderr", async () => {
    const { code, stdout, stderr } = await result('failing');
    expect(code).toBe(6);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${ExecErrorName.NonZeroExit}: the command exited with code 6\n`);
    expect(stderr).toContain('--- end of the output ---\noops\n');
    expect(stderr).toMatch(
      /execution: arn:aws:states:us-east-1:123456789012:execution:EcsExecRunnerDemo-RunCommand:/,
    );
  });

  it('--history prints the execution timeline on stderr after the output', async () => {
    const { code, stdout, stderr } = await result('history');
    expect(code).toBe(0);
    expect(stdout).toBe('timeline\n');
    const lines = stderr.trimEnd().split('\n');
    expect(lines.every((line) => TIMELINE_LINE.test(line))).toBe(true);
    expect(lines.map((line) => line.replace(TIMELINE_LINE, (match) => match.slice(-1)))).toEqual([
      'ExecutionStarted',
      'PassStateEntered AddExecutionName',
      'PassStateExited AddExecutionName',
      'TaskStateEntered RunCommand',
      'TaskScheduled RunCommand',
      'TaskStarted RunCommand',
      'TaskSucceeded RunCommand',
      'TaskStateExited RunCommand',
      'ExecutionSucceeded',
    ]);
    expect(lines[0]?.startsWith('+0.000s  ')).toBe(true);
  });

  it('--json prints the raw result of an encrypted session', async () => {
    const { code, stdout } = await result('kms');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      exitCode: 0,
      output: 'sealed\n',
      cluster: DEFAULT_WORLD_IDS.kmsCluster,
    });
  });

  it('--no-wait prints the execution ARN; `history` shows it once it has run', async () => {
    const started = await result('noWait');
    const arn = `arn:aws:states:us-east-1:123456789012:execution:EcsExecRunnerDemo-RunCommand:fire-and-forget`;
    expect(started).toMatchObject({ code: 0, stdout: `${arn}\n`, stderr: '' });
    await env.fake.stateMachines.settled();
    const history = await cli(['history', arn]).result;
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/^\+0\.000s {2}ExecutionStarted\n/);
    expect(history.stdout).toMatch(/ {2}ExecutionSucceeded\n$/);
  });

  it('--fan-out prints one block per task from the S3 results and exits 83 when a task failed', async () => {
    // Three tasks of the fleet stay RUNNING (started after the runs above, so they never overlap);
    // the second answers with exit 4.
    const fleet = env.fake.world.clusters
      .flatMap((cluster) => cluster.tasks)
      .filter((task) => task.service === DEFAULT_WORLD_IDS.fleetService);
    for (const task of fleet.slice(3)) {
      task.lastStatus = 'STOPPED';
      task.desiredStatus = 'STOPPED';
    }
    const ids = [0, 1, 2].map(fleetTaskId);
    const broken = fleet.find((task) => task.id === ids[1])?.containers[0];
    if (broken === undefined) throw new Error('no fleet task to break');
    broken.shell = () => ({ output: 'no space left on device\n', exitCode: 4 });

    const { code, stdout, stderr } = await cli([
      'run',
      '--fan-out',
      '--service',
      DEFAULT_WORLD_IDS.fleetService,
      '--max-concurrency',
      '2',
      '--',
      'hostname',
    ]).result;

    expect(code).toBe(RunExitCode.TasksFailed);
    const block = (index: number, body: string, footer: string): string =>
      `==> task ${fleetTaskId(index)} <==\n${body}<== ${footer}\n`;
    const expected = [
      [ids[0], block(0, `${fleetHostname(0)}\n`, 'exit code 0')],
      [
        ids[1],
        block(1, 'no space left on device\n', 'exit code 4 (NonZeroExit; the output above is its last part)'),
      ],
      [ids[2], block(2, `${fleetHostname(2)}\n`, 'exit code 0')],
    ] as const;
    // Blocks come ordered by task id.
    const sorted = [...expected].sort(([a], [b]) => ((a ?? '') < (b ?? '') ? -1 : 1));
    expect(stdout).toBe(sorted.map(([, text]) => text).join(''));
    expect(stderr).toMatch(
      /^fan-out: 3 tasks of fleet, 2 succeeded, 1 failed \(NonZeroExit: 1\)\nresults: s3:\/\/\S+\/manifest\.json\nexecution: arn:aws:states:us-east-1:123456789012:execution:EcsExecRunnerDemo-FanOut:ecs-exec-/,
    );
    // It found the fan-out state machine through the stack and read the results through S3.
    const operations = env.fake.calls.map((call) => `${call.service}.${call.operation}`);
    expect(operations).toEqual(expect.arrayContaining(['s3.GetObject', 'sfn.DescribeMapRun']));
  });
});
