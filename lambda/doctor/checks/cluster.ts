/** The cluster's ECS Exec configuration: KMS key, logging mode, log bucket and log group; the service. */
import type {
  BucketFacts,
  ClusterFacts,
  Fetched,
  Finding,
  KmsKeyFacts,
  LogGroupFacts,
  ServiceFacts,
  TaskFacts,
} from '../types';
import { finding, notChecked } from './common';

export function checkClusterExists(cluster: Fetched<ClusterFacts | undefined>, name: string): Finding {
  const id = 'cluster.exists';
  const summary = 'cluster exists and is ACTIVE';
  if (!cluster.ok) return notChecked(id, summary, cluster);
  if (cluster.value === undefined || cluster.value.status !== 'ACTIVE') {
    return finding(
      id,
      'fail',
      summary,
      cluster.value === undefined
        ? `no cluster "${name}" in this account and region`
        : `${cluster.value.status}`,
      'check --cluster, the region (--region or AWS_REGION) and the account of your credentials',
    );
  }
  return finding(id, 'ok', summary, cluster.value.arn);
}

export function checkExecLogging(cluster: ClusterFacts): Finding {
  const id = 'cluster.exec-logging';
  const summary = 'ECS Exec audit logging';
  const exec = cluster.exec;
  const logging = exec?.logging ?? 'DEFAULT';
  const destinations = [
    exec?.log?.s3BucketName ? `S3 s3://${exec.log.s3BucketName}/${exec.log.s3KeyPrefix ?? ''}` : undefined,
    exec?.log?.cloudWatchLogGroupName ? `CloudWatch Logs ${exec.log.cloudWatchLogGroupName}` : undefined,
  ].filter((d): d is string => d !== undefined);
  if (logging === 'NONE') {
    return finding(
      id,
      'warn',
      summary,
      'logging NONE: the commands run through ECS Exec are not recorded',
      `aws ecs update-cluster --cluster ${cluster.name} --configuration 'executeCommandConfiguration={logging=DEFAULT}' (CDK: executeCommandConfiguration: { logging: ExecuteCommandLogging.DEFAULT })`,
    );
  }
  if (logging === 'OVERRIDE' && destinations.length === 0) {
    return finding(
      id,
      'warn',
      summary,
      'logging OVERRIDE with neither an S3 bucket nor a log group',
      'set logConfiguration.s3BucketName or cloudWatchLogGroupName, or use logging DEFAULT',
    );
  }
  const where =
    logging === 'DEFAULT' ? 'the awslogs configuration of the task definition' : destinations.join(', ');
  return finding(id, 'ok', summary, `${logging}: ${where}`);
}

export function checkKmsKey(keyId: string, key: Fetched<KmsKeyFacts | undefined>): Finding {
  const id = 'cluster.kms-key';
  const summary = 'exec KMS key exists and is enabled';
  if (!key.ok) return notChecked(id, summary, key);
  if (key.value === undefined) {
    return finding(
      id,
      'fail',
      summary,
      `key ${keyId} does not exist (or is in another account without access)`,
      "set the cluster's executeCommandConfiguration.kmsKeyId to an existing key, or remove it",
    );
  }
  if (!key.value.enabled || key.value.keyState !== 'Enabled') {
    return finding(
      id,
      'fail',
      summary,
      `${key.value.arn} is ${key.value.keyState}: no session can get a data key`,
      key.value.keyState === 'PendingDeletion'
        ? `aws kms cancel-key-deletion --key-id ${key.value.arn} && aws kms enable-key --key-id ${key.value.arn}`
        : `aws kms enable-key --key-id ${key.value.arn}`,
    );
  }
  return finding(id, 'ok', summary, `${key.value.arn} Enabled`);
}

export function checkLogBucket(
  bucketName: string,
  encryptionRequired: boolean,
  bucket: Fetched<BucketFacts>,
): Finding {
  const id = 'cluster.log-bucket';
  const summary = 'exec log bucket exists and is encrypted as configured';
  if (!bucket.ok) return notChecked(id, summary, bucket);
  if (!bucket.value.exists) {
    return finding(
      id,
      'fail',
      summary,
      `bucket ${bucketName} does not exist`,
      `create it (aws s3 mb s3://${bucketName}) or change logConfiguration.s3BucketName`,
    );
  }
  const algorithms = bucket.value.encryption;
  if (encryptionRequired && algorithms.length === 0) {
    return finding(
      id,
      'fail',
      summary,
      `s3EncryptionEnabled is true but ${bucketName} has no default encryption: the agent will not upload the session log`,
      `aws s3api put-bucket-encryption --bucket ${bucketName} --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'`,
    );
  }
  return finding(
    id,
    'ok',
    summary,
    `${bucketName}, encryption ${algorithms.length > 0 ? algorithms.join(', ') : 'none'}`,
  );
}

export function checkLogGroup(
  groupName: string,
  encryptionRequired: boolean,
  group: Fetched<LogGroupFacts>,
): Finding {
  const id = 'cluster.log-group';
  const summary = 'exec log group exists and is encrypted as configured';
  if (!group.ok) return notChecked(id, summary, group);
  if (!group.value.exists) {
    return finding(
      id,
      'fail',
      summary,
      `log group ${groupName} does not exist`,
      `aws logs create-log-group --log-group-name ${groupName}`,
    );
  }
  if (encryptionRequired && group.value.kmsKeyId === undefined) {
    return finding(
      id,
      'fail',
      summary,
      `cloudWatchEncryptionEnabled is true but ${groupName} has no KMS key: the agent will not send the session log`,
      `aws logs associate-kms-key --log-group-name ${groupName} --kms-key-id <key ARN>`,
    );
  }
  return finding(
    id,
    'ok',
    summary,
    `${groupName}${group.value.kmsKeyId !== undefined ? `, encrypted with ${group.value.kmsKeyId}` : ''}`,
  );
}

/**
 * The service setting decides new tasks only: a service switched on after its tasks started still
 * runs tasks without the agent until a new deployment replaces them.
 */
export function checkServiceExec(
  service: Fetched<ServiceFacts | undefined>,
  name: string,
  tasks: readonly TaskFacts[],
  clusterName: string,
): Finding {
  const id = 'service.exec-enabled';
  const summary = 'service starts its tasks with ECS Exec';
  if (!service.ok) return notChecked(id, summary, service);
  if (service.value === undefined) {
    return finding(
      id,
      'fail',
      summary,
      `no service "${name}" in the cluster`,
      'check --service and --cluster',
    );
  }
  const running = tasks.filter((task) => task.lastStatus === 'RUNNING');
  const without = running.filter((task) => !task.enableExecuteCommand);
  if (!service.value.enableExecuteCommand) {
    return finding(
      id,
      'fail',
      summary,
      `enableExecuteCommand is false on ${service.value.name}`,
      `aws ecs update-service --cluster ${clusterName} --service ${service.value.name} --enable-execute-command --force-new-deployment (CDK: enableExecuteCommand: true on the service)`,
    );
  }
  if (without.length > 0) {
    return finding(
      id,
      'warn',
      summary,
      `enabled, but ${without.length} of ${running.length} RUNNING tasks were started before it was: they need a new deployment`,
      `aws ecs update-service --cluster ${clusterName} --service ${service.value.name} --force-new-deployment`,
    );
  }
  return finding(
    id,
    'ok',
    summary,
    `enabled; ${running.length} RUNNING task${running.length === 1 ? '' : 's'}`,
  );
}
