/**
 * One function per AWS read the doctor makes. Each returns plain facts; a denial becomes a
 * `Fetched` the checks report as "could not check X: the caller lacks Y", never an exception.
 */
import type { ECSClient, Task } from '@aws-sdk/client-ecs';
import { EXEC_AGENT_NAME } from '../aws/target';
import type { DoctorClients } from './clients';
import type { Simulation } from './permissions';
import type {
  BucketFacts,
  CallerFacts,
  ClusterFacts,
  ContainerInstanceFacts,
  Decisions,
  Fetched,
  KmsKeyFacts,
  LogGroupFacts,
  Route,
  ServiceFacts,
  TaskDefinitionFacts,
  TaskFacts,
} from './types';

const DENIED_PATTERN = /AccessDenied|UnauthorizedOperation|AuthorizationError|NotAuthorized|Forbidden/i;
const HTTP_FORBIDDEN = 403;
const SERVICE_GROUP_PREFIX = 'service:';
/** Endpoint states that carry no traffic. */
const DEAD_ENDPOINT_STATES: ReadonlySet<string> = new Set([
  'deleted',
  'deleting',
  'failed',
  'rejected',
  'expired',
]);

function isDenied(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return DENIED_PATTERN.test(err.name) || (status === HTTP_FORBIDDEN && !/NoSuch|NotFound/.test(err.name));
}

/** Runs one read; its errors become a `Fetched` failure naming the IAM action it needed. */
export async function attempt<T>(action: string, read: () => Promise<T>): Promise<Fetched<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { ok: false, denied: isDenied(err), action, message };
  }
}

export const errorName = (err: unknown): string => (err instanceof Error ? err.name : '');

export async function fetchCaller(clients: DoctorClients): Promise<CallerFacts> {
  const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const identity = await (await clients.sts()).send(new GetCallerIdentityCommand({}));
  const arn = identity.Arn ?? '';
  const account = identity.Account ?? '';
  const assumed = /^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\//.exec(arn);
  if (assumed === null) return { account, arn, principalArn: arn };
  const [, partition, roleAccount, roleName] = assumed as unknown as [string, string, string, string];
  // The session ARN drops the role's path; GetRole gives the ARN IAM simulates against.
  const { GetRoleCommand } = await import('@aws-sdk/client-iam');
  const fallback = `arn:${partition}:iam::${roleAccount}:role/${roleName}`;
  try {
    const role = await (await clients.iam()).send(new GetRoleCommand({ RoleName: roleName }));
    return { account, arn, principalArn: role.Role?.Arn ?? fallback };
  } catch {
    return { account, arn, principalArn: fallback };
  }
}

export async function fetchCluster(ecs: ECSClient, cluster: string): Promise<ClusterFacts | undefined> {
  const { DescribeClustersCommand } = await import('@aws-sdk/client-ecs');
  const response = await ecs.send(
    new DescribeClustersCommand({ clusters: [cluster], include: ['CONFIGURATIONS'] }),
  );
  const found = response.clusters?.[0];
  if (found?.clusterArn === undefined) return undefined;
  const exec = found.configuration?.executeCommandConfiguration;
  const log = exec?.logConfiguration;
  return {
    arn: found.clusterArn,
    name: found.clusterName ?? cluster,
    status: found.status ?? 'UNKNOWN',
    ...(exec !== undefined
      ? {
          exec: {
            ...(exec.kmsKeyId ? { kmsKeyId: exec.kmsKeyId } : {}),
            ...(exec.logging ? { logging: exec.logging } : {}),
            ...(log !== undefined
              ? {
                  log: {
                    ...(log.s3BucketName ? { s3BucketName: log.s3BucketName } : {}),
                    ...(log.s3KeyPrefix ? { s3KeyPrefix: log.s3KeyPrefix } : {}),
                    ...(log.s3EncryptionEnabled !== undefined
                      ? { s3EncryptionEnabled: log.s3EncryptionEnabled }
                      : {}),
                    ...(log.cloudWatchLogGroupName
                      ? { cloudWatchLogGroupName: log.cloudWatchLogGroupName }
                      : {}),
                    ...(log.cloudWatchEncryptionEnabled !== undefined
                      ? { cloudWatchEncryptionEnabled: log.cloudWatchEncryptionEnabled }
                      : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}

export async function fetchKmsKey(clients: DoctorClients, keyId: string): Promise<KmsKeyFacts | undefined> {
  const { DescribeKeyCommand } = await import('@aws-sdk/client-kms');
  try {
    const { KeyMetadata } = await (await clients.kms()).send(new DescribeKeyCommand({ KeyId: keyId }));
    return {
      arn: KeyMetadata?.Arn ?? keyId,
      enabled: KeyMetadata?.Enabled === true,
      keyState: KeyMetadata?.KeyState ?? 'Unknown',
    };
  } catch (err) {
    if (errorName(err) === 'NotFoundException') return undefined;
    throw err;
  }
}

export async function fetchLogGroup(clients: DoctorClients, name: string): Promise<LogGroupFacts> {
  const { paginateDescribeLogGroups } = await import('@aws-sdk/client-cloudwatch-logs');
  for await (const page of paginateDescribeLogGroups(
    { client: await clients.logs() },
    { logGroupNamePrefix: name },
  )) {
    const group = page.logGroups?.find((g) => g.logGroupName === name);
    if (group !== undefined) return { exists: true, ...(group.kmsKeyId ? { kmsKeyId: group.kmsKeyId } : {}) };
  }
  return { exists: false };
}

export async function fetchBucket(clients: DoctorClients, bucket: string): Promise<BucketFacts> {
  const { GetBucketEncryptionCommand } = await import('@aws-sdk/client-s3');
  try {
    const response = await (await clients.s3()).send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    const algorithms = (response.ServerSideEncryptionConfiguration?.Rules ?? [])
      .map((rule) => rule.ApplyServerSideEncryptionByDefault?.SSEAlgorithm)
      .filter((a): a is NonNullable<typeof a> => a !== undefined);
    return { exists: true, encryption: algorithms };
  } catch (err) {
    if (errorName(err) === 'NoSuchBucket') return { exists: false, encryption: [] };
    if (errorName(err) === 'ServerSideEncryptionConfigurationNotFoundError')
      return { exists: true, encryption: [] };
    throw err;
  }
}

export async function fetchService(
  ecs: ECSClient,
  cluster: string,
  service: string,
): Promise<ServiceFacts | undefined> {
  const { DescribeServicesCommand } = await import('@aws-sdk/client-ecs');
  const response = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const found = response.services?.find((s) => s.status !== 'INACTIVE');
  if (found?.serviceArn === undefined) return undefined;
  return {
    arn: found.serviceArn,
    name: found.serviceName ?? service,
    enableExecuteCommand: found.enableExecuteCommand === true,
    status: found.status ?? 'UNKNOWN',
  };
}

/** DescribeTasks takes at most this many tasks per call. */
const DESCRIBE_TASKS_BATCH = 100;

export async function fetchTasks(
  ecs: ECSClient,
  cluster: string,
  refs: readonly string[],
): Promise<TaskFacts[]> {
  const { DescribeTasksCommand } = await import('@aws-sdk/client-ecs');
  const tasks: TaskFacts[] = [];
  for (let i = 0; i < refs.length; i += DESCRIBE_TASKS_BATCH) {
    const response = await ecs.send(
      new DescribeTasksCommand({ cluster, tasks: refs.slice(i, i + DESCRIBE_TASKS_BATCH) }),
    );
    tasks.push(...(response.tasks ?? []).map(taskFacts));
  }
  return tasks;
}

export async function listServiceTasks(ecs: ECSClient, cluster: string, service: string): Promise<string[]> {
  const { paginateListTasks } = await import('@aws-sdk/client-ecs');
  const arns: string[] = [];
  const serviceName = service.split('/').pop() ?? service;
  for await (const page of paginateListTasks(
    { client: ecs },
    { cluster, serviceName, desiredStatus: 'RUNNING' },
  )) {
    arns.push(...(page.taskArns ?? []));
  }
  return arns;
}

function taskFacts(task: Task): TaskFacts {
  const arn = task.taskArn ?? '';
  const eni = task.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
  const detail = (name: string): string | undefined => eni?.details?.find((d) => d.name === name)?.value;
  const subnetId = detail('subnetId');
  const networkInterfaceId = detail('networkInterfaceId');
  const service = task.group?.startsWith(SERVICE_GROUP_PREFIX)
    ? task.group.slice(SERVICE_GROUP_PREFIX.length)
    : undefined;
  return {
    arn,
    id: arn.split('/').pop() ?? arn,
    lastStatus: task.lastStatus ?? 'UNKNOWN',
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    ...(task.launchType ? { launchType: task.launchType } : {}),
    ...(task.platformVersion ? { platformVersion: task.platformVersion } : {}),
    ...(task.platformFamily ? { platformFamily: task.platformFamily } : {}),
    enableExecuteCommand: task.enableExecuteCommand === true,
    ...(service ? { service } : {}),
    taskDefinitionArn: task.taskDefinitionArn ?? '',
    ...(task.containerInstanceArn ? { containerInstanceArn: task.containerInstanceArn } : {}),
    ...(task.overrides?.taskRoleArn ? { overrideTaskRoleArn: task.overrides.taskRoleArn } : {}),
    ...(subnetId ? { subnetId } : {}),
    ...(networkInterfaceId ? { networkInterfaceId } : {}),
    containers: (task.containers ?? []).map((c) => {
      const agent = c.managedAgents?.find((a) => a.name === EXEC_AGENT_NAME);
      return {
        name: c.name ?? '',
        ...(c.lastStatus ? { lastStatus: c.lastStatus } : {}),
        hasManagedAgents: c.managedAgents !== undefined,
        ...(agent !== undefined
          ? {
              execAgent: {
                name: EXEC_AGENT_NAME,
                ...(agent.lastStatus ? { lastStatus: agent.lastStatus } : {}),
                ...(agent.reason ? { reason: agent.reason } : {}),
              },
            }
          : {}),
      };
    }),
  };
}

export async function fetchTaskDefinition(ecs: ECSClient, arn: string): Promise<TaskDefinitionFacts> {
  const { DescribeTaskDefinitionCommand } = await import('@aws-sdk/client-ecs');
  const { taskDefinition: td } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
  return {
    arn: td?.taskDefinitionArn ?? arn,
    familyRevision: `${td?.family ?? '?'}:${td?.revision ?? '?'}`,
    ...(td?.taskRoleArn ? { taskRoleArn: td.taskRoleArn } : {}),
    ...(td?.pidMode ? { pidMode: td.pidMode } : {}),
    ...(td?.networkMode ? { networkMode: td.networkMode } : {}),
    containers: (td?.containerDefinitions ?? []).map((c) => ({
      name: c.name ?? '',
      initProcessEnabled: c.linuxParameters?.initProcessEnabled === true,
      readonlyRootFilesystem: c.readonlyRootFilesystem === true,
      // Names only: the values may be secrets and never enter the report.
      environmentNames: [...(c.environment ?? []), ...(c.secrets ?? [])]
        .map((e) => e.name)
        .filter((n): n is string => n !== undefined),
    })),
  };
}

export async function fetchContainerInstance(
  ecs: ECSClient,
  cluster: string,
  arn: string,
): Promise<ContainerInstanceFacts> {
  const { DescribeContainerInstancesCommand } = await import('@aws-sdk/client-ecs');
  const response = await ecs.send(
    new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] }),
  );
  const instance = response.containerInstances?.[0];
  const subnetId = instance?.attributes?.find((a) => a.name === 'ecs.subnet-id')?.value;
  return {
    ...(instance?.versionInfo?.agentVersion ? { agentVersion: instance.versionInfo.agentVersion } : {}),
    ...(instance?.ec2InstanceId ? { ec2InstanceId: instance.ec2InstanceId } : {}),
    ...(subnetId ? { subnetId } : {}),
  };
}

export async function fetchInstance(
  clients: DoctorClients,
  instanceId: string,
): Promise<{ instanceProfileArn?: string; publicIp?: string }> {
  const { DescribeInstancesCommand } = await import('@aws-sdk/client-ec2');
  const response = await (await clients.ec2()).send(
    new DescribeInstancesCommand({ InstanceIds: [instanceId] }),
  );
  const instance = response.Reservations?.[0]?.Instances?.[0];
  return {
    ...(instance?.IamInstanceProfile?.Arn ? { instanceProfileArn: instance.IamInstanceProfile.Arn } : {}),
    ...(instance?.PublicIpAddress ? { publicIp: instance.PublicIpAddress } : {}),
  };
}

export async function fetchInstanceProfileRole(
  clients: DoctorClients,
  profileArn: string,
): Promise<string | undefined> {
  const { GetInstanceProfileCommand } = await import('@aws-sdk/client-iam');
  const name = profileArn.split('/').pop() ?? profileArn;
  const response = await (await clients.iam()).send(
    new GetInstanceProfileCommand({ InstanceProfileName: name }),
  );
  return response.InstanceProfile?.Roles?.[0]?.Arn;
}

/** Decisions by action; each simulation is one call (paged), `*` meaning no resource list. */
export async function simulate(
  clients: DoctorClients,
  principalArn: string,
  simulations: readonly Simulation[],
): Promise<Decisions> {
  const { paginateSimulatePrincipalPolicy } = await import('@aws-sdk/client-iam');
  const client = await clients.iam();
  const decisions: Record<string, string> = {};
  for (const simulation of simulations) {
    const resources = simulation.resources.filter((r) => r !== '*');
    const pages = paginateSimulatePrincipalPolicy(
      { client },
      {
        PolicySourceArn: principalArn,
        ActionNames: [...simulation.actions],
        ...(resources.length > 0 ? { ResourceArns: resources } : {}),
      },
    );
    for await (const page of pages) {
      for (const result of page.EvaluationResults ?? []) {
        if (result.EvalActionName !== undefined && result.EvalDecision !== undefined) {
          // Several resources: the action is allowed only if it is allowed on each.
          const previous = decisions[result.EvalActionName];
          decisions[result.EvalActionName] =
            previous === undefined || previous === 'allowed' ? result.EvalDecision : previous;
        }
      }
    }
  }
  return decisions;
}

export async function fetchSubnet(
  clients: DoctorClients,
  subnetId: string,
): Promise<{ vpcId: string; ownerId: string } | undefined> {
  const { DescribeSubnetsCommand } = await import('@aws-sdk/client-ec2');
  const response = await (await clients.ec2()).send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
  const subnet = response.Subnets?.[0];
  return subnet?.VpcId ? { vpcId: subnet.VpcId, ownerId: subnet.OwnerId ?? '' } : undefined;
}

export async function fetchEndpointServices(clients: DoctorClients, vpcId: string): Promise<string[]> {
  const { paginateDescribeVpcEndpoints } = await import('@aws-sdk/client-ec2');
  const services: string[] = [];
  const pages = paginateDescribeVpcEndpoints(
    { client: await clients.ec2() },
    { Filters: [{ Name: 'vpc-id', Values: [vpcId] }] },
  );
  for await (const page of pages) {
    for (const endpoint of page.VpcEndpoints ?? []) {
      if (endpoint.ServiceName && !DEAD_ENDPOINT_STATES.has((endpoint.State ?? '').toLowerCase())) {
        services.push(endpoint.ServiceName);
      }
    }
  }
  return services;
}

/** The routes of the subnet's route table, or of the VPC's main table when none is associated. */
export async function fetchRoutes(clients: DoctorClients, subnetId: string, vpcId: string): Promise<Route[]> {
  const { paginateDescribeRouteTables } = await import('@aws-sdk/client-ec2');
  const client = await clients.ec2();
  const firstTable = async (filters: { Name: string; Values: string[] }[]) => {
    for await (const page of paginateDescribeRouteTables({ client }, { Filters: filters })) {
      const table = page.RouteTables?.[0];
      if (table !== undefined) return table;
    }
    return undefined;
  };
  const table =
    (await firstTable([{ Name: 'association.subnet-id', Values: [subnetId] }])) ??
    (await firstTable([
      { Name: 'vpc-id', Values: [vpcId] },
      { Name: 'association.main', Values: ['true'] },
    ]));
  return (table?.Routes ?? []).map((route) => ({
    destination:
      route.DestinationCidrBlock ?? route.DestinationIpv6CidrBlock ?? route.DestinationPrefixListId ?? '',
    target:
      route.NatGatewayId ??
      route.GatewayId ??
      route.TransitGatewayId ??
      route.NetworkInterfaceId ??
      route.VpcPeeringConnectionId ??
      route.InstanceId ??
      'unknown',
    ...(route.State ? { state: route.State } : {}),
  }));
}

export async function fetchEniPublicIp(clients: DoctorClients, eniId: string): Promise<string | undefined> {
  const { DescribeNetworkInterfacesCommand } = await import('@aws-sdk/client-ec2');
  const response = await (await clients.ec2()).send(
    new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }),
  );
  return response.NetworkInterfaces?.[0]?.Association?.PublicIp;
}
