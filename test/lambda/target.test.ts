import {
  type Container,
  DescribeClustersCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { resolveTarget, ssmTargetId } from '../../lambda/aws/target';
import {
  AgentNotReady,
  ExecuteCommandDenied,
  InvalidInput,
  SessionFailed,
  TargetNotFound,
} from '../../lambda/errors';
import { parseExecEvent } from '../../lambda/event';

const ecsMock = mockClient(ECSClient);
const client = new ECSClient({ region: 'us-east-1' });
const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/prod';
const id = (n: number): string => n.toString(16).padStart(32, '0');
const arn = (n: number): string => `arn:aws:ecs:us-east-1:123456789012:task/prod/${id(n)}`;

function container(name: string, agent: string | null = 'RUNNING', runtimeId = `${name}-runtime`): Container {
  return {
    name,
    runtimeId,
    lastStatus: 'RUNNING',
    ...(agent ? { managedAgents: [{ name: 'ExecuteCommandAgent', lastStatus: agent }] } : {}),
  };
}

function task(n: number, overrides: Partial<Task> = {}): Task {
  return {
    taskArn: arn(n),
    lastStatus: 'RUNNING',
    enableExecuteCommand: true,
    healthStatus: 'HEALTHY',
    containers: [container('app')],
    ...overrides,
  };
}

const request = (event: Record<string, unknown>) =>
  parseExecEvent({ command: 'ls', cluster: 'prod', ...event });

beforeEach(() => {
  ecsMock.reset();
  ecsMock.on(DescribeClustersCommand).resolves({
    clusters: [{ clusterArn: CLUSTER_ARN, clusterName: 'prod', status: 'ACTIVE' }],
  });
});

describe('resolveTarget', () => {
  it('resolves a task and its only application container, skipping AWS-managed sidecars', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [task(1, { containers: [container('app'), container('ecs-service-connect-x1')] })],
    });
    const target = await resolveTarget(client, request({ task: id(1) }));
    expect(target).toEqual({
      clusterArn: CLUSTER_ARN,
      clusterName: 'prod',
      taskArn: arn(1),
      taskId: id(1),
      container: 'app',
      runtimeId: 'app-runtime',
      kmsKeyKnown: true,
    });
    expect(ssmTargetId(target)).toBe(`ecs:prod_${id(1)}_app-runtime`);
  });

  it('reports the cluster KMS key', async () => {
    ecsMock.on(DescribeClustersCommand).resolves({
      clusters: [
        {
          clusterArn: CLUSTER_ARN,
          clusterName: 'prod',
          status: 'ACTIVE',
          configuration: { executeCommandConfiguration: { kmsKeyId: 'key-1' } },
        },
      ],
    });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task(1)] });
    expect((await resolveTarget(client, request({ task: id(1) }))).kmsKeyId).toBe('key-1');
  });

  it.each([
    [
      'a missing cluster',
      () => ecsMock.on(DescribeClustersCommand).resolves({ clusters: [], failures: [{ reason: 'MISSING' }] }),
      TargetNotFound,
      /cluster "prod" does not exist/,
    ],
    [
      'a missing task',
      () => ecsMock.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ reason: 'MISSING' }] }),
      TargetNotFound,
      /was not found/,
    ],
    [
      'a stopped task',
      () => ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task(1, { lastStatus: 'STOPPED' })] }),
      TargetNotFound,
      /STOPPED/,
    ],
    [
      'exec disabled',
      () => ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task(1, { enableExecuteCommand: false })] }),
      TargetNotFound,
      /enable-execute-command/,
    ],
    [
      'an agent still starting',
      () =>
        ecsMock
          .on(DescribeTasksCommand)
          .resolves({ tasks: [task(1, { containers: [container('app', 'PENDING')] })] }),
      AgentNotReady,
      /PENDING/,
    ],
    [
      'a stopped agent',
      () =>
        ecsMock
          .on(DescribeTasksCommand)
          .resolves({ tasks: [task(1, { containers: [container('app', 'STOPPED')] })] }),
      TargetNotFound,
      /STOPPED/,
    ],
    [
      'a container without the exec agent',
      () =>
        ecsMock
          .on(DescribeTasksCommand)
          .resolves({ tasks: [task(1, { containers: [{ ...container('app', null), managedAgents: [] }] })] }),
      TargetNotFound,
      /no ECS Exec agent/,
    ],
    [
      'two app containers',
      () =>
        ecsMock
          .on(DescribeTasksCommand)
          .resolves({ tasks: [task(1, { containers: [container('web'), container('worker')] })] }),
      InvalidInput,
      /"container" is required.*web, worker/,
    ],
  ])('fails clearly for %s', async (_name, arrange, type, message) => {
    arrange();
    const error = await resolveTarget(client, request({ task: id(1) })).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
  });

  it('goes on without DescribeClusters when it fails for a reason other than a missing cluster', async () => {
    const denied = new Error('not authorized to perform ecs:DescribeClusters');
    denied.name = 'AccessDeniedException';
    ecsMock.on(DescribeClustersCommand).rejects(denied);
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task(1, { clusterArn: CLUSTER_ARN })] });
    const target = await resolveTarget(client, request({ task: id(1) }));
    expect(target).toMatchObject({ clusterArn: CLUSTER_ARN, clusterName: 'prod', taskArn: arn(1) });
    // Whether the cluster has an exec key is then unknown: input waits for the handshake to show.
    expect(target.kmsKeyKnown).toBe(false);
  });

  it("names the service that started the task (its group), for the metrics' dimension", async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task(1, { group: 'service:web' })] });
    await expect(resolveTarget(client, request({ task: id(1) }))).resolves.toMatchObject({ service: 'web' });
  });

  it('lets ExecuteCommand decide when ECS reports no managed agents at all', async () => {
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task(1, { containers: [container('app', null)] })] });
    await expect(resolveTarget(client, request({ task: id(1) }))).resolves.toMatchObject({
      container: 'app',
    });
  });

  it.each([
    ['ClusterNotFoundException', TargetNotFound],
    ['ThrottlingException', AgentNotReady],
    ['AccessDeniedException', ExecuteCommandDenied],
    ['InvalidParameterException', InvalidInput],
    ['ServerException', SessionFailed],
  ])('maps a %s from DescribeTasks into the error vocabulary', async (name, type) => {
    const failure = new Error('from ECS');
    failure.name = name;
    ecsMock.on(DescribeTasksCommand).rejects(failure);
    await expect(resolveTarget(client, request({ task: id(1) }))).rejects.toBeInstanceOf(type);
  });

  it('lists a named container that does not exist with the names that do', async () => {
    ecsMock
      .on(DescribeTasksCommand)
      .resolves({ tasks: [task(1, { containers: [container('web'), container('worker')] })] });
    await expect(resolveTarget(client, request({ task: id(1), container: 'db' }))).rejects.toThrow(
      /no container "db".*web, worker/,
    );
  });

  it('picks a healthy RUNNING task with a running agent from a service', async () => {
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [arn(1), arn(2), arn(3), arn(4)] });
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [
        task(1, { healthStatus: 'UNHEALTHY' }),
        task(2, { enableExecuteCommand: false }),
        task(3, { containers: [container('app', 'PENDING')] }),
        task(4, { healthStatus: 'HEALTHY' }),
      ],
    });
    for (let i = 0; i < 5; i++) {
      expect((await resolveTarget(client, request({ service: 'web' }))).taskArn).toBe(arn(4));
    }
    expect(ecsMock.commandCalls(ListTasksCommand)[0]?.args[0].input).toMatchObject({
      cluster: 'prod',
      serviceName: 'web',
      desiredStatus: 'RUNNING',
    });
  });

  it('follows ListTasks pages', async () => {
    ecsMock
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [arn(1)], nextToken: 'p2' })
      .resolvesOnce({ taskArns: [arn(2)] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task(1, { healthStatus: 'UNHEALTHY' }), task(2)] });
    expect((await resolveTarget(client, request({ service: 'web' }))).taskArn).toBe(arn(2));
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0]?.args[0].input.tasks).toEqual([arn(1), arn(2)]);
  });

  it.each([
    ['no running tasks', [], [], TargetNotFound, /has no RUNNING tasks/],
    [
      'exec disabled everywhere',
      [arn(1)],
      [task(1, { enableExecuteCommand: false })],
      TargetNotFound,
      /has ECS Exec enabled/,
    ],
    [
      'agents still starting',
      [arn(1)],
      [task(1, { containers: [container('app', 'PENDING')] })],
      AgentNotReady,
      /no task of service "web" has a RUNNING ECS Exec agent/,
    ],
  ])('fails a service with %s', async (_name, taskArns, tasks, type, message) => {
    ecsMock.on(ListTasksCommand).resolves({ taskArns });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks });
    const error = await resolveTarget(client, request({ service: 'web' })).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
  });
});
