/**
 * `ecs-exec run` against mocked Step Functions and CloudFormation clients (aws-sdk-client-mock):
 * the event sent, the polling back-off, and what each end of an execution prints and exits with.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { RunExitCode } from '../../cli/execution-exit-codes';
import { ExitCode } from '../../cli/exit-codes';
import {
  generateExecutionName,
  nextPollDelay,
  POLL_INITIAL_DELAY_MS,
  POLL_MAX_DELAY_MS,
  type RunDeps,
  type RunOptions,
  runCommand,
} from '../../cli/run';
import { Spinner } from '../../cli/spinner';
import { DEFAULT_STACK_NAME } from '../../cli/stack-names';
import { ExecErrorName, type ExecResult } from '../../lambda/contract';

const REGION = 'eu-west-1';
const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:RunCommand';
const NAME = 'ecs-exec-test-0001';
const EXECUTION = `arn:aws:states:eu-west-1:111122223333:execution:RunCommand:${NAME}`;
const START = new Date('2026-11-23T10:00:00.000Z');

/** What the spinner writes to redraw its line: carriage return, erase line. */
const CLEAR_LINE = '\r\u001b[2K';

const sfnMock = mockClient(SFNClient);
const cfnMock = mockClient(CloudFormationClient);

interface Harness {
  readonly deps: RunDeps;
  readonly out: { stdout: string; stderr: string };
  readonly sleeps: number[];
  readonly controller: AbortController;
}

function harness(options: { readonly tty?: boolean } = {}): Harness {
  const out = { stdout: '', stderr: '' };
  const sleeps: number[] = [];
  let clock = START.getTime();
  const controller = new AbortController();
  const deps: RunDeps = {
    sfn: new SFNClient({ region: REGION }),
    cloudFormation: () => new CloudFormationClient({ region: REGION }),
    io: {
      stdout: {
        write: (text: string) => {
          out.stdout += text;
        },
      },
      stderr: {
        isTTY: options.tty === true,
        write: (text: string) => {
          out.stderr += text;
        },
      },
    },
    signal: controller.signal,
    // A fake clock: each wait moves time on by exactly the wait.
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    executionName: () => NAME,
  };
  return { deps, out, sleeps, controller };
}

const options = (extra: Partial<RunOptions> = {}): RunOptions => ({
  command: ['echo', 'hello'],
  stateMachine: MACHINE,
  wait: true,
  history: false,
  json: false,
  ...extra,
});

function result(extra: Partial<ExecResult> = {}): ExecResult {
  return {
    exitCode: 0,
    output: 'hello\n',
    outputBytes: 6,
    truncated: false,
    cluster: 'prod',
    taskArn: 'arn:aws:ecs:eu-west-1:111122223333:task/prod/abc',
    container: 'app',
    sessionId: 'ecs-execute-command-0123',
    startedAt: START.toISOString(),
    durationMs: 1234,
    ...extra,
  };
}

const running: DescribeExecutionCommandOutput = {
  $metadata: {},
  executionArn: EXECUTION,
  stateMachineArn: MACHINE,
  status: 'RUNNING',
  startDate: START,
};

function ended(extra: Partial<DescribeExecutionCommandOutput>): DescribeExecutionCommandOutput {
  return { ...running, stopDate: START, ...extra };
}

const succeeded = (value: unknown) => ended({ status: 'SUCCEEDED', output: JSON.stringify(value) });

function lambdaCause(errorType: string, message: Record<string, unknown> | string): string {
  const errorMessage = typeof message === 'string' ? message : JSON.stringify(message);
  return JSON.stringify({ errorType, errorMessage, trace: [] });
}

function awsError(name: string, message: string, attempts = 1): Error {
  return Object.assign(new Error(message), { name, $metadata: { attempts } });
}

/** DescribeStacks' answer for the default stack with these outputs. */
function stackWithOutputs(outputs: Record<string, string>) {
  return {
    Stacks: [
      {
        StackName: DEFAULT_STACK_NAME,
        CreationTime: START,
        StackStatus: 'CREATE_COMPLETE' as const,
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  };
}

beforeEach(() => {
  sfnMock.reset();
  cfnMock.reset();
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: START });
});

describe('starting the execution', () => {
  it('sends the exec event of the contract, with an execution name', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(succeeded(result()));
    const { deps } = harness();

    await runCommand(
      options({
        command: ['python', 'manage.py', 'migrate'],
        cluster: 'prod',
        service: 'web',
        container: 'app',
        timeout: '600',
        stdin: 'y\n',
        tty: true,
        raw: true,
        idempotencyKey: 'deploy-42',
      }),
      deps,
    );

    const calls = sfnMock.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.stateMachineArn).toBe(MACHINE);
    expect(input?.name).toBe(NAME);
    expect(JSON.parse(input?.input ?? '{}')).toEqual({
      command: 'python manage.py migrate',
      cluster: 'prod',
      service: 'web',
      container: 'app',
      timeoutSeconds: 600,
      stdin: 'y\n',
      tty: true,
      shell: false,
      idempotencyKey: 'deploy-42',
    });
  });

  it('names executions uniquely and validly when --name is not given', () => {
    const a = generateExecutionName(START);
    expect(a).toMatch(/^ecs-exec-20261123T100000-[0-9a-f]{12}$/);
    expect(a.length).toBeLessThanOrEqual(80);
    expect(generateExecutionName(START)).not.toBe(a);
  });

  it('uses --name as the execution name', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(succeeded(result()));
    const { deps } = harness();
    await runCommand(options({ name: 'nightly-migrate' }), deps);
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.name).toBe('nightly-migrate');
  });

  it('adopts its own execution when a retried StartExecution finds it already there', async () => {
    const { deps } = harness();
    const input = JSON.stringify({ command: 'echo hello' });
    sfnMock.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists', 'Execution Already Exists'));
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce(ended({ status: 'RUNNING', input }))
      .resolves(succeeded(result()));

    await expect(runCommand(options(), deps)).resolves.toBe(0);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(EXECUTION);

    // With --name too, when the SDK retried (the first attempt's answer was lost) and the input matches.
    sfnMock.reset();
    sfnMock
      .on(StartExecutionCommand)
      .rejects(awsError('ExecutionAlreadyExists', 'Execution Already Exists', 2));
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce(ended({ status: 'SUCCEEDED', input }))
      .resolves(succeeded(result()));
    await expect(runCommand(options({ name: NAME }), harness().deps)).resolves.toBe(0);
  });

  it('refuses a --name that is taken (exit 64)', async () => {
    const { deps } = harness();
    sfnMock.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists', 'Execution Already Exists'));
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves(ended({ status: 'SUCCEEDED', input: '{"command":"other"}' }));

    await expect(runCommand(options({ name: NAME }), deps)).rejects.toMatchObject({
      exitCode: RunExitCode.Usage,
      message: `an execution named ${NAME} already exists (${EXECUTION}); choose another --name`,
    });
    // A first attempt with a name the user chose is not checked against: it is simply taken.
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('refuses contradictory options before calling AWS', async () => {
    const { deps } = harness();
    for (const [bad, message] of [
      [{ stack: 'S' }, 'give --state-machine or --stack, not both'],
      [{ wait: false, history: true }, '--history needs the execution to end'],
      [{ name: 'has space' }, '--name must be 1-80 letters'],
      [{ service: 's', task: 't' }, 'give --service or --task, not both'],
    ] as const) {
      await expect(runCommand(options(bad), deps)).rejects.toMatchObject({
        exitCode: RunExitCode.Usage,
        message: expect.stringContaining(message),
      });
    }
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('finding the state machine from a stack', () => {
  it('takes the RunCommandStateMachineArn output of the default stack when given neither', async () => {
    cfnMock
      .on(DescribeStacksCommand)
      .resolves(stackWithOutputs({ FanOutStateMachineArn: 'arn:other', RunCommandStateMachineArn: MACHINE }));
    sfnMock.on(DescribeExecutionCommand).resolves(succeeded(result()));
    const { deps } = harness();

    await runCommand(options({ stateMachine: undefined }), deps);

    expect(cfnMock.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({
      StackName: DEFAULT_STACK_NAME,
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.stateMachineArn).toBe(MACHINE);
  });

  it('accepts one output whose key contains the name (the construct under another id)', async () => {
    cfnMock.on(DescribeStacksCommand, { StackName: 'Mine' }).resolves({
      Stacks: [
        {
          StackName: 'Mine',
          CreationTime: START,
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [{ OutputKey: 'OpsRunCommandStateMachineArnA1B2', OutputValue: MACHINE }],
        },
      ],
    });
    sfnMock.on(DescribeExecutionCommand).resolves(succeeded(result()));
    const { deps } = harness();
    await runCommand(options({ stateMachine: undefined, stack: 'Mine' }), deps);
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.stateMachineArn).toBe(MACHINE);
  });

  it('explains a missing stack or output (exit 64)', async () => {
    const { deps } = harness();
    cfnMock
      .on(DescribeStacksCommand, { StackName: 'Gone' })
      .rejects(awsError('ValidationError', 'Stack with id Gone does not exist'));
    cfnMock.on(DescribeStacksCommand, { StackName: 'Bare' }).resolves({
      Stacks: [
        {
          StackName: 'Bare',
          CreationTime: START,
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'Something', OutputValue: 'x' }],
        },
      ],
    });
    await expect(runCommand(options({ stateMachine: undefined, stack: 'Gone' }), deps)).rejects.toMatchObject(
      {
        exitCode: RunExitCode.Usage,
        message: expect.stringContaining('stack Gone does not exist'),
      },
    );
    await expect(runCommand(options({ stateMachine: undefined, stack: 'Bare' }), deps)).rejects.toMatchObject(
      {
        exitCode: RunExitCode.Usage,
        message: expect.stringContaining(
          'has no output named like RunCommandStateMachineArn (outputs: Something)',
        ),
      },
    );
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('waiting', () => {
  it('backs off from 0.5 s by 1.5 times to 5 s', async () => {
    expect([undefined, 500, 750, 1125, 1688, 2532, 3798, 5000].map(nextPollDelay)).toEqual([
      POLL_INITIAL_DELAY_MS,
      750,
      1125,
      1688,
      2532,
      3798,
      POLL_MAX_DELAY_MS,
      POLL_MAX_DELAY_MS,
    ]);
    const describe = sfnMock.on(DescribeExecutionCommand);
    for (let i = 0; i < 8; i += 1) describe.resolvesOnce(running);
    describe.resolves(succeeded(result()));
    const { deps, sleeps } = harness();

    await runCommand(options(), deps);

    expect(sleeps).toEqual([500, 750, 1125, 1688, 2532, 3798, 5000, 5000, 5000]);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(9);
  });

  it('--no-wait prints the execution ARN and does not poll', async () => {
    const { deps, out } = harness();
    await expect(runCommand(options({ wait: false }), deps)).resolves.toBe(ExitCode.Success);
    expect(out.stdout).toBe(`${EXECUTION}\n`);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  it('gives up at --poll-max-seconds with exit 82, the execution going on', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(running);
    const { deps, out, sleeps } = harness();
    await expect(runCommand(options({ pollMaxSeconds: 3 }), deps)).resolves.toBe(RunExitCode.StillRunning);
    // The last wait is cut to the deadline.
    expect(sleeps).toEqual([500, 750, 1125, 625]);
    expect(out.stderr).toBe(`still running after --poll-max-seconds 3: ${EXECUTION}\n`);
    expect(out.stdout).toBe('');
  });

  it('stops waiting on Ctrl-C (130) or SIGTERM (143) and says how to stop the execution', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(running);
    for (const [signal, code] of [
      ['SIGINT', RunExitCode.Interrupted],
      ['SIGTERM', RunExitCode.Terminated],
    ] as const) {
      const { deps, out, controller } = harness();
      const sleep = deps.sleep;
      const interrupted: RunDeps = {
        ...deps,
        sleep: async (ms, signalArg) => {
          await sleep?.(ms, signalArg);
          controller.abort(signal);
        },
      };
      await expect(runCommand(options(), interrupted)).resolves.toBe(code);
      expect(out.stderr).toContain(`interrupted; the execution goes on: ${EXECUTION}`);
      expect(out.stderr).toContain(`aws stepfunctions stop-execution --execution-arn ${EXECUTION}`);
    }
  });
});

describe('the end of the execution', () => {
  it('prints exactly the output and exits with the exit code', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(succeeded(result({ output: 'no newline at the end' })));
    const { deps, out } = harness();
    await expect(runCommand(options(), deps)).resolves.toBe(0);
    expect(out).toEqual({ stdout: 'no newline at the end', stderr: '' });
  });

  it('passes a non-zero exit code of a successful state through, and null (raw mode) as 0', async () => {
    sfnMock.on(DescribeExecutionCommand).resolvesOnce(succeeded(result({ exitCode: 2 })));
    const first = harness();
    await expect(runCommand(options(), first.deps)).resolves.toBe(2);
    sfnMock.on(DescribeExecutionCommand).resolves(succeeded(result({ exitCode: null, output: 'raw\n' })));
    const second = harness();
    await expect(runCommand(options({ raw: true }), second.deps)).resolves.toBe(0);
    expect(second.out.stdout).toBe('raw\n');
  });

  it('notes on stderr when the output was shortened, with the S3 copy', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(
      succeeded(
        result({
          truncated: true,
          outputBytes: 5_000_000,
          outputS3Uri: 's3://bucket/runs/x.txt',
          output: 'head…tail',
        }),
      ),
    );
    const { deps, out } = harness();
    await runCommand(options(), deps);
    expect(out.stdout).toBe('head…tail');
    expect(out.stderr).toBe(
      'note: the output (5000000 bytes) was shortened to fit the Step Functions result; all of it is in s3://bucket/runs/x.txt\n',
    );
  });

  it('--json prints the raw result', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(succeeded(result()));
    const { deps, out } = harness();
    await runCommand(options({ json: true }), deps);
    expect(out.stdout).toBe(`${JSON.stringify(result(), null, 2)}\n`);
  });

  it('NonZeroExit: the command exit code, the message and the output tail on stderr', async () => {
    const cause = lambdaCause(ExecErrorName.NonZeroExit, {
      message: 'the command exited with code 7',
      exitCode: 7,
      cluster: 'prod',
      outputTail: 'boom\n',
    });
    sfnMock.on(DescribeExecutionCommand).resolves(ended({ status: 'FAILED', error: 'NonZeroExit', cause }));
    const { deps, out } = harness();
    await expect(runCommand(options(), deps)).resolves.toBe(7);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe(
      [
        'NonZeroExit: the command exited with code 7',
        '  exitCode: 7',
        '  cluster: prod',
        '--- end of the output ---',
        'boom',
        `execution: ${EXECUTION}`,
        '',
      ].join('\n'),
    );
  });

  it('maps each error name to its exit code, whichever shape the cause has', async () => {
    const cases: Array<[string, string, number]> = [
      [
        ExecErrorName.TargetNotFound,
        lambdaCause('TargetNotFound', { message: 'no task' }),
        ExitCode.TargetNotFound,
      ],
      // A callback (SendTaskFailure) gives the JSON message itself as the cause.
      [ExecErrorName.AgentNotReady, JSON.stringify({ message: 'agent starting' }), ExitCode.AgentNotReady],
      [ExecErrorName.InvalidInput, lambdaCause('InvalidInput', 'unknown field "x"'), ExitCode.InvalidInput],
      [ExecErrorName.ExecuteCommandDenied, lambdaCause('ExecuteCommandDenied', { message: 'denied' }), 77],
      [ExecErrorName.SessionFailed, lambdaCause('SessionFailed', { message: 'dropped' }), 69],
      [ExecErrorName.CommandTimedOut, lambdaCause('CommandTimedOut', { message: 'late' }), 124],
      ['States.Timeout', 'Task timed out', ExitCode.Unexpected],
    ];
    for (const [error, cause, code] of cases) {
      sfnMock.on(DescribeExecutionCommand).resolves(ended({ status: 'FAILED', error, cause }));
      const { deps, out } = harness();
      await expect(runCommand(options(), deps)).resolves.toBe(code);
      expect(out.stderr.startsWith(`${error}: `)).toBe(true);
    }
  });

  it('--json prints the failure as Step Functions gives it', async () => {
    const cause = lambdaCause('NonZeroExit', { message: 'm', exitCode: 1 });
    sfnMock.on(DescribeExecutionCommand).resolves(ended({ status: 'FAILED', error: 'NonZeroExit', cause }));
    const { deps, out } = harness();
    await expect(runCommand(options({ json: true }), deps)).resolves.toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({
      executionArn: EXECUTION,
      status: 'FAILED',
      error: 'NonZeroExit',
      cause,
    });
  });

  it('TIMED_OUT exits 80 and ABORTED 81', async () => {
    for (const [status, code] of [
      ['TIMED_OUT', RunExitCode.ExecutionTimedOut],
      ['ABORTED', RunExitCode.ExecutionAborted],
    ] as const) {
      sfnMock.on(DescribeExecutionCommand).resolves(ended({ status }));
      const { deps, out } = harness();
      await expect(runCommand(options(), deps)).resolves.toBe(code);
      expect(out.stderr).toContain(EXECUTION);
    }
  });

  it('--history prints the timeline on stderr after the output, reading every page', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(succeeded(result()));
    const at = (ms: number) => new Date(START.getTime() + ms);
    sfnMock
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({
        events: [
          { id: 1, previousEventId: 0, timestamp: at(0), type: 'ExecutionStarted' },
          {
            id: 2,
            previousEventId: 1,
            timestamp: at(12),
            type: 'TaskStateEntered',
            stateEnteredEventDetails: { name: 'RunCommand' },
          },
        ],
        nextToken: 'page-2',
      })
      .resolvesOnce({
        events: [
          {
            id: 3,
            previousEventId: 2,
            timestamp: at(1204),
            type: 'TaskSucceeded',
            taskSucceededEventDetails: { resource: 'invoke', resourceType: 'lambda' },
          },
          { id: 4, previousEventId: 3, timestamp: at(1210), type: 'ExecutionSucceeded' },
        ],
      });
    const { deps, out } = harness();

    await runCommand(options({ history: true }), deps);

    expect(out.stdout).toBe('hello\n');
    expect(out.stderr).toBe(
      [
        '+0.000s  ExecutionStarted',
        '+0.012s  TaskStateEntered RunCommand',
        '+1.204s  TaskSucceeded RunCommand',
        '+1.210s  ExecutionSucceeded',
        '',
      ].join('\n'),
    );
    const pages = sfnMock.commandCalls(GetExecutionHistoryCommand).map((call) => call.args[0].input);
    expect(pages).toEqual([
      { executionArn: EXECUTION, maxResults: 1000, includeExecutionData: false },
      { executionArn: EXECUTION, maxResults: 1000, includeExecutionData: false, nextToken: 'page-2' },
    ]);
  });
});

describe('the spinner', () => {
  it('draws on a terminal only, with the elapsed time, and clears its line', async () => {
    sfnMock.on(DescribeExecutionCommand).resolvesOnce(running).resolves(succeeded(result()));
    const piped = harness();
    await runCommand(options(), piped.deps);
    expect(piped.out.stderr).toBe('');

    const tty = harness({ tty: true });
    await runCommand(options(), tty.deps);
    expect(tty.out.stderr.startsWith(`${CLEAR_LINE}⠋ ecs-exec-test-0001 0.0s`)).toBe(true);
    expect(tty.out.stderr.endsWith(CLEAR_LINE)).toBe(true);
    expect(tty.out.stdout).toBe('hello\n');
  });

  it('shows the status and the seconds since it started', () => {
    let now = 0;
    const lines: string[] = [];
    const spinner = new Spinner(
      { isTTY: true, write: (text: string) => lines.push(text) },
      'run-1',
      () => now,
    );
    spinner.start();
    now = 2_345;
    spinner.update('RUNNING');
    expect(spinner.line()).toBe('⠙ run-1 RUNNING 2.3s');
    spinner.stop();
    expect(new Spinner({ isTTY: false, write: () => undefined }, 'x').enabled).toBe(false);
  });
});

describe('--fan-out', () => {
  const FAN_OUT_MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:FanOut';
  const RESULTS = { Bucket: 'results', Key: 'fan-out/results/run-1/manifest.json' };
  const summary = (failed: number) => ({
    cluster: 'prod',
    service: 'web',
    total: 2,
    succeeded: 2 - failed,
    failed,
    timedOut: 0,
    aborted: 0,
    mapRunArn: 'arn:aws:states:eu-west-1:111122223333:mapRun:FanOut/RunOnEachTask:run-1',
    results: RESULTS,
  });
  const taskArn = (id: string) => `arn:aws:ecs:eu-west-1:111122223333:task/prod/${id}`;
  const objects: Record<string, string> = {
    [RESULTS.Key]: JSON.stringify({
      DestinationBucket: 'results',
      MapRunArn: 'm',
      ResultFiles: {
        SUCCEEDED: [{ Key: 'fan-out/results/run-1/SUCCEEDED_0.json', Size: 1 }],
        FAILED: [{ Key: 'fan-out/results/run-1/FAILED_0.json', Size: 1 }],
        PENDING: [],
      },
    }),
    'fan-out/results/run-1/SUCCEEDED_0.json': JSON.stringify([
      {
        Status: 'SUCCEEDED',
        Input: JSON.stringify({ command: 'df -h /', task: taskArn('b2') }),
        Output: JSON.stringify(result({ output: 'disk ok', exitCode: 0 })),
      },
    ]),
    'fan-out/results/run-1/FAILED_0.json': JSON.stringify([
      {
        Status: 'FAILED',
        Input: JSON.stringify({ command: 'df -h /', task: taskArn('a1') }),
        Error: ExecErrorName.SessionFailed,
        Cause: lambdaCause(ExecErrorName.SessionFailed, { message: 'the data channel dropped' }),
      },
    ]),
  };
  const withReader = (deps: RunDeps): RunDeps => ({
    ...deps,
    readObject: () => async (bucket, key) => {
      const body = bucket === RESULTS.Bucket ? objects[key] : undefined;
      if (body === undefined) throw new Error(`NoSuchKey ${bucket}/${key}`);
      return body;
    },
  });

  it('starts the stack’s fan-out state machine with maxConcurrency and prints a block per task', async () => {
    cfnMock
      .on(DescribeStacksCommand)
      .resolves(
        stackWithOutputs({ RunCommandStateMachineArn: MACHINE, FanOutStateMachineArn: FAN_OUT_MACHINE }),
      );
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves(ended({ status: 'FAILED', error: 'TasksFailed', cause: JSON.stringify(summary(1)) }));
    const { deps, out } = harness();

    const code = await runCommand(
      options({
        stateMachine: undefined,
        fanOut: true,
        service: 'web',
        maxConcurrency: '5',
        command: ['df', '-h', '/'],
      }),
      withReader(deps),
    );

    expect(code).toBe(RunExitCode.TasksFailed);
    const input = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(input?.stateMachineArn).toBe(FAN_OUT_MACHINE);
    expect(JSON.parse(input?.input ?? '{}')).toEqual({
      command: 'df -h /',
      service: 'web',
      maxConcurrency: 5,
    });
    expect(out.stdout).toBe(
      '==> task a1 <==\n<== SessionFailed: the data channel dropped\n==> task b2 <==\ndisk ok\n<== exit code 0\n',
    );
    expect(out.stderr).toBe(
      `fan-out: 2 tasks of web, 1 succeeded, 1 failed (SessionFailed: 1)\nresults: s3://results/${RESULTS.Key}\nexecution: ${EXECUTION}\n`,
    );
  });

  it('exits 0 when every task succeeded, and --json prints the summary and the tasks', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(succeeded({ ...summary(0) }));
    const { deps, out } = harness();
    const allGood = {
      ...objects,
      [RESULTS.Key]: JSON.stringify({
        ResultFiles: { SUCCEEDED: [{ Key: 'fan-out/results/run-1/SUCCEEDED_0.json' }] },
      }),
    };
    const code = await runCommand(options({ fanOut: true, json: true, service: 'web' }), {
      ...deps,
      readObject: () => async (_bucket, key) => allGood[key] ?? '',
    });
    expect(code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({
      status: 'SUCCEEDED',
      summary: { total: 2, failed: 0 },
      tasks: [{ taskId: 'b2', exitCode: 0, output: 'disk ok', status: 'SUCCEEDED' }],
    });
  });

  it('reports a failure before any task ran (e.g. no RUNNING task) as for a single run', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves(
      ended({
        status: 'FAILED',
        error: ExecErrorName.TargetNotFound,
        cause: lambdaCause(
          ExecErrorName.TargetNotFound,
          'service "web" in cluster "prod" has no RUNNING tasks',
        ),
      }),
    );
    const { deps, out } = harness();
    const code = await runCommand(options({ fanOut: true, service: 'web' }), withReader(deps));
    expect(code).toBe(ExitCode.TargetNotFound);
    expect(out.stderr).toContain('TargetNotFound: service "web" in cluster "prod" has no RUNNING tasks');
  });

  it('refuses --task and a --max-concurrency without --fan-out', async () => {
    const { deps } = harness();
    await expect(runCommand(options({ fanOut: true, task: 'abc' }), deps)).rejects.toThrow(
      '--fan-out runs the command on every task of --service; --task cannot be used with it',
    );
    await expect(runCommand(options({ maxConcurrency: '3' }), deps)).rejects.toThrow(
      '--max-concurrency needs --fan-out',
    );
    await expect(runCommand(options({ fanOut: true, maxConcurrency: 'lots' }), deps)).rejects.toThrow(
      '--max-concurrency must be a whole number, got "lots"',
    );
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
