import type { SFNClient } from '@aws-sdk/client-sfn';
import type { ExecResult } from './contract';
import { type ExecError, inVocabulary, SessionFailed } from './errors';
import { failureMessage, jsonFailureMessage } from './result';
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
 * Only when Step Functions cannot be told at all does it throw, and then one of the Lambda's own
 * errors: the run's error, or SessionFailed when the run succeeded but its result could not be sent.
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
  const reportFailure = async (error: ExecError): Promise<CallbackReport> => {
    try {
      await sfn.send(
        new SendTaskFailureCommand({
          taskToken,
          error: error.name.slice(0, ERROR_MAX_CHARS),
          cause: jsonFailureMessage(error.message).slice(0, CAUSE_MAX_CHARS),
        }),
      );
    } catch (sendError) {
      logger.warn('SendTaskFailure failed; the error is thrown instead', {
        error: error.name,
        reason: describe(sendError),
      });
      throw error;
    }
    return { taskTokenReported: 'failure', error: error.name };
  };

  const heartbeat = setInterval(() => {
    sfn.send(new SendTaskHeartbeatCommand({ taskToken })).catch((err: unknown) => {
      logger.warn('task heartbeat failed', { reason: err instanceof Error ? err.name : String(err) });
    });
  }, heartbeatIntervalMs);
  try {
    let result: ExecResult;
    try {
      result = await work();
    } catch (err) {
      return await reportFailure(inVocabulary(err));
    }
    try {
      await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(result) }));
    } catch (sendError) {
      return await reportFailure(
        new SessionFailed(
          failureMessage(`the command finished but SendTaskSuccess failed: ${describe(sendError)}`, {
            exitCode: result.exitCode,
            cluster: result.cluster,
            taskArn: result.taskArn,
            sessionId: result.sessionId,
          }),
          {},
          { cause: sendError },
        ),
      );
    }
    return { taskTokenReported: 'success', result };
  } finally {
    clearInterval(heartbeat);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
