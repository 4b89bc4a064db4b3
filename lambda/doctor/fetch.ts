/**
 * One function per AWS read the doctor makes outside ECS (those are in fetch-ecs.ts). Each returns
 * plain facts; `attempt` turns a denial into a `Fetched` the checks report as "could not check X:
 * the caller lacks Y", never an exception.
 */
import type { DoctorClients } from './clients';
import type { Simulation } from './permissions';
import type {
  BucketFacts,
  CallerFacts,
  Decisions,
  Fetched,
  KmsKeyFacts,
  LogGroupFacts,
  Route,
} from './types';

const DENIED_PATTERN = /AccessDenied|UnauthorizedOperation|AuthorizationError|NotAuthorized|Forbidden/i;
const HTTP_FORBIDDEN = 403;
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
