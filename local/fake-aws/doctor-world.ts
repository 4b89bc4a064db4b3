/**
 * What `ecs-exec doctor` reads besides ECS: IAM principals with a tiny policy model, subnets,
 * route tables, VPC endpoints, KMS key states, log groups, bucket encryption, container
 * instances. `doctorState(world)` fills in a healthy default on first use, so the default world's
 * targets are all green; `addDoctorTargets(world)` adds clusters and tasks broken in each way the
 * doctor diagnoses.
 */
import { AwsServiceError } from './errors';
import { addCluster, type FakeWorld, kmsKeyArn } from './world';

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

const roleArn = (world: Pick<FakeWorld, 'account'>, name: string): string =>
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

/** Ids of the broken targets `addDoctorTargets` adds (fixed, so a README command keeps working). */
export const DOCTOR_TARGETS = {
  cluster: 'doctor',
  kmsCluster: 'doctor-kms',
  loggingCluster: 'doctor-logging',
  /** Service with enableExecuteCommand off. */
  execOffService: 'legacy',
  /** Service switched on after its task started: needs a new deployment. */
  rolloutService: 'rollout',
  tasks: {
    execOff: 'd0c70000000000000000000000000001',
    agentStopped: 'd0c70000000000000000000000000002',
    readonlyRoot: 'd0c70000000000000000000000000003',
    noSsmmessages: 'd0c70000000000000000000000000004',
    noRoute: 'd0c70000000000000000000000000005',
    warnings: 'd0c70000000000000000000000000006',
    oldPlatform: 'd0c70000000000000000000000000007',
    stopped: 'd0c70000000000000000000000000008',
    ec2OldAgent: 'd0c70000000000000000000000000009',
    noTaskRole: 'd0c7000000000000000000000000000a',
    sharedSubnet: 'd0c7000000000000000000000000000b',
    noPublicIp: 'd0c7000000000000000000000000000c',
    rollout: 'd0c7000000000000000000000000000d',
    kmsDisabled: 'd0c7000000000000000000000000000e',
    kmsNoDecrypt: 'd0c7000000000000000000000000000f',
    kmsNoEndpoint: 'd0c70000000000000000000000000010',
    logging: 'd0c70000000000000000000000000011',
  },
  roles: {
    withoutSsmmessages: 'local-task-role-s3-only',
    withoutKms: 'local-task-role-no-kms',
    instance: 'local-ecs-instance',
  },
  subnets: {
    isolated: 'subnet-0150a7ed000000000',
    endpointsOnly: 'subnet-0e9d90147500000000',
    shared: 'subnet-05a4ed000000000000',
    public: 'subnet-0b0b11c000000000',
  },
  kmsKeyUuids: {
    disabled: '0d15ab1e-0000-4000-8000-000000000001',
    enabled: '0d15ab1e-0000-4000-8000-000000000002',
  },
  bucket: 'doctor-missing-bucket',
  logGroup: '/ecs/doctor-unencrypted',
  containerInstance: '0ec2ad0c700000000000000000000001',
  ec2Instance: 'i-0d0c7000000000001',
  otherAccount: '210987654321',
} as const;

/** One broken target per way ECS Exec fails to set up; the default targets stay healthy. */
export function addDoctorTargets(world: FakeWorld): FakeWorld {
  const state = doctorState(world);
  const t = DOCTOR_TARGETS;
  const ids = t.tasks;
  const ssmOnlyActions = TASK_ROLE_STATEMENTS[0] as FakeStatement;
  state.principals[roleArn(world, t.roles.withoutSsmmessages)] = [
    { effect: 'Allow', actions: ['s3:GetObject'], resources: ['*'] },
  ];
  state.principals[roleArn(world, t.roles.withoutKms)] = [ssmOnlyActions];
  state.principals[roleArn(world, t.roles.instance)] = [...TASK_ROLE_STATEMENTS];
  state.instanceProfiles[t.roles.instance] = roleArn(world, t.roles.instance);
  state.instances[t.ec2Instance] = {
    instanceProfileArn: `arn:aws:iam::${world.account}:instance-profile/${t.roles.instance}`,
  };
  state.containerInstances[t.containerInstance] = {
    agentVersion: '1.44.4',
    ec2InstanceId: t.ec2Instance,
    subnetId: DOCTOR_WORLD_IDS.subnet,
  };
  // A private VPC with no NAT and only unrelated endpoints; one with ssmmessages but not KMS.
  state.subnets[t.subnets.isolated] = { vpcId: 'vpc-0150a7ed', routeTableId: 'rtb-0150a7ed' };
  state.routeTables['rtb-0150a7ed'] = {
    vpcId: 'vpc-0150a7ed',
    routes: [{ destination: '10.1.0.0/16', target: 'local' }],
  };
  state.vpcEndpoints.push({ vpcId: 'vpc-0150a7ed', serviceName: `com.amazonaws.${world.region}.ecr.api` });
  state.subnets[t.subnets.endpointsOnly] = { vpcId: 'vpc-0e9d9014', routeTableId: 'rtb-0e9d9014' };
  state.routeTables['rtb-0e9d9014'] = {
    vpcId: 'vpc-0e9d9014',
    routes: [{ destination: '10.2.0.0/16', target: 'local' }],
  };
  state.vpcEndpoints.push({
    vpcId: 'vpc-0e9d9014',
    serviceName: `com.amazonaws.${world.region}.ssmmessages`,
  });
  state.subnets[t.subnets.shared] = { vpcId: 'vpc-05a4ed', ownerId: t.otherAccount };
  state.subnets[t.subnets.public] = { vpcId: DOCTOR_WORLD_IDS.vpc, routeTableId: 'rtb-0b0b11c' };
  state.routeTables['rtb-0b0b11c'] = {
    vpcId: DOCTOR_WORLD_IDS.vpc,
    routes: [{ destination: '0.0.0.0/0', target: 'igw-0local' }],
  };

  const app = (extra: Record<string, unknown> = {}) => [{ name: 'app', ...extra }];
  addCluster(world, {
    name: t.cluster,
    serviceExec: { [t.execOffService]: false, [t.rolloutService]: true },
    tasks: [
      { id: ids.execOff, service: t.execOffService, enableExecuteCommand: false },
      { id: ids.rollout, service: t.rolloutService, enableExecuteCommand: false },
      {
        id: ids.agentStopped,
        containers: app({ execAgentStatus: 'STOPPED', execAgentReason: 'ExecuteCommandAgent exited' }),
      },
      { id: ids.readonlyRoot, containers: app({ readonlyRootFilesystem: true, execAgentStatus: 'STOPPED' }) },
      { id: ids.noSsmmessages, taskRoleArn: roleArn(world, t.roles.withoutSsmmessages) },
      { id: ids.noRoute, subnetId: t.subnets.isolated },
      {
        id: ids.warnings,
        pidMode: 'task',
        containers: app({
          initProcessEnabled: false,
          env: {
            AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEDOCTOR000',
            AWS_SECRET_ACCESS_KEY: 'doctor-example-secret-value',
          },
        }),
      },
      { id: ids.oldPlatform, platformVersion: '1.3.0' },
      { id: ids.stopped, lastStatus: 'STOPPED', stoppedReason: 'Essential container in task exited' },
      { id: ids.ec2OldAgent, launchType: 'EC2', containerInstanceId: t.containerInstance, taskRoleArn: null },
      { id: ids.noTaskRole, taskRoleArn: null },
      { id: ids.sharedSubnet, subnetId: t.subnets.shared },
      { id: ids.noPublicIp, subnetId: t.subnets.public },
    ],
  });
  const disabledKey = kmsKeyArn(world, t.kmsKeyUuids.disabled);
  const enabledKey = kmsKeyArn(world, t.kmsKeyUuids.enabled);
  state.kmsKeyStates[disabledKey] = 'Disabled';
  world.kmsKeys.push(disabledKey, enabledKey);
  addCluster(world, {
    name: `${t.kmsCluster}-disabled`,
    kmsKeyId: disabledKey,
    tasks: [{ id: ids.kmsDisabled }],
  });
  addCluster(world, {
    name: t.kmsCluster,
    kmsKeyId: enabledKey,
    tasks: [
      { id: ids.kmsNoDecrypt, taskRoleArn: roleArn(world, t.roles.withoutKms) },
      { id: ids.kmsNoEndpoint, subnetId: t.subnets.endpointsOnly },
    ],
  });
  state.missingBuckets.push(t.bucket);
  state.logGroups[t.logGroup] = {};
  addCluster(world, {
    name: t.loggingCluster,
    logging: 'OVERRIDE',
    logConfiguration: {
      s3BucketName: t.bucket,
      s3EncryptionEnabled: true,
      cloudWatchLogGroupName: t.logGroup,
      cloudWatchEncryptionEnabled: true,
    },
    tasks: [{ id: ids.logging }],
  });
  // One task definition per broken task (standalone tasks would otherwise share family "app").
  const names = new Map<string, string>(Object.entries(ids).map(([name, id]) => [id, name]));
  for (const cluster of world.clusters) {
    for (const task of cluster.tasks) {
      const name = names.get(task.id);
      if (name !== undefined && task.service === undefined) task.family ??= `doctor-${name}`;
    }
  }
  return world;
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
