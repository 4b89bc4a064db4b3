/**
 * SSM (awsJson1_1, `X-Amz-Target: AmazonSSM.<Op>`): ResumeSession (a fresh token to reconnect a
 * data channel) and TerminateSession, both handed to the message-gateway double.
 */
import type { JsonOperation } from './context';
import { AwsServiceError } from './errors';
import { takeSingleFault } from './faults';
import { InputReader } from './input';

export const SSM_TARGET_PREFIX = 'AmazonSSM';
const SSM_VALIDATION_ERROR = 'ValidationException';
const RESUME_FAILURE = 'InternalServerError';

const resumeSession: JsonOperation = async (ctx, input) => {
  const sessionId = new InputReader(input, SSM_VALIDATION_ERROR).string('SessionId');
  const configured = ctx.faults.resumeSession;
  const fault = takeSingleFault(configured === 'fail' ? RESUME_FAILURE : configured);
  if (fault !== undefined) {
    throw new AwsServiceError(fault.error, fault.message ?? `Injected ${fault.error} for ${sessionId}.`);
  }
  let resumed: Awaited<ReturnType<typeof ctx.gateway.resumeSession>>;
  try {
    resumed = await ctx.gateway.resumeSession(sessionId);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new AwsServiceError('DoesNotExistException', `Session ${sessionId} cannot be resumed: ${detail}`);
  }
  return { SessionId: sessionId, TokenValue: resumed.tokenValue, StreamUrl: resumed.streamUrl };
};

const terminateSession: JsonOperation = async (ctx, input) => {
  const sessionId = new InputReader(input, SSM_VALIDATION_ERROR).string('SessionId');
  try {
    await ctx.gateway.terminateSession(sessionId);
  } catch {
    // SSM answers TerminateSession of an ended or unknown session with its id, like a success.
  }
  return { SessionId: sessionId };
};

export const SSM_OPERATIONS: Readonly<Record<string, JsonOperation>> = {
  ResumeSession: resumeSession,
  TerminateSession: terminateSession,
};
