/**
 * Targets broken in each way `ecs-exec doctor` diagnoses, added to a world next to its healthy
 * `local` and `local-kms` clusters (which stay as they are).
 */
import {
  DOCTOR_WORLD_IDS,
  doctorState,
  type FakeStatement,
  roleArn,
  TASK_ROLE_STATEMENTS,
} from './doctor-world';
import { addCluster, type FakeWorld, kmsKeyArn } from './world';

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
