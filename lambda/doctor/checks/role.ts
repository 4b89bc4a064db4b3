/** The role the exec agent runs with: task role (overrides first), or on EC2 the instance's role. */
import {
  AgentAction,
  bucketArn,
  LOG_STREAM_ACTIONS,
  logGroupArn,
  logObjectsArn,
  SSMMESSAGES_ACTIONS,
  type Where,
} from '../permissions';
import type { AgentRoleFacts, Decisions, ExecLogConfiguration, Fetched, Finding } from '../types';
import { finding, notAllowed, notChecked, statementJson } from './common';

export function checkAgentRole(
  role: Fetched<AgentRoleFacts | undefined>,
  launchType: string | undefined,
): Finding {
  const id = 'task-role.present';
  const summary = 'the exec agent has a role (task role, or the instance role on EC2)';
  if (!role.ok) return notChecked(id, summary, role);
  if (role.value === undefined) {
    return finding(
      id,
      'fail',
      summary,
      launchType === 'EC2' ? 'no task role and no instance profile role' : 'no task role',
      'set "taskRoleArn" in the task definition to a role that allows the ssmmessages actions (CDK: taskRole on the TaskDefinition)',
    );
  }
  const source = {
    override: 'task override',
    'task-definition': 'task definition',
    'instance-profile': 'instance profile',
  }[role.value.source];
  return finding(id, 'ok', summary, `${role.value.arn} (${source})`);
}

/** One finding per permission group, each with the statement that would fix it. */
export function checkAgentRolePermissions(
  role: AgentRoleFacts,
  decisions: Fetched<Decisions>,
  where: Where,
  exec: { readonly kmsKeyArn?: string; readonly log?: ExecLogConfiguration },
): Finding[] {
  const groups: { id: string; summary: string; actions: readonly string[]; resources: readonly string[] }[] =
    [
      {
        id: 'task-role.ssmmessages',
        summary: 'agent role allows the ssmmessages channels',
        actions: SSMMESSAGES_ACTIONS,
        resources: ['*'],
      },
    ];
  if (exec.kmsKeyArn !== undefined) {
    groups.push({
      id: 'task-role.kms-decrypt',
      summary: 'agent role allows kms:Decrypt on the exec key',
      actions: [AgentAction.Decrypt],
      resources: [exec.kmsKeyArn],
    });
  }
  const log = exec.log;
  if (log?.s3BucketName) {
    const encryption = log.s3EncryptionEnabled === true;
    groups.push({
      id: 'task-role.s3-logging',
      summary: 'agent role may write the session log to S3',
      actions: encryption
        ? [AgentAction.PutObject, AgentAction.GetEncryptionConfiguration]
        : [AgentAction.PutObject],
      resources: encryption
        ? [logObjectsArn(where, log), bucketArn(where, log.s3BucketName)]
        : [logObjectsArn(where, log)],
    });
  }
  if (log?.cloudWatchLogGroupName) {
    groups.push({
      id: 'task-role.cloudwatch-logging',
      summary: 'agent role may write the session log to CloudWatch Logs',
      actions: [AgentAction.DescribeLogGroups, ...LOG_STREAM_ACTIONS],
      resources: [logGroupArn(where, log.cloudWatchLogGroupName), '*'],
    });
  }
  return groups.map((group) => {
    if (!decisions.ok) return notChecked(group.id, group.summary, decisions);
    const missing = notAllowed(decisions.value, group.actions);
    if (missing.length === 0) return finding(group.id, 'ok', group.summary, `allowed for ${role.arn}`);
    const missingActions = group.actions.filter((action) => decisions.value[action] !== 'allowed');
    return finding(
      group.id,
      'fail',
      group.summary,
      `${role.arn}: ${missing.join(', ')}`,
      `add to ${role.arn}: ${statementJson(missingActions, resourcesFor(missingActions, group.resources, where, log, exec.kmsKeyArn))}`,
    );
  });
}

/** The narrowest resource of each missing action (DescribeLogGroups and ssmmessages take `*`). */
function resourcesFor(
  actions: readonly string[],
  fallback: readonly string[],
  where: Where,
  log: ExecLogConfiguration | undefined,
  kmsKeyArn: string | undefined,
): string[] {
  const resources = new Set<string>();
  for (const action of actions) {
    if (action === AgentAction.PutObject && log) resources.add(logObjectsArn(where, log));
    else if (action === AgentAction.GetEncryptionConfiguration && log?.s3BucketName)
      resources.add(bucketArn(where, log.s3BucketName));
    else if ((LOG_STREAM_ACTIONS as readonly string[]).includes(action) && log?.cloudWatchLogGroupName)
      resources.add(logGroupArn(where, log.cloudWatchLogGroupName));
    else if (action === AgentAction.Decrypt && kmsKeyArn) resources.add(kmsKeyArn);
    else resources.add('*');
  }
  return resources.size > 0 ? [...resources] : [...fallback];
}
