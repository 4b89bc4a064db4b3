import { Arn, ArnFormat, Aws } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { WildcardResource } from './nag-acknowledgements';
import { clusterScopedArn } from './runner-permissions';

/**
 * Read-only permissions for the exec Lambda's `{"action": "doctor"}` (lambda/doctor): what it
 * must read to say why ECS Exec would not work. Nothing here changes anything; sts:GetCallerIdentity
 * needs no permission.
 */
export interface DoctorGrants {
  readonly clusters: readonly ecs.ICluster[];
  readonly execKmsKey?: kms.IKey;
}

/** Actions that have no resource-level permissions (IAM service authorization reference). */
export const DOCTOR_RESOURCE_STAR_ACTIONS = [
  'ecs:DescribeTaskDefinition',
  'ec2:DescribeInstances',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeRouteTables',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcEndpoints',
] as const;

const accountArn = (service: string, resource: string, region: string = Aws.REGION): string =>
  Arn.format({
    partition: Aws.PARTITION,
    service,
    region,
    account: Aws.ACCOUNT_ID,
    resource,
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });

/** Every IAM role of the account: the roles the doctor simulates (task roles, instance roles, itself). */
export const doctorRolesArn = (): string => accountArn('iam', 'role/*', '');
export const doctorInstanceProfilesArn = (): string => accountArn('iam', 'instance-profile/*', '');
export const doctorLogGroupsArn = (): string => accountArn('logs', 'log-group:*');
export const doctorBucketsArn = (): string =>
  Arn.format({
    partition: Aws.PARTITION,
    service: 's3',
    region: '',
    account: '',
    resource: '*',
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });

export function doctorStatements(grants: DoctorGrants): iam.PolicyStatement[] {
  const { clusters } = grants;
  const statements = [
    new iam.PolicyStatement({
      sid: 'DoctorDescribeServicesAndInstancesOfConfiguredClusters',
      actions: ['ecs:DescribeServices', 'ecs:DescribeContainerInstances'],
      resources: clusters.flatMap((c) => [
        clusterScopedArn(c, 'service', `${c.clusterName}/*`),
        clusterScopedArn(c, 'container-instance', `${c.clusterName}/*`),
      ]),
      conditions: { ArnEquals: { 'ecs:cluster': clusters.map((c) => c.clusterArn) } },
    }),
    new iam.PolicyStatement({
      sid: 'DoctorReadTaskDefinitionsAndNetwork',
      actions: [...DOCTOR_RESOURCE_STAR_ACTIONS],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'DoctorSimulateRoles',
      actions: ['iam:SimulatePrincipalPolicy', 'iam:GetRole'],
      resources: [doctorRolesArn()],
    }),
    new iam.PolicyStatement({
      sid: 'DoctorReadInstanceProfiles',
      actions: ['iam:GetInstanceProfile'],
      resources: [doctorInstanceProfilesArn()],
    }),
    new iam.PolicyStatement({
      sid: 'DoctorReadExecLogGroups',
      actions: ['logs:DescribeLogGroups'],
      resources: [doctorLogGroupsArn()],
    }),
    new iam.PolicyStatement({
      sid: 'DoctorReadExecLogBucketEncryption',
      actions: ['s3:GetEncryptionConfiguration'],
      resources: [doctorBucketsArn()],
    }),
  ];
  if (grants.execKmsKey) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'DoctorDescribeExecKey',
        actions: ['kms:DescribeKey'],
        resources: [grants.execKmsKey.keyArn],
      }),
    );
  }
  return statements;
}

/** Why each wildcard of `doctorStatements` is as narrow as the doctor allows. */
export function doctorWildcards(clusters: readonly ecs.ICluster[]): WildcardResource[] {
  return [
    ...clusters.flatMap((c) => [
      {
        resource: clusterScopedArn(c, 'service', `${c.clusterName}/*`),
        reason:
          'The doctor action reads the service a user names (enableExecuteCommand); only services of this configured cluster, also pinned by the ecs:cluster condition.',
      },
    ]),
    {
      resource: '*',
      reason:
        'Read-only doctor checks: ecs:DescribeTaskDefinition and the ec2:Describe* calls (subnets, route tables, VPC endpoints, network interfaces, instances) have no resource-level permissions.',
    },
    {
      resource: doctorRolesArn(),
      reason:
        'The doctor simulates (iam:SimulatePrincipalPolicy, iam:GetRole) the task roles of the tasks it checks, known only at run time; read-only, roles of this account only.',
    },
    {
      resource: doctorInstanceProfilesArn(),
      reason:
        'On EC2 without a task role the doctor reads the instance profile of the task host, known only at run time; read-only, this account only.',
    },
    {
      resource: doctorLogGroupsArn(),
      reason:
        "The doctor checks that the cluster's ECS Exec log group exists and is encrypted; its name is a cluster setting read at run time. Read-only, this account and region.",
    },
    {
      resource: doctorBucketsArn(),
      reason:
        "The doctor checks the default encryption of the cluster's ECS Exec log bucket, a cluster setting read at run time; s3:GetEncryptionConfiguration reads no object.",
    },
  ];
}
