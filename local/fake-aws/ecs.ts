/**
 * ECS (awsJson1_1, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`): the calls the exec
 * Lambda makes to find a task and open an ECS Exec session. Texts of errors are AWS's where they
 * are documented or quoted in public reports (anchors.md §3); the others are marked approximate.
 */
import type { ExecSessionRecord, FakeContext, JsonOperation, SessionHandle } from './context';
import { taskDoctorJson } from './ecs-doctor';
import { AwsServiceError } from './errors';
import { mergeSessionSpec, takeFault } from './faults';
import { InputReader } from './input';
import {
  clusterArn,
  containerArn,
  containerInstanceArn,
  DEFAULT_CLUSTER_NAME,
  desiredStatusOf,
  EXEC_AGENT_NAME,
  execTargetId,
  type FakeCluster,
  type FakeContainer,
  type FakeTask,
  type FakeWorld,
  familyOf,
  findCluster,
  findTask,
  serviceArn,
  serviceNameOf,
  serviceNames,
  taskArn,
  taskDefinitionArn,
  taskIdOf,
} from './world';

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';

export const EcsMessage = {
  ClusterNotFound: 'Cluster not found.',
  ServiceNotFound: 'Service not found.',
  InteractiveOnly: 'Interactive is the only mode supported currently.',
  /** AWS's text, typographic apostrophe included (aws/aws-cli#8080, keidarcy/e1s#206). */
  AgentNotReady:
    'The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running. Wait and try again or run a new task with execute command enabled and try again.',
  /** anchors.md §3 "Agent-not-ready errors". */
  TargetNotConnected: 'The execute command failed due to an internal error. Try again later.',
  TasksEmpty: 'Tasks cannot be empty.',
  TaskIdLength: 'task length should be one of [32,36]',
  TaskIdTooLong: 'taskId longer than 36.',
  /** Approximate wording. */
  TaskNotFound: 'The specified task was not found.',
  /** Approximate wording. */
  ContainerRequired: 'A container name must be specified for a task with more than one container.',
  Throttling: 'Rate exceeded',
} as const;

const ECS_VALIDATION_ERROR = 'InvalidParameterException';
/** ListTasks page size: default and maximum. */
export const LIST_TASKS_MAX_RESULTS = 100;
export const DESCRIBE_TASKS_MAX = 100;
const DESCRIBE_SERVICES_MAX = 10;
const TASK_ID_LENGTHS: readonly number[] = [32, 36];
const MAX_TASK_ID_LENGTH = 36;
const MS_PER_SECOND = 1000;

function invalid(message: string): AwsServiceError {
  return new AwsServiceError(ECS_VALIDATION_ERROR, message);
}

function requireCluster(world: FakeWorld, ref: string | undefined): FakeCluster {
  const cluster = findCluster(world, ref ?? DEFAULT_CLUSTER_NAME);
  if (cluster === undefined)
    throw new AwsServiceError('ClusterNotFoundException', EcsMessage.ClusterNotFound);
  return cluster;
}

function epochSeconds(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : date.getTime() / MS_PER_SECOND;
}

function containerJson(world: FakeWorld, cluster: FakeCluster, task: FakeTask, container: FakeContainer) {
  return {
    containerArn: containerArn(world, cluster.name, task.id, container.name),
    taskArn: taskArn(world, cluster.name, task.id),
    name: container.name,
    image: container.image,
    runtimeId: container.runtimeId,
    lastStatus: container.lastStatus,
    healthStatus: container.healthStatus ?? 'UNKNOWN',
    networkInterfaces: [],
    // ECS lists the exec agent only for tasks started with execute command enabled.
    managedAgents: task.enableExecuteCommand
      ? [
          {
            name: EXEC_AGENT_NAME,
            lastStatus: container.execAgentStatus,
            ...(container.execAgentStatus === 'RUNNING'
              ? { lastStartedAt: epochSeconds(task.startedAt) }
              : {}),
            ...(container.execAgentReason !== undefined ? { reason: container.execAgentReason } : {}),
          },
        ]
      : undefined,
  };
}

function taskJson(world: FakeWorld, cluster: FakeCluster, task: FakeTask) {
  const running = task.lastStatus === 'RUNNING';
  return {
    taskArn: taskArn(world, cluster.name, task.id),
    clusterArn: clusterArn(world, cluster.name),
    taskDefinitionArn: taskDefinitionArn(world, task),
    lastStatus: task.lastStatus,
    desiredStatus: desiredStatusOf(task),
    healthStatus: task.healthStatus ?? 'UNKNOWN',
    enableExecuteCommand: task.enableExecuteCommand,
    group: task.service !== undefined ? `service:${task.service}` : `family:${familyOf(task)}`,
    startedBy: task.service !== undefined ? `ecs-svc/${task.id.slice(0, 19)}` : undefined,
    launchType: task.launchType,
    platformVersion: task.platformVersion,
    platformFamily: task.launchType === 'FARGATE' ? (task.platformFamily ?? 'Linux') : undefined,
    containerInstanceArn:
      task.containerInstanceId !== undefined
        ? containerInstanceArn(world, cluster.name, task.containerInstanceId)
        : undefined,
    availabilityZone: `${world.region}a`,
    connectivity: running ? 'CONNECTED' : undefined,
    createdAt: epochSeconds(task.startedAt),
    startedAt: running ? epochSeconds(task.startedAt) : undefined,
    version: 1,
    containers: task.containers.map((container) => containerJson(world, cluster, task, container)),
    ...taskDoctorJson(world, task),
  };
}

/** Opaque page token: the index of the next task. */
function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

function decodeNextToken(token: string): number {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (typeof decoded === 'object' && decoded !== null && 'offset' in decoded) {
      const { offset } = decoded;
      if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
    }
  } catch {
    // fall through to the error below
  }
  throw invalid('Invalid nextToken.');
}

const listTasks: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, ECS_VALIDATION_ERROR);
  const cluster = requireCluster(ctx.world, reader.optString('cluster'));
  const maxResults = reader.optNumber('maxResults') ?? LIST_TASKS_MAX_RESULTS;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > LIST_TASKS_MAX_RESULTS) {
    throw invalid(`maxResults must be between 1 and ${LIST_TASKS_MAX_RESULTS}.`);
  }
  const serviceRef = reader.optString('serviceName');
  const service = serviceRef === undefined ? undefined : serviceNameOf(serviceRef);
  if (service !== undefined && !serviceNames(cluster).includes(service)) {
    throw new AwsServiceError('ServiceNotFoundException', EcsMessage.ServiceNotFound);
  }
  const desiredStatus = reader.optString('desiredStatus') ?? 'RUNNING';
  const containerInstance = reader.optString('containerInstance');
  const instanceId = containerInstance?.split('/').pop();
  const launchType = reader.optString('launchType');
  const family = reader.optString('family');
  const matching = cluster.tasks.filter(
    (task) =>
      desiredStatusOf(task) === desiredStatus &&
      (service === undefined || task.service === service) &&
      (instanceId === undefined || task.containerInstanceId === instanceId) &&
      (launchType === undefined || task.launchType === launchType) &&
      (family === undefined || familyOf(task) === family),
  );
  const nextToken = reader.optString('nextToken');
  const start = nextToken === undefined ? 0 : decodeNextToken(nextToken);
  const page = matching.slice(start, start + maxResults);
  const end = start + page.length;
  return {
    taskArns: page.map((task) => taskArn(ctx.world, cluster.name, task.id)),
    nextToken: end < matching.length ? encodeNextToken(end) : undefined,
  };
};

function checkTaskRefLength(world: FakeWorld, cluster: FakeCluster, ref: string): void {
  const id = taskIdOf(world, cluster, ref) ?? ref;
  if (id.length > MAX_TASK_ID_LENGTH) throw invalid(EcsMessage.TaskIdTooLong);
}

const describeTasks: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, ECS_VALIDATION_ERROR);
  const cluster = requireCluster(ctx.world, reader.optString('cluster'));
  const refs = reader.optStringList('tasks') ?? [];
  if (refs.length === 0) throw invalid(EcsMessage.TasksEmpty);
  if (refs.length > DESCRIBE_TASKS_MAX) throw invalid(`tasks can have at most ${DESCRIBE_TASKS_MAX} items.`);
  const tasks: ReturnType<typeof taskJson>[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const ref of refs) {
    checkTaskRefLength(ctx.world, cluster, ref);
    const task = findTask(ctx.world, cluster, ref);
    if (task === undefined) {
      failures.push({
        arn: ref.startsWith('arn:') ? ref : taskArn(ctx.world, cluster.name, ref),
        reason: 'MISSING',
      });
    } else {
      tasks.push(taskJson(ctx.world, cluster, task));
    }
  }
  return { tasks, failures };
};

const describeClusters: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, ECS_VALIDATION_ERROR);
  const refs = reader.optStringList('clusters') ?? [DEFAULT_CLUSTER_NAME];
  const include = reader.optStringList('include') ?? [];
  const clusters: Record<string, unknown>[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const ref of refs) {
    const cluster = findCluster(ctx.world, ref);
    if (cluster === undefined) {
      failures.push({ arn: ref.startsWith('arn:') ? ref : clusterArn(ctx.world, ref), reason: 'MISSING' });
      continue;
    }
    const running = cluster.tasks.filter((task) => task.lastStatus === 'RUNNING').length;
    clusters.push({
      clusterArn: clusterArn(ctx.world, cluster.name),
      clusterName: cluster.name,
      status: 'ACTIVE',
      runningTasksCount: running,
      pendingTasksCount: cluster.tasks.filter((task) => task.lastStatus === 'PENDING').length,
      activeServicesCount: serviceNames(cluster).length,
      registeredContainerInstancesCount: 0,
      // Like ECS, the configuration is only returned when asked for.
      configuration: include.includes('CONFIGURATIONS')
        ? {
            executeCommandConfiguration: {
              kmsKeyId: cluster.kmsKeyId,
              logging: cluster.logging ?? 'DEFAULT',
              logConfiguration: cluster.logConfiguration,
            },
          }
        : undefined,
    });
  }
  return { clusters, failures };
};

const describeServices: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, ECS_VALIDATION_ERROR);
  const cluster = requireCluster(ctx.world, reader.optString('cluster'));
  const refs = reader.optStringList('services') ?? [];
  if (refs.length === 0) throw invalid('Services cannot be empty.');
  if (refs.length > DESCRIBE_SERVICES_MAX) {
    throw invalid(`services can have at most ${DESCRIBE_SERVICES_MAX} items.`);
  }
  const known = serviceNames(cluster);
  const services: Record<string, unknown>[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const ref of refs) {
    const name = serviceNameOf(ref);
    if (!known.includes(name)) {
      failures.push({ arn: serviceArn(ctx.world, cluster.name, name), reason: 'MISSING' });
      continue;
    }
    const tasks = cluster.tasks.filter((task) => task.service === name);
    const live = tasks.filter((task) => desiredStatusOf(task) === 'RUNNING');
    const first = tasks[0];
    services.push({
      serviceArn: serviceArn(ctx.world, cluster.name, name),
      serviceName: name,
      clusterArn: clusterArn(ctx.world, cluster.name),
      status: 'ACTIVE',
      desiredCount: live.length,
      runningCount: live.filter((task) => task.lastStatus === 'RUNNING').length,
      pendingCount: live.filter((task) => task.lastStatus === 'PENDING').length,
      launchType: first?.launchType,
      enableExecuteCommand:
        cluster.serviceExec?.[name] ?? (tasks.length > 0 && tasks.every((task) => task.enableExecuteCommand)),
      taskDefinition: first === undefined ? undefined : taskDefinitionArn(ctx.world, first),
    });
  }
  return { services, failures };
};

function pickContainer(task: FakeTask, name: string | undefined): FakeContainer {
  if (name !== undefined) {
    const container = task.containers.find((candidate) => candidate.name === name);
    // Approximate wording.
    if (container === undefined) throw invalid(`The container ${name} does not exist in the task.`);
    return container;
  }
  const [only, ...others] = task.containers;
  if (only === undefined) throw invalid(EcsMessage.AgentNotReady);
  if (others.length > 0) throw invalid(EcsMessage.ContainerRequired);
  return only;
}

function faultMessage(code: string): string {
  switch (code) {
    case 'InvalidParameterException':
      return EcsMessage.AgentNotReady;
    case 'TargetNotConnectedException':
      return EcsMessage.TargetNotConnected;
    case 'ThrottlingException':
      return EcsMessage.Throttling;
    case 'ClusterNotFoundException':
      return EcsMessage.ClusterNotFound;
    case 'AccessDeniedException':
      return 'User: arn:aws:sts::123456789012:assumed-role/local/fake is not authorized to perform: ecs:ExecuteCommand because no identity-based policy allows the ecs:ExecuteCommand action';
    default:
      return `Injected ${code}.`;
  }
}

/**
 * A container at its `execSessionLimit` refuses one more session. ECS answers a session it will not
 * open (one per PID namespace with pidMode "task") with TargetNotConnectedException, the text of an
 * internal error (aws/containers-roadmap#2518).
 */
function refuseBeyondSessionLimit(
  ctx: FakeContext,
  cluster: FakeCluster,
  task: FakeTask,
  container: FakeContainer,
): void {
  const limit = container.execSessionLimit;
  const isLive = ctx.gateway.isLive?.bind(ctx.gateway);
  if (limit === undefined || isLive === undefined) return;
  const live = ctx.sessions.filter(
    (session) =>
      session.cluster === cluster.name &&
      session.taskId === task.id &&
      session.container === container.name &&
      isLive(session.sessionId),
  ).length;
  if (live >= limit) throw new AwsServiceError('TargetNotConnectedException', EcsMessage.TargetNotConnected);
}

const executeCommand: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, ECS_VALIDATION_ERROR);
  const fault = takeFault(ctx.faults.executeCommand);
  if (fault !== undefined) {
    throw new AwsServiceError(fault.error, fault.message ?? faultMessage(fault.error));
  }
  const command = reader.string('command');
  const taskRef = reader.string('task');
  if (reader.optBoolean('interactive') !== true) throw invalid(EcsMessage.InteractiveOnly);
  const cluster = requireCluster(ctx.world, reader.optString('cluster'));
  if (!taskRef.startsWith('arn:') && !TASK_ID_LENGTHS.includes(taskRef.length)) {
    throw invalid(EcsMessage.TaskIdLength);
  }
  const task = findTask(ctx.world, cluster, taskRef);
  if (task === undefined) throw invalid(EcsMessage.TaskNotFound);
  if (!task.enableExecuteCommand || task.lastStatus !== 'RUNNING') throw invalid(EcsMessage.AgentNotReady);
  const container = pickContainer(task, reader.optString('container'));
  if (container.lastStatus !== 'RUNNING' || container.execAgentStatus !== 'RUNNING') {
    throw invalid(EcsMessage.AgentNotReady);
  }
  refuseBeyondSessionLimit(ctx, cluster, task, container);
  const targetId = execTargetId(cluster, task, container);
  const spec = mergeSessionSpec(
    {
      command,
      targetId,
      ...(cluster.kmsKeyId !== undefined ? { kms: { keyId: cluster.kmsKeyId, targetId } } : {}),
      env: { ...containerIdentityEnv(container), ...container.env },
      ...(container.cwd !== undefined ? { cwd: container.cwd } : {}),
      ...(container.shell !== undefined ? { scriptedShell: container.shell } : {}),
    },
    [ctx.sessionDefaults, ctx.faults.session],
  );
  let session: SessionHandle;
  try {
    session = await ctx.gateway.createSession(spec);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new AwsServiceError('ServerException', `The agent double refused the session: ${message}`);
  }
  const record: ExecSessionRecord = {
    sessionId: session.sessionId,
    cluster: cluster.name,
    taskId: task.id,
    container: container.name,
    command,
    spec,
  };
  ctx.sessions.push(record);
  return {
    clusterArn: clusterArn(ctx.world, cluster.name),
    containerArn: containerArn(ctx.world, cluster.name, task.id, container.name),
    containerName: container.name,
    interactive: true,
    taskArn: taskArn(ctx.world, cluster.name, task.id),
    session: { sessionId: session.sessionId, streamUrl: session.streamUrl, tokenValue: session.tokenValue },
  };
};

/**
 * Every process started in a container carries the container's metadata endpoint, as on ECS; the
 * container-restart fault finds the container's processes (detached jobs included) by it.
 */
export function containerIdentityEnv(container: Pick<FakeContainer, 'runtimeId'>): Record<string, string> {
  return { [CONTAINER_METADATA_VARIABLE]: `${CONTAINER_METADATA_BASE_URL}${container.runtimeId}` };
}
export const CONTAINER_METADATA_VARIABLE = 'ECS_CONTAINER_METADATA_URI_V4';
const CONTAINER_METADATA_BASE_URL = 'http://169.254.170.2/v4/';

export const ECS_OPERATIONS: Readonly<Record<string, JsonOperation>> = {
  ListTasks: listTasks,
  DescribeTasks: describeTasks,
  DescribeClusters: describeClusters,
  DescribeServices: describeServices,
  ExecuteCommand: executeCommand,
};
