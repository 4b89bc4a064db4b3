import { type ECSClient, ExecuteCommandCommand } from '@aws-sdk/client-ecs';
import { AgentNotReady, ExecuteCommandDenied, InvalidInput, SessionFailed, TargetNotFound } from '../errors';
import type { SessionEndpoint } from '../ssm/types';

export const RETRY_BASE_DELAY_MS = 500;
export const RETRY_MAX_DELAY_MS = 5_000;

export interface ExecuteCommandInput {
  readonly cluster: string;
  readonly task: string;
  readonly container: string;
  readonly command: string;
}

export interface RetryPolicy {
  /** Stop retrying when this epoch-ms time would be passed. */
  readonly retryUntilMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly onRetry?: (attempt: number, reason: string, delayMs: number) => void;
}

type Classified = { kind: 'retry'; reason: string; refused?: boolean } | { kind: 'fail'; error: Error };

/**
 * Why a TargetNotConnectedException can last: the agent is still starting, or it will not take one
 * more session. ECS documents one ECS Exec session per PID namespace (so with `pidMode: task`, one
 * container of the task at a time, refused with this exception: aws/containers-roadmap#2518); its
 * service quota lists 1,000 sessions per container, and tools report 2. No number is assumed here.
 */
export const SESSION_REFUSED_HINT =
  'the agent refused the session: it may still be starting, or the container may already hold as many ECS Exec sessions as it takes (with pidMode "task", one per PID namespace, so one container of the task at a time); end other sessions on it (aws ssm describe-sessions / terminate-session) or lower the fan-out\'s maxConcurrency';

/** ecs:ExecuteCommand, retried with full-jitter back-off on "agent not ready" and throttling. */
export async function executeCommand(
  ecs: ECSClient,
  input: ExecuteCommandInput,
  policy: RetryPolicy,
): Promise<SessionEndpoint> {
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    let classified: Classified;
    try {
      const response = await ecs.send(new ExecuteCommandCommand({ ...input, interactive: true }));
      const session = response.session;
      if (!session?.sessionId || !session.streamUrl || !session.tokenValue) {
        throw new SessionFailed('ExecuteCommand returned no session to connect to');
      }
      return { sessionId: session.sessionId, streamUrl: session.streamUrl, tokenValue: session.tokenValue };
    } catch (err) {
      classified = classifyExecuteCommandError(err);
    }
    if (classified.kind === 'fail') throw classified.error;
    const delayMs = Math.min(RETRY_MAX_DELAY_MS, RETRY_BASE_DELAY_MS * 2 ** (attempt - 1)) * random();
    if (Date.now() + delayMs >= policy.retryUntilMs) {
      throw new AgentNotReady(
        `ECS Exec is not ready on the target after ${attempt} attempts: ${classified.reason}${classified.refused ? `; ${SESSION_REFUSED_HINT}` : ''}`,
      );
    }
    policy.onRetry?.(attempt, classified.reason, delayMs);
    await sleep(delayMs);
  }
}

const AGENT_NOT_READY_PATTERN = /wait and try again|agent isn.t running|execute command agent/i;

export function classifyExecuteCommandError(err: unknown): Classified {
  if (err instanceof SessionFailed) return { kind: 'fail', error: err };
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'AccessDeniedException':
    case 'UnauthorizedOperation':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
      return {
        kind: 'fail',
        error: new ExecuteCommandDenied(`ecs:ExecuteCommand was denied: ${message}`, {}, { cause: err }),
      };
    case 'ClusterNotFoundException':
      return { kind: 'fail', error: new TargetNotFound(`ExecuteCommand: ${message}`, {}, { cause: err }) };
    case 'TargetNotConnectedException':
      return { kind: 'retry', reason: `${name}: ${message}`, refused: true };
    case 'ThrottlingException':
    case 'TooManyRequestsException':
    case 'RequestLimitExceeded':
      return { kind: 'retry', reason: `throttled: ${message}` };
    case 'InvalidParameterException':
      if (AGENT_NOT_READY_PATTERN.test(message)) return { kind: 'retry', reason: `${name}: ${message}` };
      return {
        kind: 'fail',
        error: new InvalidInput(`ExecuteCommand rejected the request: ${message}`, {}, { cause: err }),
      };
    default:
      return {
        kind: 'fail',
        error: new SessionFailed(`ExecuteCommand failed: ${name} ${message}`.trim(), {}, { cause: err }),
      };
  }
}
