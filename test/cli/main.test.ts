/**
 * `ecs-exec` argument handling (main), the history subcommand, and the clients' timeouts and
 * retries. AWS is mocked (aws-sdk-client-mock) except for the clients test, which makes one real
 * request to the local fake endpoint.
 */
import { Readable } from 'node:stream';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CLI_CONNECTION_TIMEOUT_MS,
  CLI_MAX_ATTEMPTS,
  CLI_REQUEST_TIMEOUT_MS,
  type ClientOptions,
  createCloudFormationClient,
  createSfnClient,
} from '../../cli/clients';
import { RunExitCode } from '../../cli/execution-exit-codes';
import { ExitCode } from '../../cli/exit-codes';
import { formatTimeline } from '../../cli/history';
import { main } from '../../cli/main';
import { HISTORY_USAGE, MAIN_USAGE, RUN_USAGE } from '../../cli/usage';
import { startFakeAws } from '../../local/fake-aws';

const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:RunCommand';
const EXECUTION = 'arn:aws:states:eu-west-1:111122223333:execution:RunCommand:x';
const START = new Date('2026-11-23T10:00:00.000Z');

const sfnMock = mockClient(SFNClient);

interface Invocation {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly regions: Array<string | undefined>;
}

async function cli(argv: readonly string[], stdin?: string | Buffer): Promise<Invocation> {
  let stdout = '';
  let stderr = '';
  const regions: Array<string | undefined> = [];
  const code = await main(argv, {
    io: {
      stdout: {
        write: (text: string) => {
          stdout += text;
        },
      },
      stderr: {
        write: (text: string) => {
          stderr += text;
        },
      },
    },
    ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
    sfn: (options: ClientOptions) => {
      regions.push(options.region);
      return new SFNClient({ region: options.region ?? 'eu-west-1' });
    },
    cloudFormation: (options: ClientOptions) =>
      new CloudFormationClient({ region: options.region ?? 'eu-west-1' }),
    sleep: async () => undefined,
  });
  return { code, stdout, stderr, regions };
}

beforeEach(() => {
  sfnMock.reset();
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: START });
  sfnMock.on(DescribeExecutionCommand).resolves({
    executionArn: EXECUTION,
    stateMachineArn: MACHINE,
    startDate: START,
    status: 'SUCCEEDED',
    output: JSON.stringify({ exitCode: 0, output: 'ok\n' }),
  });
});

describe('ecs-exec', () => {
  it('runs the words after -- as one command and exits with its code', async () => {
    const { code, stdout, stderr, regions } = await cli([
      'run',
      '--state-machine',
      MACHINE,
      '--region',
      'ap-northeast-1',
      '--timeout',
      '30',
      '--',
      'ls',
      '-la',
      '/tmp',
    ]);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
    expect(regions).toEqual(['ap-northeast-1']);
    const input = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input).toEqual({ command: 'ls -la /tmp', timeoutSeconds: 30 });
  });

  it('reads --stdin-file - from its stdin', async () => {
    await cli(['run', '--state-machine', MACHINE, '--stdin-file', '-', '--', 'cat'], 'piped\n');
    const input = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input).toEqual({ command: 'cat', stdin: 'piped\n' });
  });

  it('sends --env, --user, --workdir and --transfer as the event fields npm start sends', async () => {
    const { code } = await cli([
      'run',
      '--state-machine',
      MACHINE,
      '--env',
      'GREETING=hello world',
      '--env',
      'EMPTY=',
      '--user',
      'app',
      '--workdir',
      '/srv/app',
      '--transfer',
      'gzip',
      '--',
      'env',
    ]);
    expect(code).toBe(0);
    const input = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input).toEqual({
      command: 'env',
      environment: { GREETING: 'hello world', EMPTY: '' },
      user: 'app',
      workingDirectory: '/srv/app',
      transfer: 'gzip',
    });
  });

  it('sends --stdin-file bytes that are not UTF-8 as stdinBase64, exactly', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0xc3]);
    const { code, stdout } = await cli(
      ['run', '--state-machine', MACHINE, '--stdin-file', '-', '--', 'od -c'],
      bytes,
    );
    expect({ code, stdout }).toEqual({ code: 0, stdout: 'ok\n' });
    const input = JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input).toEqual({ command: 'od -c', stdinBase64: bytes.toString('base64') });
  });

  it('answers bad arguments with a one-line usage error, exit 64, before any AWS call', async () => {
    const cases: Array<[string[], string]> = [
      [['run', '--bogus', '--', 'ls'], "Unknown option '--bogus'"],
      [['run', '--state-machine'], "Option '--state-machine <value>' argument missing"],
      [['run', '--state-machine', MACHINE], 'no command given'],
      [['run', '--stdin', 'a', '--stdin-file', 'b', '--', 'cat'], 'give --stdin or --stdin-file, not both'],
      [
        ['run', '--poll-max-seconds', '0', '--', 'ls'],
        '--poll-max-seconds must be a positive number, got "0"',
      ],
      [['run', '--timeout', 'ten', '--', 'ls'], '--timeout must be a whole number of seconds, got "ten"'],
      [['run', '--env', 'NOEQUALS', '--', 'env'], '--env must be NAME=VALUE'],
      [['run', '--env', '=value', '--', 'env'], '--env must be NAME=VALUE'],
      [
        ['run', '--transfer', 'brotli', '--', 'ls'],
        '--transfer must be one of auto, zstd, xz, gzip, plain, got "brotli"',
      ],
      [['history'], 'give one execution ARN'],
    ];
    for (const [argv, message] of cases) {
      const { code, stdout, stderr } = await cli(argv);
      expect({ argv, code, stdout }).toEqual({ argv, code: RunExitCode.Usage, stdout: '' });
      expect(stderr.startsWith('ecs-exec: ')).toBe(true);
      expect(stderr).toContain(message);
    }
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('prints help on stdout (exit 0), and the usage on stderr for a missing or unknown command (64)', async () => {
    expect(await cli(['--help'])).toMatchObject({ code: 0, stdout: MAIN_USAGE });
    expect(await cli(['help', 'run'])).toMatchObject({ code: 0, stdout: RUN_USAGE });
    expect(await cli(['run', '-h'])).toMatchObject({ code: 0, stdout: RUN_USAGE });
    expect(await cli(['history', '--help'])).toMatchObject({ code: 0, stdout: HISTORY_USAGE });
    expect(await cli([])).toMatchObject({ code: RunExitCode.Usage, stdout: '', stderr: MAIN_USAGE });
    const unknown = await cli(['start']);
    expect(unknown.code).toBe(RunExitCode.Usage);
    expect(unknown.stderr.startsWith('ecs-exec: unknown command "start"\n')).toBe(true);
  });

  it('documents every flag and every exit code in `run --help`', () => {
    for (const flag of [
      '--state-machine ARN',
      '--stack NAME',
      '--region REGION',
      '--cluster NAME|ARN',
      '--service NAME',
      '--task ID|ARN',
      '--container NAME',
      '--timeout SECONDS',
      '--stdin TEXT',
      '--stdin-file PATH',
      '--env NAME=VALUE',
      '--user NAME|UID',
      '--workdir PATH',
      '--transfer MODE',
      '--tty',
      '--raw',
      '--idempotency-key KEY',
      '--name NAME',
      '--no-wait',
      '--poll-max-seconds N',
      '--json',
      '--history',
    ]) {
      expect(RUN_USAGE).toContain(flag);
    }
    for (const line of [
      '64     InvalidInput',
      '68     TargetNotFound',
      '124    CommandTimedOut',
      '80     the execution timed out',
      '81     the execution was stopped',
      '82     still running',
      '130    interrupted',
    ]) {
      expect(RUN_USAGE).toContain(line);
    }
  });

  it('reports an AWS error by name with exit 70', async () => {
    sfnMock.on(StartExecutionCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: states:StartExecution'), {
        name: 'AccessDeniedException',
      }),
    );
    const { code, stderr } = await cli(['run', '--state-machine', MACHINE, '--', 'ls']);
    expect(code).toBe(ExitCode.Unexpected);
    expect(stderr).toBe(
      'ecs-exec: AccessDeniedException: User is not authorized to perform: states:StartExecution\n',
    );
  });

  it('history prints the timeline of an execution on stdout', async () => {
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 1, previousEventId: 0, timestamp: START, type: 'ExecutionStarted' },
        {
          id: 2,
          previousEventId: 1,
          timestamp: new Date(START.getTime() + 2500),
          type: 'ExecutionFailed',
          executionFailedEventDetails: { error: 'NonZeroExit', cause: '{}' },
        },
      ],
    });
    const { code, stdout } = await cli(['history', EXECUTION]);
    expect(code).toBe(0);
    expect(stdout).toBe('+0.000s  ExecutionStarted\n+2.500s  ExecutionFailed NonZeroExit\n');
  });
});

describe('formatTimeline', () => {
  it('names the state of task events, adds error names and aligns the times', () => {
    const at = (ms: number) => new Date(START.getTime() + ms);
    expect(
      formatTimeline([
        { id: 1, previousEventId: 0, timestamp: at(0), type: 'ExecutionStarted' },
        {
          id: 2,
          previousEventId: 1,
          timestamp: at(5),
          type: 'TaskStateEntered',
          stateEnteredEventDetails: { name: 'RunCommand' },
        },
        {
          id: 3,
          previousEventId: 2,
          timestamp: at(6),
          type: 'TaskScheduled',
          taskScheduledEventDetails: {
            resource: 'invoke',
            resourceType: 'lambda',
            region: 'r',
            parameters: '{}',
          },
        },
        {
          id: 4,
          previousEventId: 3,
          timestamp: at(10_500),
          type: 'TaskFailed',
          taskFailedEventDetails: { resource: 'invoke', resourceType: 'lambda', error: 'AgentNotReady' },
        },
        {
          id: 5,
          previousEventId: 4,
          timestamp: at(12_000),
          type: 'FailStateEntered',
          stateEnteredEventDetails: { name: 'CommandFailed' },
        },
        {
          id: 6,
          previousEventId: 5,
          timestamp: at(12_001),
          type: 'ExecutionFailed',
          executionFailedEventDetails: { error: 'AgentNotReady' },
        },
      ]),
    ).toBe(
      [
        ' +0.000s  ExecutionStarted',
        ' +0.005s  TaskStateEntered RunCommand',
        ' +0.006s  TaskScheduled RunCommand',
        '+10.500s  TaskFailed RunCommand AgentNotReady',
        '+12.000s  FailStateEntered CommandFailed',
        '+12.001s  ExecutionFailed AgentNotReady',
        '',
      ].join('\n'),
    );
    expect(formatTimeline([])).toBe('');
  });
});

describe('the CLI clients', () => {
  it('have explicit connection and request timeouts and at most 3 attempts', async () => {
    sfnMock.restore();
    const fake = await startFakeAws();
    const restoreEnv = fake.applyEnv();
    const sfn = createSfnClient();
    const cfn = createCloudFormationClient({ region: 'eu-central-1' });
    try {
      expect(await sfn.config.maxAttempts()).toBe(CLI_MAX_ATTEMPTS);
      expect(((await sfn.config.retryStrategy()) as { mode?: string }).mode).toBe('standard');
      expect(await cfn.config.maxAttempts()).toBe(CLI_MAX_ATTEMPTS);
      expect(await cfn.config.region()).toBe('eu-central-1');
      const handler = sfn.config.requestHandler;
      expect(handler).toBeInstanceOf(NodeHttpHandler);
      // The handler resolves its settings on the first request.
      await sfn.send(new DescribeExecutionCommand({ executionArn: EXECUTION })).catch(() => undefined);
      expect((handler as NodeHttpHandler).httpHandlerConfigs()).toMatchObject({
        connectionTimeout: CLI_CONNECTION_TIMEOUT_MS,
        requestTimeout: CLI_REQUEST_TIMEOUT_MS,
      });
      expect([CLI_CONNECTION_TIMEOUT_MS, CLI_REQUEST_TIMEOUT_MS]).toEqual([3_000, 10_000]);
    } finally {
      sfn.destroy();
      cfn.destroy();
      restoreEnv();
      await fake.close();
    }
  });
});
