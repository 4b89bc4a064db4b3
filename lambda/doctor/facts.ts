/**
 * Gathers everything the checks need, tolerating denials at every step. Reads shared by several
 * tasks of a service (task definitions, roles, subnets) are made once; tasks are examined a few
 * at a time so that a large service does not trip IAM's throttling.
 */

import pLimit from 'p-limit';
import { partitionOf } from './checks/common';
import type { DoctorClients } from './clients';
import {
  attempt,
  fetchBucket,
  fetchCaller,
  fetchEndpointServices,
  fetchEniPublicIp,
  fetchInstance,
  fetchInstanceProfileRole,
  fetchKmsKey,
  fetchLogGroup,
  fetchRoutes,
  fetchSubnet,
  simulate,
} from './fetch';
import {
  fetchCluster,
  fetchContainerInstance,
  fetchService,
  fetchTaskDefinition,
  fetchTasks,
  listServiceTasks,
} from './fetch-ecs';
import { agentRoleSimulations, callerSimulations } from './permissions';
import { execKeyArn } from './report';
import type {
  AgentRoleFacts,
  CallerFacts,
  ClusterFacts,
  ContainerInstanceFacts,
  Decisions,
  DoctorFacts,
  DoctorTarget,
  Fetched,
  NetworkFacts,
  TaskDefinitionFacts,
  TaskFacts,
  TaskReportFacts,
} from './types';

/** Tasks examined at once. */
const TASK_CONCURRENCY = 4;

export interface GatherOptions {
  readonly region: string;
  /** Runs `true` in the task through ECS Exec (the --probe); absent: no probe. */
  readonly probe?: (task: TaskFacts) => Promise<{ ok: boolean; detail: string }>;
}

function memo<T>(): (key: string, load: () => Promise<T>) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key, load) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = load();
      cache.set(key, value);
    }
    return value;
  };
}

export async function gatherFacts(
  clients: DoctorClients,
  target: DoctorTarget,
  options: GatherOptions,
): Promise<DoctorFacts> {
  const [caller, cluster] = await Promise.all([
    attempt('sts:GetCallerIdentity', () => fetchCaller(clients)),
    attempt('ecs:DescribeClusters', () => fetchCluster(clients.ecs, target.cluster)),
  ]);
  const clusterFacts = cluster.ok ? cluster.value : undefined;
  if ((cluster.ok && clusterFacts === undefined) || (!caller.ok && !caller.denied)) {
    // No such cluster, or no way to call AWS at all: every other read would fail the same way.
    return {
      region: options.region,
      target,
      caller,
      cluster,
      callerDecisions: {},
      tasks: { ok: true, value: [] },
    };
  }
  const exec = clusterFacts?.exec;
  const log = exec?.log;
  const [kmsKey, bucket, logGroup, service, tasks] = await Promise.all([
    exec?.kmsKeyId
      ? attempt('kms:DescribeKey', () => fetchKmsKey(clients, exec.kmsKeyId as string))
      : undefined,
    log?.s3BucketName
      ? attempt('s3:GetEncryptionConfiguration', () => fetchBucket(clients, log.s3BucketName as string))
      : undefined,
    log?.cloudWatchLogGroupName
      ? attempt('logs:DescribeLogGroups', () => fetchLogGroup(clients, log.cloudWatchLogGroupName as string))
      : undefined,
    target.service !== undefined
      ? attempt('ecs:DescribeServices', () =>
          fetchService(clients.ecs, target.cluster, target.service as string),
        )
      : undefined,
    lookUpTasks(clients, target),
  ]);
  const keyArn = execKeyArn({ ...(kmsKey !== undefined ? { kmsKey } : {}) }, clusterFacts);
  const perTask = new TaskExaminer(clients, target, options, clusterFacts, keyArn, caller);
  const examineLimit = pLimit(TASK_CONCURRENCY);
  const examined = tasks.ok
    ? await Promise.all(tasks.value.map((task) => examineLimit(() => perTask.examine(task))))
    : [];
  return {
    region: options.region,
    target,
    caller,
    cluster,
    ...(kmsKey !== undefined ? { kmsKey } : {}),
    ...(bucket !== undefined ? { bucket } : {}),
    ...(logGroup !== undefined ? { logGroup } : {}),
    ...(service !== undefined ? { service } : {}),
    callerDecisions: Object.fromEntries(examined.map((e) => [e.facts.task.arn, e.callerDecisions])),
    tasks: tasks.ok ? { ok: true, value: examined.map((e) => e.facts) } : tasks,
  };
}

async function lookUpTasks(
  clients: DoctorClients,
  target: DoctorTarget,
): Promise<Fetched<readonly TaskFacts[]>> {
  if (target.task !== undefined) {
    return attempt('ecs:DescribeTasks', () =>
      fetchTasks(clients.ecs, target.cluster, [target.task as string]),
    );
  }
  const arns = await attempt('ecs:ListTasks', () =>
    listServiceTasks(clients.ecs, target.cluster, target.service ?? ''),
  );
  if (!arns.ok) return arns;
  if (arns.value.length === 0) return { ok: true, value: [] };
  return attempt('ecs:DescribeTasks', () => fetchTasks(clients.ecs, target.cluster, arns.value));
}

/** Per-task reads, sharing what several tasks have in common. */
class TaskExaminer {
  private readonly definitions = memo<Fetched<TaskDefinitionFacts>>();
  private readonly roleDecisions = memo<Fetched<Decisions>>();
  private readonly networks = memo<Fetched<NetworkFacts>>();

  constructor(
    private readonly clients: DoctorClients,
    private readonly target: DoctorTarget,
    private readonly options: GatherOptions,
    private readonly cluster: ClusterFacts | undefined,
    private readonly keyArn: string | undefined,
    private readonly caller: Fetched<CallerFacts>,
  ) {}

  async examine(task: TaskFacts): Promise<{ facts: TaskReportFacts; callerDecisions: Fetched<Decisions> }> {
    const { clients } = this;
    const clusterRef = this.cluster?.arn ?? this.target.cluster;
    const [definition, containerInstance] = await Promise.all([
      this.definitions(task.taskDefinitionArn, () =>
        attempt('ecs:DescribeTaskDefinition', () => fetchTaskDefinition(clients.ecs, task.taskDefinitionArn)),
      ),
      task.containerInstanceArn !== undefined
        ? attempt('ecs:DescribeContainerInstances', () =>
            fetchContainerInstance(clients.ecs, clusterRef, task.containerInstanceArn as string),
          )
        : undefined,
    ]);
    const instanceId = containerInstance?.ok ? containerInstance.value.ec2InstanceId : undefined;
    const instance =
      instanceId !== undefined
        ? await attempt('ec2:DescribeInstances', () => fetchInstance(clients, instanceId))
        : undefined;
    const [agentRole, network, callerDecisions, probe] = await Promise.all([
      this.agentRole(task, definition, instance),
      this.network(task, containerInstance, instance),
      this.callerDecisions(task),
      this.options.probe?.(task),
    ]);
    const agentRoleDecisions =
      agentRole.ok && agentRole.value !== undefined
        ? await this.agentRoleDecisions(agentRole.value.arn, task)
        : undefined;
    return {
      facts: {
        task,
        definition,
        ...(containerInstance !== undefined ? { containerInstance } : {}),
        agentRole,
        ...(agentRoleDecisions !== undefined ? { agentRoleDecisions } : {}),
        ...(network !== undefined ? { network } : {}),
        ...(probe !== undefined ? { probe } : {}),
      },
      callerDecisions,
    };
  }

  private async agentRole(
    task: TaskFacts,
    definition: Fetched<TaskDefinitionFacts>,
    instance: Fetched<{ instanceProfileArn?: string }> | undefined,
  ): Promise<Fetched<AgentRoleFacts | undefined>> {
    if (task.overrideTaskRoleArn !== undefined) {
      return { ok: true, value: { arn: task.overrideTaskRoleArn, source: 'override' } };
    }
    if (!definition.ok) return definition;
    if (definition.value.taskRoleArn !== undefined) {
      return { ok: true, value: { arn: definition.value.taskRoleArn, source: 'task-definition' } };
    }
    if (task.launchType !== 'EC2' || instance === undefined) return { ok: true, value: undefined };
    if (!instance.ok) return instance;
    const profile = instance.value.instanceProfileArn;
    if (profile === undefined) return { ok: true, value: undefined };
    const role = await attempt('iam:GetInstanceProfile', () =>
      fetchInstanceProfileRole(this.clients, profile),
    );
    if (!role.ok) return role;
    return {
      ok: true,
      value: role.value === undefined ? undefined : { arn: role.value, source: 'instance-profile' },
    };
  }

  private agentRoleDecisions(roleArn: string, task: TaskFacts): Promise<Fetched<Decisions>> {
    const where = {
      partition: partitionOf(task.arn),
      region: this.options.region,
      account: task.arn.split(':')[4] ?? '',
    };
    const simulations = agentRoleSimulations(where, {
      ...(this.keyArn !== undefined ? { kmsKeyArn: this.keyArn } : {}),
      ...(this.cluster?.exec?.log !== undefined ? { log: this.cluster.exec.log } : {}),
    });
    return this.roleDecisions(roleArn, () =>
      attempt('iam:SimulatePrincipalPolicy', () => simulate(this.clients, roleArn, simulations)),
    );
  }

  private async callerDecisions(task: TaskFacts): Promise<Fetched<Decisions>> {
    if (!this.caller.ok) return this.caller;
    const principal = this.caller.value.principalArn;
    return attempt('iam:SimulatePrincipalPolicy', () =>
      simulate(this.clients, principal, callerSimulations(task.arn, this.keyArn)),
    );
  }

  private async network(
    task: TaskFacts,
    containerInstance: Fetched<ContainerInstanceFacts> | undefined,
    instance: Fetched<{ publicIp?: string }> | undefined,
  ): Promise<Fetched<NetworkFacts> | undefined> {
    const subnetId = task.subnetId ?? (containerInstance?.ok ? containerInstance.value.subnetId : undefined);
    if (subnetId === undefined) return undefined;
    const { clients } = this;
    const subnet = await this.networks(subnetId, async () => {
      const found = await attempt('ec2:DescribeSubnets', () => fetchSubnet(clients, subnetId));
      if (!found.ok) return found;
      if (found.value === undefined) {
        return {
          ok: false,
          denied: false,
          action: 'ec2:DescribeSubnets',
          message: `subnet ${subnetId} not found`,
        };
      }
      const { vpcId, ownerId } = found.value;
      const [endpointServices, routes] = await Promise.all([
        attempt('ec2:DescribeVpcEndpoints', () => fetchEndpointServices(clients, vpcId)),
        attempt('ec2:DescribeRouteTables', () => fetchRoutes(clients, subnetId, vpcId)),
      ]);
      const noIp: Fetched<string | undefined> = { ok: true, value: undefined };
      return {
        ok: true,
        value: { subnetId, vpcId, subnetOwnerId: ownerId, endpointServices, routes, publicIp: noIp },
      };
    });
    if (!subnet.ok) return subnet;
    const publicIp: Fetched<string | undefined> =
      task.networkInterfaceId !== undefined
        ? await attempt('ec2:DescribeNetworkInterfaces', () =>
            fetchEniPublicIp(clients, task.networkInterfaceId as string),
          )
        : instance?.ok
          ? { ok: true, value: instance.value.publicIp }
          : (instance ?? { ok: true, value: undefined });
    return { ok: true, value: { ...subnet.value, publicIp } };
  }
}
