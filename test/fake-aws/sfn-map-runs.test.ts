/**
 * Map runs in the fake Step Functions, as the local Distributed Map reports them, read back through
 * the SDK: DescribeMapRun's counts, ListExecutions by map run (status filter, pages), and
 * DescribeExecution of a child execution.
 */
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { type FakeAws, startFakeAws } from '../../local/fake-aws';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:fleet';
const MAP_RUN = `arn:aws:states:us-east-1:123456789012:mapRun:fleet/RunOnEachTask:0b7c51f4-2f0e-4b8e-9d7e-0d6f4a1e6a11`;
const child = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:fleet/RunOnEachTask:${name}`;

let fake: FakeAws;
let sfn: SFNClient;
let restoreEnv: () => void;

beforeAll(async () => {
  fake = await startFakeAws();
  restoreEnv = fake.applyEnv();
  sfn = new SFNClient({ maxAttempts: 1 });
  const runs = fake.stateMachines.mapRuns;
  const start = new Date('2026-12-01T10:00:00.000Z');
  runs.mapRunStarted({
    mapRunArn: MAP_RUN,
    executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:parent`,
    maxConcurrency: 2,
    toleratedFailurePercentage: 100,
    toleratedFailureCount: 0,
    itemCount: 4,
    startDate: start,
  });
  for (const name of ['a', 'b', 'c']) {
    runs.childStarted(MAP_RUN, {
      executionArn: child(name),
      stateMachineArn: `${MACHINE}/RunOnEachTask`,
      name,
      input: JSON.stringify({ task: name }),
      startDate: start,
    });
  }
  runs.childEnded(MAP_RUN, child('a'), { status: 'SUCCEEDED', output: '{"exitCode":0}' }, start);
  runs.childEnded(MAP_RUN, child('b'), { status: 'FAILED', error: 'NonZeroExit', cause: '{}' }, start);
});

afterAll(async () => {
  sfn.destroy();
  restoreEnv();
  await fake.close();
});

describe('map runs in the fake Step Functions', () => {
  it('counts the items of a running map run', async () => {
    const run = await sfn.send(new DescribeMapRunCommand({ mapRunArn: MAP_RUN }));
    expect(run).toMatchObject({
      status: 'RUNNING',
      maxConcurrency: 2,
      toleratedFailurePercentage: 100,
      itemCounts: { total: 4, pending: 1, running: 1, succeeded: 1, failed: 1, timedOut: 0, aborted: 0 },
    });
  });

  it('lists the failed children of a map run, page by page, and describes one', async () => {
    const failed = await sfn.send(new ListExecutionsCommand({ mapRunArn: MAP_RUN, statusFilter: 'FAILED' }));
    expect(failed.executions?.map((execution) => execution.executionArn)).toEqual([child('b')]);

    const first = await sfn.send(new ListExecutionsCommand({ mapRunArn: MAP_RUN, maxResults: 2 }));
    const second = await sfn.send(
      new ListExecutionsCommand({ mapRunArn: MAP_RUN, maxResults: 2, nextToken: first.nextToken }),
    );
    expect([...(first.executions ?? []), ...(second.executions ?? [])].map((e) => e.name)).toEqual([
      'c',
      'b',
      'a',
    ]);
    expect(second.nextToken).toBeUndefined();

    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: child('b') }));
    expect(described).toMatchObject({ status: 'FAILED', error: 'NonZeroExit', input: '{"task":"b"}' });
  });

  it('answers unknown and malformed map runs as Step Functions does', async () => {
    const unknown = MAP_RUN.replace('0b7c51f4', '1b7c51f4');
    await expect(sfn.send(new DescribeMapRunCommand({ mapRunArn: unknown }))).rejects.toMatchObject({
      name: 'ResourceNotFound',
    });
    await expect(sfn.send(new DescribeMapRunCommand({ mapRunArn: 'not-an-arn' }))).rejects.toMatchObject({
      name: 'InvalidArn',
    });
    await expect(sfn.send(new ListExecutionsCommand({}))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});
