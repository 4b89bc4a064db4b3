/**
 * What `ecs-exec doctor` reads besides ECS: IAM principals with a tiny policy model, subnets,
 * route tables, VPC endpoints, KMS key states, log groups, bucket encryption, container
 * instances. `doctorState(world)` fills in a healthy default on first use, so the default world's
 * targets are all green; doctor-targets.ts adds clusters and tasks broken in each way the doctor
 * diagnoses.
 */
import { AwsServiceError } from './errors';
import type { FakeWorld } from './world';

export type FakeEffect = 'Allow' | 'Deny';

export interface FakeStatement {
  readonly effect: FakeEffect;
  /** `service:Action`, `*` and `?` wildcards, case-insensitive. */
  readonly actions: readonly string[];
  /** ARNs with `*` and `?` wildcards. */
  readonly resources: readonly string[];
}

export type SimulatedDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface FakeRoute {
  readonly destination: string;
  /** `nat-…`, `igw-…`, `local`… */
  readonly target: string;
}

export interface FakeSubnet {
  readonly vpcId: string;
  /** @default the world's account */
  readonly ownerId?: string;
  /** The associated route table; the VPC's main table when absent. */
  readonly routeTableId?: string;
}

export interface FakeRouteTable {
  readonly vpcId: string;
  readonly main?: boolean;
  readonly routes: readonly FakeRoute[];
}

export interface FakeContainerInstance {
  readonly agentVersion: string;
  readonly ec2InstanceId: string;
  readonly subnetId: string;
}

export interface FakeInstance {
  readonly instanceProfileArn?: string;
  readonly publicIp?: string;
}

export type KmsKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface FakeDoctorState {
  /** What STS GetCallerIdentity answers (an assumed-role session ARN). */
  callerArn: string;
  /** Policies by principal ARN (roles and users). */
  principals: Record<string, FakeStatement[]>;
  /** Role ARN by instance profile name. */
  instanceProfiles: Record<string, string>;
  instances: Record<string, FakeInstance>;
  /** By container instance id (the last part of its ARN). */
  containerInstances: Record<string, FakeContainerInstance>;
  subnets: Record<string, FakeSubnet>;
  routeTables: Record<string, FakeRouteTable>;
  vpcEndpoints: { readonly vpcId: string; readonly serviceName: string }[];
  /** By key ARN; a known key is Enabled unless listed. */
  kmsKeyStates: Record<string, KmsKeyState>;
  /** Log groups that exist, with their KMS key if encrypted. */
  logGroups: Record<string, { readonly kmsKeyId?: string }>;
  /** Default encryption algorithms by bucket (`[]`: none); buckets not listed have AES256. */
  bucketEncryption: Record<string, string[]>;
  /** Buckets GetBucketEncryption answers NoSuchBucket for. */
  missingBuckets: string[];
}

export const DOCTOR_WORLD_IDS = {
  callerRole: 'local-developer',
  callerSession: 'doctor',
  taskRole: 'local-task-role',
  subnet: 'subnet-0a11ce5e00000local',
  vpc: 'vpc-0local',
  mainRouteTable: 'rtb-0local-main',
  natGateway: 'nat-0local',
} as const;

export const roleArn = (world: Pick<FakeWorld, 'account'>, name: string): string =>
  `arn:aws:iam::${world.account}:role/${name}`;

/** Everything the local developer may do: the exec path and the doctor's reads, not ssm:StartSession. */
export const CALLER_STATEMENTS: readonly FakeStatement[] = [
  {
    effect: 'Allow',
    actions: [
      'ecs:*',
      'kms:GenerateDataKey',
      'kms:Decrypt',
      'kms:DescribeKey',
      'ssm:ResumeSession',
      'ssm:TerminateSession',
      'iam:GetRole',
      'iam:GetInstanceProfile',
      'iam:SimulatePrincipalPolicy',
      'ec2:Describe*',
      'logs:DescribeLogGroups',
      's3:GetEncryptionConfiguration',
      's3:PutObject',
    ],
    resources: ['*'],
  },
];

/** The task role ECS Exec needs (ECS Exec documentation), with the logging and KMS extras. */
export const TASK_ROLE_STATEMENTS: readonly FakeStatement[] = [
  {
    effect: 'Allow',
    actions: [
      'ssmmessages:CreateControlChannel',
      'ssmmessages:CreateDataChannel',
      'ssmmessages:OpenControlChannel',
      'ssmmessages:OpenDataChannel',
    ],
    resources: ['*'],
  },
  { effect: 'Allow', actions: ['kms:Decrypt'], resources: ['*'] },
  { effect: 'Allow', actions: ['s3:PutObject', 's3:GetEncryptionConfiguration'], resources: ['*'] },
  {
    effect: 'Allow',
    actions: [
      'logs:DescribeLogGroups',
      'logs:CreateLogStream',
      'logs:DescribeLogStreams',
      'logs:PutLogEvents',
    ],
    resources: ['*'],
  },
];

export function defaultDoctorState(world: Pick<FakeWorld, 'account' | 'region'>): FakeDoctorState {
  const ids = DOCTOR_WORLD_IDS;
  return {
    callerArn: `arn:aws:sts::${world.account}:assumed-role/${ids.callerRole}/${ids.callerSession}`,
    principals: {
      [roleArn(world, ids.callerRole)]: [...CALLER_STATEMENTS],
      [roleArn(world, ids.taskRole)]: [...TASK_ROLE_STATEMENTS],
    },
    instanceProfiles: {},
    instances: {},
    containerInstances: {},
    subnets: { [ids.subnet]: { vpcId: ids.vpc } },
    routeTables: {
      [ids.mainRouteTable]: {
        vpcId: ids.vpc,
        main: true,
        routes: [
          { destination: '10.0.0.0/16', target: 'local' },
          { destination: '0.0.0.0/0', target: ids.natGateway },
        ],
      },
    },
    vpcEndpoints: [],
    kmsKeyStates: {},
    logGroups: {},
    bucketEncryption: {},
    missingBuckets: [],
  };
}

/** The world's doctor state, made (healthy) on first use. */
export function doctorState(world: FakeWorld): FakeDoctorState {
  world.doctor ??= defaultDoctorState(world);
  return world.doctor;
}

export function defaultTaskRoleArn(world: Pick<FakeWorld, 'account'>): string {
  return roleArn(world, DOCTOR_WORLD_IDS.taskRole);
}

/** The IAM principal behind the caller (the role of an assumed-role session). */
export function callerPrincipalArn(world: FakeWorld): string {
  const arn = doctorState(world).callerArn;
  const assumed = /^arn:aws:sts::(\d+):assumed-role\/([^/]+)\//.exec(arn);
  return assumed === null ? arn : `arn:aws:iam::${assumed[1]}:role/${assumed[2]}`;
}

function globMatches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/** IAM's evaluation, reduced to identity policies: an explicit Deny wins, then any Allow. */
export function evaluatePolicy(
  statements: readonly FakeStatement[],
  action: string,
  resource = '*',
): SimulatedDecision {
  const matching = statements.filter(
    (s) =>
      s.actions.some((a) => globMatches(a, action, true)) &&
      s.resources.some((r) => globMatches(r, resource, false)),
  );
  if (matching.some((s) => s.effect === 'Deny')) return 'explicitDeny';
  return matching.some((s) => s.effect === 'Allow') ? 'allowed' : 'implicitDeny';
}

/** Throws the service's access-denied error unless the caller's policy allows `action`. */
export function authorizeCaller(world: FakeWorld, action: string, code: string, resource = '*'): void {
  const principal = callerPrincipalArn(world);
  const decision = evaluatePolicy(doctorState(world).principals[principal] ?? [], action, resource);
  if (decision !== 'allowed') {
    throw new AwsServiceError(
      code,
      `User: ${doctorState(world).callerArn} is not authorized to perform: ${action} on resource: ${resource} because ${decision === 'explicitDeny' ? 'an explicit deny' : 'no identity-based policy'} allows the ${action} action`,
      HTTP_FORBIDDEN,
    );
  }
}

const HTTP_FORBIDDEN = 403;
