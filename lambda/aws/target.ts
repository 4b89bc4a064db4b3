import {
  type Container,
  DescribeClustersCommand,
  type DescribeClustersCommandOutput,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  AgentNotReady,
  ExecError,
  ExecuteCommandDenied,
  InvalidInput,
  SessionFailed,
  TargetNotFound,
} from '../errors';
import { clusterName, type ExecRequest } from '../event';
import type { SessionLogger } from '../ssm/types';

export const EXEC_AGENT_NAME = 'ExecuteCommandAgent';
/** ListTasks pages we read for a service; enough to find a ready task without scanning forever. */
const MAX_SERVICE_TASK_PAGES = 5;
const DESCRIBE_TASKS_BATCH = 100;
/** Containers AWS adds to a task; never the one a user means by "the application container". */
const AWS_MANAGED_CONTAINER_PREFIXES = ['ecs-service-connect-', 'aws-guardduty-agent-', '~internal~'];

export interface ResolvedTarget {
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly taskArn: string;
  readonly taskId: string;
  readonly container: string;
  /** Container runtime id, part of the KMS encryption context's TargetId. */
  readonly runtimeId: string;
  /** The cluster's ECS Exec KMS key, if any: the session will need a data key. */
  readonly kmsKeyId?: string;
}

/** `ecs:<cluster>_<taskId>_<runtimeId>`: the agent's own id, used in the KMS encryption context. */
export function ssmTargetId(target: Pick<ResolvedTarget, 'clusterName' | 'taskId' | 'runtimeId'>): string {
  return `ecs:${target.clusterName}_${target.taskId}_${target.runtimeId}`;
}

export async function resolveTarget(
  ecs: ECSClient,
  request: ExecRequest,
  logger?: SessionLogger,
): Promise<ResolvedTarget> {
  try {
    const [cluster, task] = await Promise.all([
      describeCluster(ecs, request.cluster, logger),
      request.target.kind === 'task'
        ? describeTask(ecs, request.cluster, request.target.task)
        : pickServiceTask(ecs, request.cluster, request.target.service, request.container),
    ]);
    const container = pickContainer(task, request.container);
    const taskArn = task.taskArn ?? '';
    const taskId = taskArn.split('/').pop() ?? '';
    return {
      // DescribeTasks names the cluster too, so a failed DescribeClusters costs nothing essential.
      clusterArn: cluster?.clusterArn ?? task.clusterArn ?? request.cluster,
      clusterName: cluster?.clusterName ?? clusterName(task.clusterArn ?? request.cluster),
      taskArn,
      taskId,
      container: container.name ?? '',
      runtimeId: container.runtimeId ?? '',
      ...(cluster?.kmsKeyId ? { kmsKeyId: cluster.kmsKeyId } : {}),
    };
  } catch (err) {
    throw classifyLookupError(err);
  }
}

/** SDK errors of the ECS lookups → the Lambda's vocabulary (ours pass through). */
export function classifyLookupError(err: unknown): Error {
  if (err instanceof ExecError) return err;
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'ClusterNotFoundException') return new TargetNotFound(`ECS: ${message}`, {}, { cause: err });
  if (/AccessDenied|UnauthorizedOperation|UnrecognizedClient|InvalidSignature/.test(name)) {
    return new ExecuteCommandDenied(`ECS denied the lookup of the target: ${message}`, {}, { cause: err });
  }
  if (/Throttling|TooManyRequests|RequestLimitExceeded/.test(name)) {
    return new AgentNotReady(`ECS throttled the lookup of the target: ${message}`, {}, { cause: err });
  }
  if (name === 'InvalidParameterException') {
    return new InvalidInput(`ECS rejected the target: ${message}`, {}, { cause: err });
  }
  return new SessionFailed(`could not look up the target: ${name} ${message}`.trim(), {}, { cause: err });
}

/**
 * The cluster's ARN, name and exec KMS key. A cluster that does not exist is TargetNotFound; a
 * DescribeClusters that fails for another reason (a narrower IAM policy, a partial stand-in) is
 * logged and skipped, since DescribeTasks identifies the cluster as well.
 */
async function describeCluster(
  ecs: ECSClient,
  cluster: string,
  logger?: SessionLogger,
): Promise<{ clusterArn: string; clusterName: string; kmsKeyId?: string } | undefined> {
  let response: DescribeClustersCommandOutput;
  try {
    response = await ecs.send(
      new DescribeClustersCommand({ clusters: [cluster], include: ['CONFIGURATIONS'] }),
    );
  } catch (err) {
    if (err instanceof Error && err.name === 'ClusterNotFoundException') throw err;
    logger?.warn('DescribeClusters failed; going on with DescribeTasks alone', {
      reason: err instanceof Error ? err.name : String(err),
    });
    return undefined;
  }
  const found = response.clusters?.find((c) => c.status !== 'INACTIVE');
  if (found?.clusterArn === undefined || found.clusterName === undefined) {
    throw new TargetNotFound(
      `cluster "${cluster}" does not exist (or is inactive) in this account and region`,
    );
  }
  const kmsKeyId = found.configuration?.executeCommandConfiguration?.kmsKeyId;
  return { clusterArn: found.clusterArn, clusterName: found.clusterName, ...(kmsKeyId ? { kmsKeyId } : {}) };
}

async function describeTask(ecs: ECSClient, cluster: string, task: string): Promise<Task> {
  const response = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [task] }));
  const found = response.tasks?.[0];
  if (found === undefined) {
    throw new TargetNotFound(
      `task "${task}" was not found in cluster "${cluster}" (stopped tasks disappear after about an hour)`,
    );
  }
  if (found.lastStatus !== undefined && found.lastStatus !== 'RUNNING') {
    throw new TargetNotFound(
      `task "${task}" is ${found.lastStatus ?? 'not running'}; ECS Exec needs a RUNNING task`,
    );
  }
  if (found.enableExecuteCommand === false) {
    throw new TargetNotFound(
      `task "${task}" was started without ECS Exec: set enableExecuteCommand on the service (or run-task) and start new tasks, e.g. aws ecs update-service --enable-execute-command --force-new-deployment`,
    );
  }
  return found;
}

async function pickServiceTask(
  ecs: ECSClient,
  cluster: string,
  service: string,
  container?: string,
): Promise<Task> {
  const serviceName = service.split('/').pop() ?? service;
  const taskArns: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_SERVICE_TASK_PAGES; page++) {
    const response = await ecs.send(
      new ListTasksCommand({
        cluster,
        serviceName,
        desiredStatus: 'RUNNING',
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    taskArns.push(...(response.taskArns ?? []));
    nextToken = response.nextToken;
    if (nextToken === undefined) break;
  }
  if (taskArns.length === 0) {
    throw new TargetNotFound(`service "${serviceName}" in cluster "${cluster}" has no RUNNING tasks`);
  }
  const tasks: Task[] = [];
  for (let i = 0; i < taskArns.length; i += DESCRIBE_TASKS_BATCH) {
    const response = await ecs.send(
      new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + DESCRIBE_TASKS_BATCH) }),
    );
    tasks.push(...(response.tasks ?? []));
  }
  // ECS always reports these; a field that is missing is taken as "not known to be wrong".
  const running = tasks.filter((t) => t.lastStatus === undefined || t.lastStatus === 'RUNNING');
  const execEnabled = running.filter((t) => t.enableExecuteCommand !== false);
  if (execEnabled.length === 0) {
    throw new TargetNotFound(
      `none of the ${running.length} RUNNING tasks of service "${serviceName}" has ECS Exec enabled: update the service with --enable-execute-command and --force-new-deployment`,
    );
  }
  const ready = execEnabled.filter((t) => {
    const candidates = container
      ? (t.containers ?? []).filter((c) => c.name === container)
      : applicationContainers(t);
    return candidates.some((c) => c.managedAgents === undefined || agentStatus(c) === 'RUNNING');
  });
  if (ready.length === 0) {
    throw new AgentNotReady(
      `no task of service "${serviceName}" has a RUNNING ECS Exec agent${container ? ` in container "${container}"` : ''} yet; retry in a few seconds`,
    );
  }
  // Healthy first; among equals pick at random so that repeated runs spread over the tasks (a
  // container may refuse sessions beyond its own limit, a number ECS does not settle: see execute.ts).
  const rank = (t: Task): number =>
    t.healthStatus === 'HEALTHY' ? 0 : t.healthStatus === 'UNHEALTHY' ? 2 : 1;
  const best = Math.min(...ready.map(rank));
  const bestTasks = ready.filter((t) => rank(t) === best);
  return bestTasks[Math.floor(Math.random() * bestTasks.length)] as Task;
}

function applicationContainers(task: Task): Container[] {
  return (task.containers ?? []).filter(
    (c) => !AWS_MANAGED_CONTAINER_PREFIXES.some((prefix) => (c.name ?? '').startsWith(prefix)),
  );
}

function agentStatus(container: Container): string | undefined {
  return container.managedAgents?.find((agent) => agent.name === EXEC_AGENT_NAME)?.lastStatus;
}

function pickContainer(task: Task, requested?: string): Container {
  const all = task.containers ?? [];
  let container: Container | undefined;
  if (requested !== undefined) {
    container = all.find((c) => c.name === requested);
    if (container === undefined) {
      throw new TargetNotFound(
        `task ${task.taskArn} has no container "${requested}"; its containers are: ${all.map((c) => c.name).join(', ')}`,
      );
    }
  } else {
    const candidates = applicationContainers(task);
    if (candidates.length !== 1) {
      throw new InvalidInput(
        `"container" is required: task ${task.taskArn} has ${candidates.length} application containers (${candidates.map((c) => c.name).join(', ')})`,
      );
    }
    container = candidates[0] as Container;
  }
  // No managedAgents at all: nothing to go on, so let ExecuteCommand itself say whether it can.
  if (container.managedAgents === undefined) return container;
  const status = agentStatus(container);
  if (status === undefined) {
    throw new TargetNotFound(
      `container "${container.name}" of task ${task.taskArn} has no ECS Exec agent; the task must be started with enableExecuteCommand`,
    );
  }
  if (status !== 'RUNNING') {
    if (status === 'STOPPED') {
      throw new TargetNotFound(
        `the ECS Exec agent in container "${container.name}" has STOPPED (read-only root filesystem, missing permissions or a crash); start a new task`,
      );
    }
    throw new AgentNotReady(
      `the ECS Exec agent in container "${container.name}" is ${status}; retry in a few seconds`,
    );
  }
  if (container.lastStatus !== undefined && container.lastStatus !== 'RUNNING') {
    throw new TargetNotFound(`container "${container.name}" is ${container.lastStatus}`);
  }
  return container;
}
