/**
 * The local environment in this process: the real handler against the fake endpoint and the agent
 * double (fast timings), the synthesized "run one command" state machine, and the same state
 * machine and stack reached through the SDK (Step Functions and CloudFormation).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ExecErrorName, type ExecResult } from '../../lambda/contract';
import { DEFAULT_WORLD_IDS } from '../../local/fake-aws';
import {
  LAMBDA_MAX_TIMEOUT_MS,
  LOCAL_STACK_NAME,
  type LocalEnvironment,
  lambdaContext,
  startLocalEnvironment,
} from '../../local/local-environment';

const SENTINEL_ENDPOINT = 'http://sentinel.invalid';
const SENTINEL_PROFILE = 'a-developer-profile';

let env: LocalEnvironment;
let sfn: SFNClient;
let savedEndpoint: string | undefined;
let savedProfile: string | undefined;

beforeAll(async () => {
  savedEndpoint = process.env.AWS_ENDPOINT_URL;
  savedProfile = process.env.AWS_PROFILE;
  process.env.AWS_ENDPOINT_URL = SENTINEL_ENDPOINT;
  process.env.AWS_PROFILE = SENTINEL_PROFILE;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  env = await startLocalEnvironment({ fastAgent: true });
  sfn = new SFNClient({ maxAttempts: 1 });
});

afterAll(async () => {
  sfn.destroy();
  await env.close();
  const endpoint = process.env.AWS_ENDPOINT_URL;
  const profile = process.env.AWS_PROFILE;
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
  if (savedProfile === undefined) delete process.env.AWS_PROFILE;
  else process.env.AWS_PROFILE = savedProfile;
  delete process.env.POWERTOOLS_LOG_LEVEL;
  // close() put back what was there before the environment started.
  expect({ endpoint, profile }).toEqual({ endpoint: SENTINEL_ENDPOINT, profile: SENTINEL_PROFILE });
});

describe('startLocalEnvironment', () => {
  it('points the SDK at the fake only through the standard variables, without the developer profile', () => {
    expect(process.env.AWS_ENDPOINT_URL).toBe(env.fake.endpoint);
    expect(process.env.AWS_PROFILE).toBeUndefined();
  });

  it('refuses a second environment in the same process (the handler keeps its clients)', async () => {
    await expect(startLocalEnvironment()).rejects.toThrow(/already started in this process/);
  });

  it('invokes the real handler on the default cluster and service', async () => {
    const result = (await env.invoke({ command: 'echo "$((6 * 7))"' })) as ExecResult;
    expect(result).toMatchObject({
      exitCode: 0,
      output: '42\n',
      cluster: DEFAULT_WORLD_IDS.cluster,
      container: 'app',
      truncated: false,
    });
    expect(result.taskArn).toContain(DEFAULT_WORLD_IDS.taskId);
    expect(env.fake.calls.some((call) => call.operation === 'ExecuteCommand')).toBe(true);
  });

  it('gives the handler a Lambda context with the time left of a 15-minute function', () => {
    const context = lambdaContext({ region: 'us-east-1', account: '123456789012' }, LAMBDA_MAX_TIMEOUT_MS);
    expect(LAMBDA_MAX_TIMEOUT_MS).toBe(15 * 60 * 1000);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(LAMBDA_MAX_TIMEOUT_MS - 1000);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(LAMBDA_MAX_TIMEOUT_MS);
    expect(context.invokedFunctionArn).toMatch(/^arn:aws:lambda:us-east-1:123456789012:function:/);
    expect(context.awsRequestId).not.toBe(lambdaContext({ region: 'r', account: 'a' }, 1).awsRequestId);
  });

  it('runs an encrypted session on the KMS cluster, with stdin', async () => {
    const result = (await env.invoke({
      command: 'cat',
      cluster: DEFAULT_WORLD_IDS.kmsCluster,
      service: DEFAULT_WORLD_IDS.kmsService,
      stdin: 'through KMS\n',
    })) as ExecResult;
    expect(result).toMatchObject({
      exitCode: 0,
      output: 'through KMS\n',
      cluster: DEFAULT_WORLD_IDS.kmsCluster,
    });
    expect(
      env.fake.calls.some((call) => call.service === 'kms' && call.operation === 'GenerateDataKey'),
    ).toBe(true);
  });

  it('throws the handler errors by name', async () => {
    await expect(env.invoke({ command: 'exit 4' })).rejects.toMatchObject({
      name: ExecErrorName.NonZeroExit,
    });
    await expect(env.invoke({ command: 'ls', task: 'nope', service: 'web' })).rejects.toMatchObject({
      name: ExecErrorName.InvalidInput,
    });
  });
});

describe('the synthesized "run one command" state machine', () => {
  it('returns the handler result, with the function environment resolved to the local world', async () => {
    const callsBefore = env.fake.calls.length;
    const result = await env.runStateMachine(
      { command: 'echo sm-ok' },
      { executionName: 'local-env-success' },
    );
    expect(result).toMatchObject({ status: 'SUCCEEDED', retries: [] });
    expect((result as { output: ExecResult }).output).toMatchObject({
      exitCode: 0,
      output: 'sm-ok\n',
      cluster: DEFAULT_WORLD_IDS.cluster,
    });
    // No cluster or service in the input: the handler took the synthesized DEFAULT_CLUSTER (the
    // local cluster's ARN) and DEFAULT_SERVICE.
    const listTasks = env.fake.calls.slice(callsBefore).find((call) => call.operation === 'ListTasks');
    expect(listTasks?.input).toMatchObject({
      cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/local',
      serviceName: DEFAULT_WORLD_IDS.service,
    });
  });

  it('catches NonZeroExit into the Fail state, keeping the error and the Lambda cause', async () => {
    const result = await env.runStateMachine({ command: 'echo failing; exit 9' });
    expect(result).toMatchObject({ status: 'FAILED', error: ExecErrorName.NonZeroExit });
    const cause = JSON.parse((result as { cause: string }).cause) as { errorMessage: string };
    expect(JSON.parse(cause.errorMessage)).toMatchObject({ exitCode: 9, outputTail: 'failing\n' });
  });

  it('is registered in the fake Step Functions and its stack in the fake CloudFormation', async () => {
    const cfn = new CloudFormationClient({ maxAttempts: 1 });
    try {
      const stacks = await cfn.send(new DescribeStacksCommand({ StackName: LOCAL_STACK_NAME }));
      const outputs = Object.fromEntries(
        (stacks.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
      );
      expect(outputs.RunCommandStateMachineArn).toBe(env.runCommandStateMachineArn);
      expect(outputs.FanOutStateMachineArn).toMatch(/^arn:aws:states:us-east-1:123456789012:stateMachine:/);
    } finally {
      cfn.destroy();
    }

    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: env.runCommandStateMachineArn,
        name: 'through-sfn',
        input: JSON.stringify({ command: 'echo via sfn' }),
      }),
    );
    await env.fake.stateMachines.settled();
    const done = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '{}')).toMatchObject({ exitCode: 0, output: 'via sfn\n' });

    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
    const events = history.events ?? [];
    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events[1]?.stateEnteredEventDetails?.name).toBe('AddExecutionName');
    expect(events[3]?.stateEnteredEventDetails?.name).toBe('RunCommand');
    const scheduled = events[4]?.taskScheduledEventDetails;
    expect(scheduled).toMatchObject({ resourceType: 'lambda', resource: 'invoke', region: 'us-east-1' });
    // The Pass state added the execution name to the event the function got.
    expect(JSON.parse(scheduled?.parameters ?? '{}')).toMatchObject({
      FunctionName: expect.stringMatching(/^arn:aws:lambda:us-east-1:123456789012:function:RunnerFunction/),
      Payload: { command: 'echo via sfn', executionName: 'through-sfn' },
    });
    expect(JSON.parse(events[6]?.taskSucceededEventDetails?.output ?? '{}')).toMatchObject({
      StatusCode: 200,
      Payload: { output: 'via sfn\n' },
    });
  });

  it('records a caught failure in the history: TaskFailed, the Fail state, ExecutionFailed', async () => {
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: env.runCommandStateMachineArn,
        input: JSON.stringify({ command: 'exit 2' }),
      }),
    );
    await env.fake.stateMachines.settled();
    const done = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(done).toMatchObject({ status: 'FAILED', error: ExecErrorName.NonZeroExit });
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
    const tail = (history.events ?? []).slice(-4);
    expect(tail.map((event) => event.type)).toEqual([
      'TaskFailed',
      'TaskStateExited',
      'FailStateEntered',
      'ExecutionFailed',
    ]);
    expect(tail[0]?.taskFailedEventDetails?.error).toBe(ExecErrorName.NonZeroExit);
    expect(tail[2]?.stateEnteredEventDetails?.name).toBe('CommandFailed');
    expect(tail[3]?.executionFailedEventDetails?.cause).toBe(done.cause);
  });
});
