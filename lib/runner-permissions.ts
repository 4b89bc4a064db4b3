import { Arn, ArnFormat, Aws, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** ECS Exec session ids start with this; ResumeSession/TerminateSession are limited to them. */
export const ECS_EXEC_SESSION_PREFIX = 'ecs-execute-command-';

/** Every ECS Exec session of this account and region. */
export function ecsExecSessionsArn(): string {
  return Arn.format({
    partition: Aws.PARTITION,
    service: 'ssm',
    region: Aws.REGION,
    account: Aws.ACCOUNT_ID,
    resource: 'session',
    resourceName: `${ECS_EXEC_SESSION_PREFIX}*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** An ARN in a cluster's partition, region and account (imported clusters may live elsewhere). */
export function clusterScopedArn(cluster: ecs.ICluster, resource: string, resourceName: string): string {
  const parts = Token.isUnresolved(cluster.clusterArn)
    ? { partition: Aws.PARTITION, region: cluster.env.region, account: cluster.env.account }
    : Arn.split(cluster.clusterArn, ArnFormat.SLASH_RESOURCE_NAME);
  return Arn.format({
    partition: parts.partition ?? Aws.PARTITION,
    service: 'ecs',
    region: parts.region ?? Aws.REGION,
    account: parts.account ?? Aws.ACCOUNT_ID,
    resource,
    resourceName,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

function clusterCondition(clusters: readonly ecs.ICluster[]): Record<string, Record<string, string[]>> {
  return { ArnEquals: { 'ecs:cluster': clusters.map((c) => c.clusterArn) } };
}

/**
 * ecs:ListTasks only on the configured clusters: its resource is the container instance, so
 * the `ecs:cluster` condition is what pins it (IAM service authorization reference for ECS).
 */
export function listTasksStatement(clusters: readonly ecs.ICluster[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ListTasksOfConfiguredClusters',
    actions: ['ecs:ListTasks'],
    resources: clusters.map((c) => clusterScopedArn(c, 'container-instance', `${c.clusterName}/*`)),
    conditions: clusterCondition(clusters),
  });
}

export interface ExecRunnerGrants {
  readonly clusters: readonly ecs.ICluster[];
  readonly execKmsKey?: kms.IKey;
  readonly outputBucket: s3.IBucket;
  readonly outputPrefix: string;
  readonly idempotencyTable: dynamodb.ITable;
}

/** Everything the exec Lambda may do, and nothing else. */
export function execRunnerStatements(grants: ExecRunnerGrants): iam.PolicyStatement[] {
  const { clusters } = grants;
  const statements = [
    new iam.PolicyStatement({
      sid: 'ExecIntoTasksOfConfiguredClusters',
      actions: ['ecs:ExecuteCommand', 'ecs:DescribeTasks'],
      resources: clusters.flatMap((c) => [c.clusterArn, clusterScopedArn(c, 'task', `${c.clusterName}/*`)]),
      conditions: clusterCondition(clusters),
    }),
    listTasksStatement(clusters),
    new iam.PolicyStatement({
      sid: 'DescribeConfiguredClusters',
      actions: ['ecs:DescribeClusters'],
      resources: clusters.map((c) => c.clusterArn),
    }),
    new iam.PolicyStatement({
      sid: 'ResumeAndEndEcsExecSessions',
      actions: ['ssm:ResumeSession', 'ssm:TerminateSession'],
      resources: [ecsExecSessionsArn()],
    }),
    new iam.PolicyStatement({
      sid: 'WriteFullOutputUnderPrefix',
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resources: [grants.outputBucket.arnForObjects(`${grants.outputPrefix}*`)],
    }),
    new iam.PolicyStatement({
      // Without it S3 answers a read of a missing key with AccessDenied instead of NoSuchKey, and
      // a detached job's "no saved ending / no start record yet" could not be told from a denial.
      sid: 'TellMissingOutputObjectsFromDenials',
      actions: ['s3:ListBucket'],
      resources: [grants.outputBucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'ReadDetachedJobChunksUnderPrefix',
      actions: ['s3:GetObject'],
      resources: [grants.outputBucket.arnForObjects(`${grants.outputPrefix}*`)],
    }),
    new iam.PolicyStatement({
      sid: 'IdempotencyRecords',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [grants.idempotencyTable.tableArn],
    }),
  ];
  if (grants.execKmsKey) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'EcsExecSessionDataKey',
        actions: ['kms:GenerateDataKey'],
        resources: [grants.execKmsKey.keyArn],
      }),
    );
  }
  return statements;
}
