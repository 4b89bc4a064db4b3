/**
 * The fake endpoint's Step Functions executions (a registered executor behind StartExecution,
 * DescribeExecution, GetExecutionHistory, DescribeStateMachine) and CloudFormation DescribeStacks,
 * called through the real SDK clients over HTTP.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  type ExecutionOutcome,
  type ExecutionRun,
  type FakeAws,
  SFN_MAX_OUTPUT_BYTES,
  startFakeAws,
} from '../../local/fake-aws';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Machine';
const UNKNOWN_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Nope';

let fake: FakeAws;
let restoreEnv: () => void;
let sfn: SFNClient;
let cfn: CloudFormationClient;
/** Lets a test decide when the running execution ends. */
let release: (outcome: ExecutionOutcome) => void;
let runs: ExecutionRun[];

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the call to fail');
  return outcome;
}

beforeAll(async () => {
  fake = await startFakeAws();
  restoreEnv = fake.applyEnv();
  // One attempt: each error is answered once, with no SDK back-off.
  sfn = new SFNClient({ maxAttempts: 1 });
  cfn = new CloudFormationClient({ maxAttempts: 1 });
});

afterAll(async () => {
  sfn.destroy();
  cfn.destroy();
  await fake.close();
  restoreEnv();
});

beforeEach(() => {
  runs = [];
  fake.stateMachines.register(
    MACHINE,
    (run) => {
      runs.push(run);
      run.history.add('PassStateEntered', { name: 'Only', input: JSON.stringify(run.input) });
      return new Promise<ExecutionOutcome>((resolve) => {
        release = resolve;
      });
    },
    { definition: '{"StartAt":"Only","States":{"Only":{"Type":"Pass","End":true}}}' },
  );
});

async function startRunning(name: string, input: unknown = { command: 'ls' }): Promise<string> {
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: MACHINE, name, input: JSON.stringify(input) }),
  );
  // The executor runs after StartExecution has answered.
  while (runs.length === 0) await new Promise((resolve) => setImmediate(resolve));
  return started.executionArn as string;
}

describe('Step Functions executions', () => {
  it('runs the registered executor: RUNNING until it ends, then SUCCEEDED with the output as JSON text', async () => {
    const arn = await startRunning('run-1', { command: 'ls' });
    expect(arn).toBe('arn:aws:states:us-east-1:123456789012:execution:Machine:run-1');
    expect(runs[0]).toMatchObject({ executionArn: arn, name: 'run-1', input: { command: 'ls' } });

    const running = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(running).toMatchObject({ status: 'RUNNING', stateMachineArn: MACHINE, input: '{"command":"ls"}' });
    expect(running.stopDate).toBeUndefined();
    expect(running.output).toBeUndefined();

    release({ status: 'SUCCEEDED', output: { exitCode: 0, output: 'a\n' } });
    await fake.stateMachines.settled();
    const done = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: '{"exitCode":0,"output":"a\\n"}' });
    expect(done.outputDetails).toEqual({ included: true });
    expect(done.stopDate?.getTime()).toBeGreaterThanOrEqual(done.startDate?.getTime() ?? Number.NaN);
  });

  it('reports a failure with error and cause, as Step Functions does', async () => {
    const arn = await startRunning('run-fail');
    release({ status: 'FAILED', error: 'NonZeroExit', cause: '{"errorType":"NonZeroExit"}' });
    await fake.stateMachines.settled();
    const done = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(done).toMatchObject({
      status: 'FAILED',
      error: 'NonZeroExit',
      cause: '{"errorType":"NonZeroExit"}',
    });
    expect(done.output).toBeUndefined();
  });

  it('fails an execution whose executor throws with States.Runtime, and one whose output is too large', async () => {
    fake.stateMachines.register(MACHINE, async () => {
      throw new TypeError('boom');
    });
    const thrown = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'throws' }));
    fake.stateMachines.register(MACHINE, async () => ({
      status: 'SUCCEEDED',
      output: 'x'.repeat(SFN_MAX_OUTPUT_BYTES),
    }));
    const big = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'too-big' }));
    await fake.stateMachines.settled();

    const first = await sfn.send(new DescribeExecutionCommand({ executionArn: thrown.executionArn }));
    expect(first).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: 'TypeError: boom' });
    const second = await sfn.send(new DescribeExecutionCommand({ executionArn: big.executionArn }));
    expect(second).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
  });

  it('treats a repeated start with the same name and input as the same call while it runs', async () => {
    const arn = await startRunning('same', { command: 'ls' });
    const again = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'same', input: '{"command":"ls"}' }),
    );
    expect(again.executionArn).toBe(arn);
    expect(runs).toHaveLength(1);

    const otherInput = await rejection(
      sfn.send(
        new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'same', input: '{"command":"pwd"}' }),
      ),
    );
    expect(otherInput.name).toBe('ExecutionAlreadyExists');

    release({ status: 'SUCCEEDED', output: {} });
    await fake.stateMachines.settled();
    const afterEnd = await rejection(
      sfn.send(
        new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'same', input: '{"command":"ls"}' }),
      ),
    );
    expect(afterEnd.name).toBe('ExecutionAlreadyExists');
    expect(afterEnd.message).toContain(arn);
  });

  it('validates like Step Functions: unknown machine, bad ARN, bad name, bad input, unknown execution', async () => {
    const cases: Array<[Promise<unknown>, string]> = [
      [sfn.send(new StartExecutionCommand({ stateMachineArn: UNKNOWN_MACHINE })), 'StateMachineDoesNotExist'],
      [sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:x' })), 'InvalidArn'],
      [sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'has space' })), 'InvalidName'],
      [
        sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'n'.repeat(81) })),
        'InvalidName',
      ],
      [sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, name: 'ctl\u0007' })), 'InvalidName'],
      [
        sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, input: '{nope' })),
        'InvalidExecutionInput',
      ],
      [
        sfn.send(
          new DescribeExecutionCommand({
            executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Machine:never',
          }),
        ),
        'ExecutionDoesNotExist',
      ],
    ];
    for (const [call, name] of cases) expect((await rejection(call)).name).toBe(name);
    expect(runs).toHaveLength(0);
  });

  it('generates a name when none is given', async () => {
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE }));
    expect(started.executionArn).toMatch(/:execution:Machine:[0-9a-f-]{36}$/);
    while (runs.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(runs[0]?.input).toEqual({});
    release({ status: 'SUCCEEDED', output: null });
    await fake.stateMachines.settled();
  });

  it('returns the history in Step Functions shape, paged, reversed and without data on request', async () => {
    const arn = await startRunning('history', { command: 'ls' });
    release({ status: 'SUCCEEDED', output: { ok: true } });
    await fake.stateMachines.settled();

    const all = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    expect(all.nextToken).toBeUndefined();
    expect(all.events?.map((event) => [event.id, event.previousEventId, event.type])).toEqual([
      [1, 0, 'ExecutionStarted'],
      [2, 1, 'PassStateEntered'],
      [3, 2, 'ExecutionSucceeded'],
    ]);
    expect(all.events?.[0]?.executionStartedEventDetails).toMatchObject({
      input: '{"command":"ls"}',
      roleArn: 'arn:aws:iam::123456789012:role/Machine-role',
    });
    expect(all.events?.[1]?.stateEnteredEventDetails).toMatchObject({ name: 'Only' });
    expect(all.events?.[2]?.executionSucceededEventDetails).toMatchObject({ output: '{"ok":true}' });
    expect(all.events?.[0]?.timestamp).toBeInstanceOf(Date);

    const first = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 2 }));
    expect(first.events?.map((event) => event.id)).toEqual([1, 2]);
    const second = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 2, nextToken: first.nextToken }),
    );
    expect(second.events?.map((event) => event.id)).toEqual([3]);
    expect(second.nextToken).toBeUndefined();

    const reversed = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, includeExecutionData: false }),
    );
    expect(reversed.events?.map((event) => event.id)).toEqual([3, 2, 1]);
    expect(reversed.events?.[0]?.executionSucceededEventDetails?.output).toBeUndefined();
    expect(reversed.events?.[2]?.executionStartedEventDetails?.input).toBeUndefined();

    const badToken = await rejection(
      sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, nextToken: 'garbage' })),
    );
    expect(badToken.name).toBe('InvalidToken');
  });

  it('describes a registered state machine', async () => {
    const machine = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: MACHINE }));
    expect(machine).toMatchObject({
      stateMachineArn: MACHINE,
      name: 'Machine',
      status: 'ACTIVE',
      type: 'STANDARD',
      definition: '{"StartAt":"Only","States":{"Only":{"Type":"Pass","End":true}}}',
    });
  });
});

describe('Step Functions with no state machine registered', () => {
  it('still answers executions operations as unimplemented', async () => {
    const bare = await startFakeAws();
    const client = new SFNClient({ maxAttempts: 1, endpoint: bare.endpoint });
    try {
      const err = await rejection(client.send(new StartExecutionCommand({ stateMachineArn: MACHINE })));
      expect(err.name).toBe('UnknownOperationException');
      expect(err.message).toContain('sfn:StartExecution');
    } finally {
      client.destroy();
      await bare.close();
    }
  });
});

describe('CloudFormation DescribeStacks (query protocol)', () => {
  it('is reached through the endpoint variables the fake sets', () => {
    expect(fake.env.AWS_ENDPOINT_URL_CLOUDFORMATION).toBe(fake.endpoint);
  });

  it('returns a stack with its outputs, computed on first use when given as a function', async () => {
    let computed = 0;
    const stack = fake.stacks.put({
      stackName: 'Demo',
      description: 'a <demo> & more',
      outputs: async () => {
        computed += 1;
        return [
          { OutputKey: 'RunCommandStateMachineArn', OutputValue: MACHINE, Description: 'the <arn>' },
          { OutputKey: 'Other', OutputValue: 'a&b' },
        ];
      },
    });
    expect(computed).toBe(0);

    const byName = await cfn.send(new DescribeStacksCommand({ StackName: 'Demo' }));
    expect(byName.Stacks).toHaveLength(1);
    expect(byName.Stacks?.[0]).toMatchObject({
      StackName: 'Demo',
      StackId: stack.stackId,
      StackStatus: 'CREATE_COMPLETE',
      Description: 'a <demo> & more',
      Outputs: [
        { OutputKey: 'RunCommandStateMachineArn', OutputValue: MACHINE, Description: 'the <arn>' },
        { OutputKey: 'Other', OutputValue: 'a&b' },
      ],
    });
    expect(byName.Stacks?.[0]?.CreationTime).toBeInstanceOf(Date);
    const byId = await cfn.send(new DescribeStacksCommand({ StackName: stack.stackId }));
    expect(byId.Stacks?.[0]?.StackName).toBe('Demo');
    expect(computed).toBe(2);

    const call = fake.calls.find((c) => c.service === 'cloudformation' && c.operation === 'DescribeStacks');
    expect(call?.input).toEqual({ StackName: 'Demo' });
  });

  it('answers an unknown stack with ValidationError, as CloudFormation does', async () => {
    const err = await rejection(cfn.send(new DescribeStacksCommand({ StackName: 'Missing' })));
    expect(err.name).toBe('ValidationError');
    expect(err.message).toBe('Stack with id Missing does not exist');
  });
});
