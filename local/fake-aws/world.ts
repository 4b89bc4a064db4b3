/**
 * The state the fake AWS endpoint answers from: ECS clusters with their tasks and containers, and
 * the KMS keys that exist. Plain mutable objects, so a test can flip a status between two calls
 * (`task.containers[0].execAgentStatus = 'RUNNING'`).
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { fleetShell, type ScriptedCommand } from '../agent-double/scripted-shell';
import type { FakeDoctorState } from './doctor-world';

export const DEFAULT_ACCOUNT = '123456789012';
export const DEFAULT_REGION = 'us-east-1';
/** ECS uses this cluster when a request names none. */
export const DEFAULT_CLUSTER_NAME = 'default';
export const EXEC_AGENT_NAME = 'ExecuteCommandAgent';
export const DEFAULT_CONTAINER_NAME = 'app';
export const DEFAULT_IMAGE = 'public.ecr.aws/docker/library/busybox:latest';
export const DEFAULT_FARGATE_PLATFORM_VERSION = '1.4.0';
const TASK_ID_BYTES = 16;
/** Fargate runtime ids are `<taskId>-<10 digits>`. */
const RUNTIME_ID_SUFFIX_MIN = 1_000_000_000;
const RUNTIME_ID_SUFFIX_MAX = 9_999_999_999;

export type TaskStatus =
  | 'PROVISIONING'
  | 'PENDING'
  | 'ACTIVATING'
  | 'RUNNING'
  | 'DEACTIVATING'
  | 'STOPPING'
  | 'DEPROVISIONING'
  | 'STOPPED';
export type DesiredStatus = 'RUNNING' | 'PENDING' | 'STOPPED';
export type ContainerStatus = 'PENDING' | 'RUNNING' | 'STOPPED';
/** `managedAgents[].lastStatus` of the ExecuteCommandAgent. */
export type ExecAgentStatus = 'PENDING' | 'RUNNING' | 'STOPPED';
export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
export type LaunchType = 'FARGATE' | 'EC2' | 'EXTERNAL';
export type ExecLogging = 'NONE' | 'DEFAULT' | 'OVERRIDE';

export interface FakeContainer {
  name: string;
  /** Docker id on EC2, `<taskId>-<digits>` on Fargate; the end of the session target id. */
  runtimeId: string;
  lastStatus: ContainerStatus;
  execAgentStatus: ExecAgentStatus;
  healthStatus?: HealthStatus;
  image?: string;
  /** Environment of commands run in this container by the agent double. */
  env?: Record<string, string>;
  /** Working directory of commands run in this container by the agent double. */
  cwd?: string;
  /** `managedAgents[].reason` of the exec agent (a STOPPED agent's cause). */
  execAgentReason?: string;
  /** Task definition: `readonlyRootFilesystem`. @default false */
  readonlyRootFilesystem?: boolean;
  /** Task definition: `linuxParameters.initProcessEnabled`. @default true */
  initProcessEnabled?: boolean;
  /** A cheap scripted container: commands are answered by this function instead of a pty. */
  shell?: ScriptedCommand;
  /**
   * ECS Exec sessions the container takes at once; one more is refused as ECS refuses it
   * (TargetNotConnectedException). @default no limit (the real one is not documented per container)
   */
  execSessionLimit?: number;
}

export interface FakeTask {
  /** 32 lower-case hex digits. */
  id: string;
  service?: string;
  /** Task definition family. @default the service name, else 'app' */
  family?: string;
  lastStatus: TaskStatus;
  /** @default 'STOPPED' when lastStatus is STOPPED, else 'RUNNING' */
  desiredStatus?: DesiredStatus;
  healthStatus?: HealthStatus;
  enableExecuteCommand: boolean;
  launchType: LaunchType;
  /** Fargate only. @default '1.4.0' */
  platformVersion?: string;
  /** EC2 tasks: the container instance id (ListTasks `containerInstance` filter). */
  containerInstanceId?: string;
  startedAt?: Date;
  containers: FakeContainer[];
  /** `stoppedReason` of a STOPPED task. */
  stoppedReason?: string;
  /** Fargate: `platformFamily`. @default 'Linux' */
  platformFamily?: string;
  /** Task definition `taskRoleArn`; null for none. @default the doctor world's task role */
  taskRoleArn?: string | null;
  /** `overrides.taskRoleArn`. */
  overrideTaskRoleArn?: string;
  /** Task definition `pidMode`. */
  pidMode?: 'task' | 'host';
  /** awsvpc subnet of the task's ENI (not for EC2 bridge tasks). @default the doctor world's subnet */
  subnetId?: string;
  /** Public IP of the task's ENI. */
  publicIp?: string;
}

export interface FakeCluster {
  name: string;
  /** `configuration.executeCommandConfiguration.kmsKeyId`: sessions do the KMS handshake. */
  kmsKeyId?: string;
  /** `configuration.executeCommandConfiguration.logging`. @default 'DEFAULT' */
  logging?: ExecLogging;
  /** Services that exist even with no task (ListTasks on an unknown service fails). */
  services?: string[];
  tasks: FakeTask[];
  /** `executeCommandConfiguration.logConfiguration`. */
  logConfiguration?: {
    s3BucketName?: string;
    s3KeyPrefix?: string;
    s3EncryptionEnabled?: boolean;
    cloudWatchLogGroupName?: string;
    cloudWatchEncryptionEnabled?: boolean;
  };
  /** A service's own enableExecuteCommand (new tasks); @default every task of it has exec enabled. */
  serviceExec?: Record<string, boolean>;
}

export interface FakeWorld {
  account: string;
  region: string;
  clusters: FakeCluster[];
  /** KMS keys (ids or ARNs) besides the clusters' own `kmsKeyId`s. */
  kmsKeys: string[];
  /** S3 buckets that exist; every bucket exists when absent. */
  buckets?: string[];
  /** IAM, VPC and log state the doctor reads (doctor-world.ts); defaults made on first use. */
  doctor?: FakeDoctorState;
}

export interface ContainerInput {
  name?: string;
  runtimeId?: string;
  lastStatus?: ContainerStatus;
  execAgentStatus?: ExecAgentStatus;
  healthStatus?: HealthStatus;
  image?: string;
  env?: Record<string, string>;
  cwd?: string;
  execAgentReason?: string;
  readonlyRootFilesystem?: boolean;
  initProcessEnabled?: boolean;
  shell?: ScriptedCommand;
  execSessionLimit?: number;
}

export interface TaskInput extends Partial<Omit<FakeTask, 'containers'>> {
  containers?: ContainerInput[];
}

export interface ClusterInput extends Partial<Omit<FakeCluster, 'name' | 'tasks'>> {
  name: string;
  tasks?: TaskInput[];
}

export interface WorldOptions {
  account?: string;
  region?: string;
}

/** Ids of the default world, fixed so a local run is reproducible. */
export const DEFAULT_WORLD_IDS = {
  cluster: 'local',
  service: 'web',
  taskId: '6c1f0e4e2b6d4f3a9a7e5d8c4b3a2f10',
  kmsCluster: 'local-kms',
  kmsService: 'worker',
  kmsTaskId: '9d2e1f3c4b5a46978877665544332211',
  /** The key id of the documentation's example key. */
  kmsKeyUuid: '1234abcd-12ab-34cd-56ef-1234567890ab',
  runtimeSuffix: '3411925813',
  /** A service of cluster `cluster` with FLEET_TASK_COUNT scripted tasks, for the fan-out. */
  fleetService: 'fleet',
} as const;

/** Tasks of the fleet service: enough that a fan-out shows concurrency, paging and one failure among many. */
export const FLEET_TASK_COUNT = 300;
/** The fleet's task ids are fixed (derived from their index), so a local run is reproducible. */
const FLEET_ID_SEED = 'ecs-exec-runner-fleet';
const IP_OCTET = 256;

/** The id of the fleet's task number `index` (0-based). */
export function fleetTaskId(index: number): string {
  return createHash('sha256')
    .update(`${FLEET_ID_SEED}/${index}`)
    .digest('hex')
    .slice(0, TASK_ID_BYTES * 2);
}

/** The hostname the fleet's task number `index` answers `hostname` with (a Fargate-style name). */
export function fleetHostname(index: number): string {
  return `ip-10-0-${Math.floor(index / IP_OCTET)}-${index % IP_OCTET}.ec2.internal`;
}

/**
 * Adds `taskCount` RUNNING tasks of `service` whose container `app` is scripted ({@link fleetShell}):
 * cheap enough for hundreds of sessions, faithful on the wire.
 */
export function addFleetService(
  world: FakeWorld,
  clusterName: string,
  service: string,
  taskCount: number = FLEET_TASK_COUNT,
): FakeTask[] {
  return Array.from({ length: taskCount }, (_, index) =>
    addTask(world, clusterName, {
      id: fleetTaskId(index),
      service,
      healthStatus: 'HEALTHY',
      containers: [{ name: DEFAULT_CONTAINER_NAME, shell: fleetShell(fleetHostname(index)) }],
    }),
  );
}

export function kmsKeyArn(world: Pick<FakeWorld, 'account' | 'region'>, keyUuid: string): string {
  return `arn:aws:kms:${world.region}:${world.account}:key/${keyUuid}`;
}

/**
 * Cluster `local` (no KMS) with service `web` and one RUNNING, healthy task whose container `app`
 * has a RUNNING exec agent, and service `fleet` with {@link FLEET_TASK_COUNT} scripted tasks;
 * cluster `local-kms` (KMS key) with service `worker` and one such task.
 */
export function defaultWorld(options: WorldOptions = {}): FakeWorld {
  const world = emptyWorld(options);
  const ids = DEFAULT_WORLD_IDS;
  addCluster(world, {
    name: ids.cluster,
    tasks: [
      {
        id: ids.taskId,
        service: ids.service,
        healthStatus: 'HEALTHY',
        containers: [{ name: DEFAULT_CONTAINER_NAME, runtimeId: `${ids.taskId}-${ids.runtimeSuffix}` }],
      },
    ],
  });
  addFleetService(world, ids.cluster, ids.fleetService);
  addCluster(world, {
    name: ids.kmsCluster,
    kmsKeyId: kmsKeyArn(world, ids.kmsKeyUuid),
    tasks: [
      {
        id: ids.kmsTaskId,
        service: ids.kmsService,
        healthStatus: 'HEALTHY',
        containers: [{ name: DEFAULT_CONTAINER_NAME, runtimeId: `${ids.kmsTaskId}-${ids.runtimeSuffix}` }],
      },
    ],
  });
  return world;
}

export function emptyWorld(options: WorldOptions = {}): FakeWorld {
  return {
    account: options.account ?? DEFAULT_ACCOUNT,
    region: options.region ?? DEFAULT_REGION,
    clusters: [],
    kmsKeys: [],
  };
}

export function newTaskId(): string {
  return randomBytes(TASK_ID_BYTES).toString('hex');
}

function newRuntimeId(taskId: string): string {
  return `${taskId}-${randomInt(RUNTIME_ID_SUFFIX_MIN, RUNTIME_ID_SUFFIX_MAX)}`;
}

/** Adds a cluster (and its tasks, defaults filled in); a cluster of the same name is replaced. */
export function addCluster(world: FakeWorld, input: ClusterInput): FakeCluster {
  const { tasks = [], ...rest } = input;
  const cluster: FakeCluster = { ...rest, tasks: [] };
  world.clusters = world.clusters.filter((existing) => existing.name !== input.name);
  world.clusters.push(cluster);
  for (const task of tasks) addTask(world, cluster.name, task);
  return cluster;
}

/**
 * Adds a task to a cluster. Defaults: a new random id, RUNNING, exec enabled, FARGATE, health
 * UNKNOWN (no health check), one container `app` whose exec agent is RUNNING.
 */
export function addTask(world: FakeWorld, clusterName: string, input: TaskInput = {}): FakeTask {
  const cluster = world.clusters.find((candidate) => candidate.name === clusterName);
  if (cluster === undefined) throw new Error(`no cluster named ${clusterName} in the fake world`);
  const { containers = [{}], ...rest } = input;
  const id = rest.id ?? newTaskId();
  const launchType = rest.launchType ?? 'FARGATE';
  const task: FakeTask = {
    ...rest,
    id,
    lastStatus: rest.lastStatus ?? 'RUNNING',
    healthStatus: rest.healthStatus ?? 'UNKNOWN',
    enableExecuteCommand: rest.enableExecuteCommand ?? true,
    launchType,
    startedAt: rest.startedAt ?? new Date(),
    containers: containers.map((container) => ({
      ...container,
      name: container.name ?? DEFAULT_CONTAINER_NAME,
      runtimeId: container.runtimeId ?? newRuntimeId(id),
      lastStatus: container.lastStatus ?? 'RUNNING',
      execAgentStatus: container.execAgentStatus ?? 'RUNNING',
      image: container.image ?? DEFAULT_IMAGE,
    })),
  };
  if (launchType === 'FARGATE' && task.platformVersion === undefined) {
    task.platformVersion = DEFAULT_FARGATE_PLATFORM_VERSION;
  }
  cluster.tasks.push(task);
  return task;
}

export function desiredStatusOf(task: FakeTask): DesiredStatus {
  return task.desiredStatus ?? (task.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING');
}

export function familyOf(task: FakeTask): string {
  return task.family ?? task.service ?? DEFAULT_CONTAINER_NAME;
}

// ---- ARNs ----

function ecsArn(world: FakeWorld, resource: string): string {
  return `arn:aws:ecs:${world.region}:${world.account}:${resource}`;
}

export function clusterArn(world: FakeWorld, clusterName: string): string {
  return ecsArn(world, `cluster/${clusterName}`);
}

export function taskArn(world: FakeWorld, clusterName: string, taskId: string): string {
  return ecsArn(world, `task/${clusterName}/${taskId}`);
}

export function serviceArn(world: FakeWorld, clusterName: string, serviceName: string): string {
  return ecsArn(world, `service/${clusterName}/${serviceName}`);
}

export function taskDefinitionArn(world: FakeWorld, task: FakeTask): string {
  return ecsArn(world, `task-definition/${familyOf(task)}:1`);
}

export function containerInstanceArn(world: FakeWorld, clusterName: string, instanceId: string): string {
  return ecsArn(world, `container-instance/${clusterName}/${instanceId}`);
}

/** A stable UUID per (task, container), so the container ARN does not change between calls. */
export function containerArn(world: FakeWorld, clusterName: string, taskId: string, name: string): string {
  const hex = createHash('sha256').update(`${taskId}/${name}`).digest('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return ecsArn(world, `container/${clusterName}/${taskId}/${uuid}`);
}

/** The SSM target id of an ECS Exec session, part of the KMS encryption context (ssm-protocol.md §9.2). */
export function execTargetId(cluster: FakeCluster, task: FakeTask, container: FakeContainer): string {
  return `ecs:${cluster.name}_${task.id}_${container.runtimeId}`;
}

// ---- lookups ----

/** `name` or `arn:aws:ecs:<region>:<account>:cluster/<name>` (only in this world's region and account). */
export function findCluster(world: FakeWorld, ref: string): FakeCluster | undefined {
  const name = ref.startsWith('arn:') ? arnResourceName(world, ref, 'cluster') : ref;
  return name === undefined ? undefined : world.clusters.find((cluster) => cluster.name === name);
}

/**
 * `id`, `arn:…:task/<cluster>/<id>` or the old `arn:…:task/<id>`. An ARN of another cluster
 * does not match.
 */
export function findTask(world: FakeWorld, cluster: FakeCluster, ref: string): FakeTask | undefined {
  const id = taskIdOf(world, cluster, ref);
  return id === undefined ? undefined : cluster.tasks.find((task) => task.id === id);
}

export function taskIdOf(world: FakeWorld, cluster: FakeCluster, ref: string): string | undefined {
  if (!ref.startsWith('arn:')) return ref;
  const resource = arnResourceName(world, ref, 'task');
  if (resource === undefined) return undefined;
  const parts = resource.split('/');
  if (parts.length === 1) return parts[0];
  return parts.length === 2 && parts[0] === cluster.name ? parts[1] : undefined;
}

/** The part after `<type>/` of an ECS ARN in this world's region and account. */
function arnResourceName(world: FakeWorld, arn: string, type: string): string | undefined {
  const prefix = `arn:aws:ecs:${world.region}:${world.account}:${type}/`;
  return arn.startsWith(prefix) ? arn.slice(prefix.length) : undefined;
}

/** The last path segment of a service name or ARN. */
export function serviceNameOf(ref: string): string {
  return ref.startsWith('arn:') ? (ref.split('/').pop() ?? ref) : ref;
}

export function serviceNames(cluster: FakeCluster): string[] {
  const names = new Set(cluster.services ?? []);
  for (const task of cluster.tasks) if (task.service !== undefined) names.add(task.service);
  return [...names];
}

/** Every KMS key that exists: the world's list plus the clusters' keys. */
export function knownKmsKeys(world: FakeWorld): string[] {
  const keys = new Set(world.kmsKeys);
  for (const cluster of world.clusters) if (cluster.kmsKeyId !== undefined) keys.add(cluster.kmsKeyId);
  return [...keys];
}

/**
 * The known key a KeyId refers to: the same string, or a bare key id whose ARN in this world's
 * region and account is known (or the other way round). Aliases are not modelled.
 */
export function resolveKmsKey(world: FakeWorld, keyRef: string): string | undefined {
  const known = knownKmsKeys(world);
  const asArn = (ref: string): string => (ref.startsWith('arn:') ? ref : kmsKeyArn(world, ref));
  return known.find((key) => key === keyRef) ?? known.find((key) => asArn(key) === asArn(keyRef));
}
