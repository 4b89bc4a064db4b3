/**
 * The actions the doctor simulates and the resources it simulates them on. Shared by the fetch
 * layer (which asks IAM) and the checks (which read the decisions), so the two cannot disagree.
 */
import type { ExecLogConfiguration } from './types';

export const CallerAction = {
  ExecuteCommand: 'ecs:ExecuteCommand',
  StartSession: 'ssm:StartSession',
  GenerateDataKey: 'kms:GenerateDataKey',
} as const;

/** What the exec agent needs to open its channels (ECS Exec documentation, "IAM permissions"). */
export const SSMMESSAGES_ACTIONS = [
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
] as const;

export const AgentAction = {
  Decrypt: 'kms:Decrypt',
  PutObject: 's3:PutObject',
  GetEncryptionConfiguration: 's3:GetEncryptionConfiguration',
  DescribeLogGroups: 'logs:DescribeLogGroups',
} as const;

export const LOG_STREAM_ACTIONS = [
  'logs:CreateLogStream',
  'logs:DescribeLogStreams',
  'logs:PutLogEvents',
] as const;

export interface Where {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

export function logGroupArn(where: Where, logGroup: string): string {
  return `arn:${where.partition}:logs:${where.region}:${where.account}:log-group:${logGroup}:*`;
}

export function bucketArn(where: Pick<Where, 'partition'>, bucket: string): string {
  return `arn:${where.partition}:s3:::${bucket}`;
}

export function logObjectsArn(where: Pick<Where, 'partition'>, log: ExecLogConfiguration): string {
  return `${bucketArn(where, log.s3BucketName ?? '')}/${log.s3KeyPrefix ?? ''}*`;
}

/** One SimulatePrincipalPolicy call: actions on resources (`*` when none applies). */
export interface Simulation {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** What the exec agent's role must be allowed, given the cluster's exec configuration. */
export function agentRoleSimulations(
  where: Where,
  exec: { readonly kmsKeyArn?: string; readonly log?: ExecLogConfiguration },
): Simulation[] {
  const simulations: Simulation[] = [{ actions: [...SSMMESSAGES_ACTIONS], resources: ['*'] }];
  if (exec.kmsKeyArn !== undefined)
    simulations.push({ actions: [AgentAction.Decrypt], resources: [exec.kmsKeyArn] });
  const log = exec.log;
  if (log?.s3BucketName) {
    simulations.push({ actions: [AgentAction.PutObject], resources: [logObjectsArn(where, log)] });
    if (log.s3EncryptionEnabled) {
      simulations.push({
        actions: [AgentAction.GetEncryptionConfiguration],
        resources: [bucketArn(where, log.s3BucketName)],
      });
    }
  }
  if (log?.cloudWatchLogGroupName) {
    simulations.push({ actions: [AgentAction.DescribeLogGroups], resources: ['*'] });
    simulations.push({
      actions: [...LOG_STREAM_ACTIONS],
      resources: [logGroupArn(where, log.cloudWatchLogGroupName)],
    });
  }
  return simulations;
}

/** What the caller is checked for on one task. */
export function callerSimulations(taskArn: string, kmsKeyArn: string | undefined): Simulation[] {
  return [
    { actions: [CallerAction.ExecuteCommand, CallerAction.StartSession], resources: [taskArn] },
    ...(kmsKeyArn !== undefined ? [{ actions: [CallerAction.GenerateDataKey], resources: [kmsKeyArn] }] : []),
  ];
}
