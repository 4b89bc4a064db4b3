import type { SFNClient } from '@aws-sdk/client-sfn';
import type { ExecResult } from './contract';
import type { SessionLogger } from './ssm/types';

export const HEARTBEAT_INTERVAL_MS = 30_000;
/** SendTaskFailure limits. */
const ERROR_MAX_CHARS = 256;
const CAUSE_MAX_CHARS = 32_768;

export interface CallbackReport {
  readonly taskTokenReported: 'success' | 'failure';
  readonly error?: string;
  readonly result?: ExecResult;
}

/**
 * `.waitForTaskToken`: heartbeats while the command runs, then SendTaskSuccess with the result
 * or SendTaskFailure with the same error name the Lambda would throw. Returns instead of throwing
 * so that an asynchronous invocation is not retried (which would run the command again).
 */
export async function runWithTaskToken(
  sfnClient: () => Promise<SFNClient>,
  taskToken: string,
  work: () => Promise<ExecResult>,
  logger: SessionLogger,
  heartbeatIntervalMs = HEARTBEAT_INTERVAL_MS,
): Promise<CallbackReport> {
  const [sfn, { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand }] =
    await Promise.all([sfnClient(), import('@aws-sdk/client-sfn')]);
  const heartbeat = setInterval(() => {
    sfn.send(new SendTaskHeartbeatCommand({ taskToken })).catch((err: unknown) => {
      logger.warn('task heartbeat failed', { reason: err instanceof Error ? err.name : String(err) });
    });
  }, heartbeatIntervalMs);
  try {
    const result = await work();
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(result) }));
    return { taskTokenReported: 'success', result };
  } catch (err) {
    const error = err instanceof Error ? err.name : 'Error';
    const cause = err instanceof Error ? err.message : String(err);
    await sfn.send(
      new SendTaskFailureCommand({
        taskToken,
        error: error.slice(0, ERROR_MAX_CHARS),
        cause: cause.slice(0, CAUSE_MAX_CHARS),
      }),
    );
    return { taskTokenReported: 'failure', error };
  } finally {
    clearInterval(heartbeat);
  }
}
