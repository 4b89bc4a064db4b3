/**
 * What every ECS Exec session on a resolved target needs, whoever runs it — an attached command
 * (service.ts) or a detached job's start/poll/stop script (detach/aws-ports.ts): the
 * ExecuteCommand call naming the target, and the session's KMS data keys (with the agent's target
 * id in the encryption context), resume and terminate.
 */
import type { RunSessionOptions } from '../ssm/run-options';
import type { SessionEndpoint } from '../ssm/types';
import type { AwsClients } from './clients';
import { executeCommand, type RetryPolicy } from './execute';
import { kmsDataKeyProvider } from './kms';
import { ssmResumeSession, ssmTerminateSession } from './ssm';
import { type ResolvedTarget, ssmTargetId } from './target';

/** ecs:ExecuteCommand of `command` in the target's container, retried as `policy` says. */
export function startTargetSession(
  clients: Pick<AwsClients, 'ecs'>,
  target: ResolvedTarget,
  command: string,
  policy: RetryPolicy,
): Promise<SessionEndpoint> {
  return executeCommand(
    clients.ecs,
    { cluster: target.clusterArn, task: target.taskArn, container: target.container, command },
    policy,
  );
}

export type TargetSessionPlumbing = Required<
  Pick<RunSessionOptions, 'dataKeyProvider' | 'resume' | 'terminate'>
>;

/** The session options that depend only on the target and the clients. */
export function targetSessionPlumbing(clients: AwsClients, target: ResolvedTarget): TargetSessionPlumbing {
  return {
    dataKeyProvider: kmsDataKeyProvider(clients.kms, ssmTargetId(target)),
    resume: ssmResumeSession(clients.ssm),
    terminate: ssmTerminateSession(clients.ssm),
  };
}
