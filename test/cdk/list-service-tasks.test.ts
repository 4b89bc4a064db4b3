import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ExecEnv, ExecErrorName } from '../../lambda/contract';
import { parseExecEvent } from '../../lambda/event';
import {
  FanOutEnv,
  type ListServiceTasksDeps,
  listServiceTasks,
} from '../../lambda/fan-out/list-service-tasks';
import { PLAIN_MESSAGE_MAX_JSON_BYTES } from '../../lambda/result';

const ecsMock = mockClient(ECSClient);
const s3Mock = mockClient(S3Client);
const CLUSTER = 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod';
const taskArn = (i: number) =>
  `arn:aws:ecs:eu-west-1:111122223333:task/prod/${i.toString(16).padStart(32, '0')}`;

const env = {
  [ExecEnv.OutputBucket]: 'outputs',
  [ExecEnv.OutputPrefix]: 'exec-output/',
  [ExecEnv.DefaultCluster]: CLUSTER,
  [ExecEnv.AllowedClusters]: CLUSTER,
  [FanOutEnv.DefaultMaxConcurrency]: '4',
};
const deps = (): ListServiceTasksDeps => ({ ecs: new ECSClient({}), s3: new S3Client({}), env });

/** The task list the function wrote (the Distributed Map's items). */
function writtenItems(): Array<Record<string, unknown>> {
  const put = s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
  return JSON.parse(String(put?.Body)) as Array<Record<string, unknown>>;
}

beforeEach(() => {
  ecsMock.reset();
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
});

describe('listing the tasks of a service for the fan-out', () => {
  it('reads every page of RUNNING tasks and writes one exec event per task', async () => {
    const pages: Record<string, { taskArns: string[]; nextToken?: string }> = {
      first: { taskArns: Array.from({ length: 100 }, (_, i) => taskArn(i)), nextToken: 'page-2' },
      'page-2': { taskArns: Array.from({ length: 100 }, (_, i) => taskArn(100 + i)), nextToken: 'page-3' },
      'page-3': { taskArns: [taskArn(200)] },
    };
    // The paginator reuses one input object, so record a copy of each request.
    const requests: unknown[] = [];
    ecsMock.on(ListTasksCommand).callsFake((input: { nextToken?: string }) => {
      requests.push({ ...input });
      return pages[input.nextToken ?? 'first'];
    });

    const result = await listServiceTasks(
      { input: { command: 'df -h', service: 'web', container: 'app' }, executionName: 'run-1' },
      deps(),
    );

    expect(result).toEqual({
      bucket: 'outputs',
      key: 'exec-output/fan-out/tasks/run-1.json',
      taskCount: 201,
      maxConcurrency: 4,
      cluster: CLUSTER,
      service: 'web',
    });
    expect(requests).toEqual([
      { cluster: CLUSTER, serviceName: 'web', desiredStatus: 'RUNNING', maxResults: 100 },
      {
        cluster: CLUSTER,
        serviceName: 'web',
        desiredStatus: 'RUNNING',
        maxResults: 100,
        nextToken: 'page-2',
      },
      {
        cluster: CLUSTER,
        serviceName: 'web',
        desiredStatus: 'RUNNING',
        maxResults: 100,
        nextToken: 'page-3',
      },
    ]);
    const items = writtenItems();
    expect(items).toHaveLength(201);
    expect(items[0]).toEqual({
      command: 'df -h',
      container: 'app',
      cluster: CLUSTER,
      task: taskArn(0),
      executionName: 'run-1',
    });
    // Every item is an event the exec Lambda accepts, aimed at one task.
    for (const item of items.slice(0, 5)) expect(parseExecEvent(item).target.kind).toBe('task');
    expect(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: 'outputs',
      Key: 'exec-output/fan-out/tasks/run-1.json',
      ContentType: 'application/json',
    });
  });

  it('uses maxConcurrency from the input and makes idempotency keys per task', async () => {
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [taskArn(1), taskArn(2)] });
    const result = await listServiceTasks(
      {
        input: { command: 'ls', service: 'web', maxConcurrency: 2, idempotencyKey: 'nightly' },
        executionName: 'r',
      },
      deps(),
    );
    expect(result.maxConcurrency).toBe(2);
    expect(writtenItems().map((i) => i.idempotencyKey)).toEqual([
      `nightly-${taskArn(1).split('/').pop()}`,
      `nightly-${taskArn(2).split('/').pop()}`,
    ]);
    expect(writtenItems()[0]).not.toHaveProperty('maxConcurrency');
  });

  it('makes the execution name safe as a key segment', async () => {
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [taskArn(1)] });
    const result = await listServiceTasks(
      { input: { command: 'ls', service: 'web' }, executionName: 'a b/c' },
      deps(),
    );
    expect(result.key).toBe('exec-output/fan-out/tasks/a_b_c.json');
    expect(writtenItems()[0]?.executionName).toBe('a b/c');
  });

  it('throws TargetNotFound when the service has no RUNNING task', async () => {
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    await expect(
      listServiceTasks({ input: { command: 'ls', service: 'web' }, executionName: 'r' }, deps()),
    ).rejects.toMatchObject({
      name: ExecErrorName.TargetNotFound,
      message: expect.stringMatching(/no RUNNING tasks/),
    });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a task instead of a service', { command: 'ls', task: 'f'.repeat(32) }, /"task" cannot be used here/],
    ['a task token', { command: 'ls', service: 'web', taskToken: 'tok' }, /"taskToken" cannot be used here/],
    ['no service and no default', { command: 'ls' }, /"service" is required|one of "task" or "service"/],
    ['a maxConcurrency of 0', { command: 'ls', service: 'web', maxConcurrency: 0 }, /"maxConcurrency"/],
    [
      'a cluster the runner may not use',
      { command: 'ls', service: 'web', cluster: 'other' },
      /not one this runner may use/,
    ],
    ['an unknown field', { command: 'ls', service: 'web', oops: true }, /unknown field "oops"/],
  ])('rejects %s with InvalidInput before listing', async (_name, input, message) => {
    const error = await listServiceTasks({ input, executionName: 'r' }, deps()).catch((err: Error) => err);
    expect(error).toMatchObject({ name: ExecErrorName.InvalidInput });
    // The exec Lambda's message shape: JSON with a "message", for the same Catch and the same reader.
    expect(JSON.parse((error as Error).message)).toEqual({ message: expect.stringMatching(message) });
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(0);
  });

  it('caps a huge InvalidInput message as the exec Lambda does', async () => {
    const input = {
      command: 'ls',
      service: 'web',
      ...Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`field${i}`, 1])),
    };
    const error = (await listServiceTasks({ input, executionName: 'r' }, deps()).catch(
      (err: Error) => err,
    )) as Error;
    expect(error.name).toBe(ExecErrorName.InvalidInput);
    expect(Buffer.byteLength(error.message)).toBeLessThan(PLAIN_MESSAGE_MAX_JSON_BYTES + 1_024);
    expect(JSON.parse(error.message).message).toMatch(/^unknown fields "field0"/);
    expect(error.stack).toBe(`${ExecErrorName.InvalidInput}: see errorMessage`);
  });
});
