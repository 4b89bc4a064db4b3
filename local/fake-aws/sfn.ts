/**
 * Step Functions (awsJson1_0, `X-Amz-Target: AWSStepFunctions.<Op>`): the task-token callbacks a
 * `.waitForTaskToken` Lambda sends, recorded for assertions. Any token is accepted once; a token
 * already answered with success or failure is gone, as in Step Functions.
 */
import type { JsonOperation, TaskCallback } from './context';
import { AwsServiceError } from './errors';
import { InputReader } from './input';

export const SFN_TARGET_PREFIX = 'AWSStepFunctions';
const SFN_VALIDATION_ERROR = 'ValidationException';
/** Step Functions' limits, in UTF-8 bytes for `output` and characters for the others. */
export const SFN_MAX_OUTPUT_BYTES = 262_144;
export const SFN_MAX_CAUSE_CHARS = 32_768;
export const SFN_MAX_ERROR_CHARS = 256;
export const SFN_MAX_TASK_TOKEN_CHARS = 2048;
const TASK_GONE = "Task Timed Out: 'Provided task does not exist anymore'";

function tooLong(member: string, limit: number): AwsServiceError {
  return new AwsServiceError(
    SFN_VALIDATION_ERROR,
    `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${limit}`,
  );
}

function readToken(reader: InputReader, callbacks: readonly TaskCallback[]): string {
  const taskToken = reader.string('taskToken');
  if (taskToken.length === 0 || taskToken.length > SFN_MAX_TASK_TOKEN_CHARS) {
    throw new AwsServiceError('InvalidToken', 'Invalid Token.');
  }
  if (callbacks.some((callback) => callback.taskToken === taskToken && callback.kind !== 'heartbeat')) {
    throw new AwsServiceError('TaskTimedOut', TASK_GONE);
  }
  return taskToken;
}

const sendTaskSuccess: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const taskToken = readToken(reader, ctx.taskCallbacks);
  const output = reader.string('output');
  if (Buffer.byteLength(output, 'utf8') > SFN_MAX_OUTPUT_BYTES) throw tooLong('output', SFN_MAX_OUTPUT_BYTES);
  try {
    JSON.parse(output);
  } catch {
    throw new AwsServiceError('InvalidOutput', 'Invalid Output: the output is not valid JSON.');
  }
  ctx.taskCallbacks.push({ kind: 'success', taskToken, output, at: new Date() });
  return {};
};

const sendTaskFailure: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const taskToken = readToken(reader, ctx.taskCallbacks);
  const error = reader.optString('error');
  const cause = reader.optString('cause');
  if (error !== undefined && error.length > SFN_MAX_ERROR_CHARS) throw tooLong('error', SFN_MAX_ERROR_CHARS);
  if (cause !== undefined && cause.length > SFN_MAX_CAUSE_CHARS) throw tooLong('cause', SFN_MAX_CAUSE_CHARS);
  ctx.taskCallbacks.push({
    kind: 'failure',
    taskToken,
    ...(error !== undefined ? { error } : {}),
    ...(cause !== undefined ? { cause } : {}),
    at: new Date(),
  });
  return {};
};

const sendTaskHeartbeat: JsonOperation = async (ctx, input) => {
  const taskToken = readToken(new InputReader(input, SFN_VALIDATION_ERROR), ctx.taskCallbacks);
  ctx.taskCallbacks.push({ kind: 'heartbeat', taskToken, at: new Date() });
  return {};
};

export const SFN_OPERATIONS: Readonly<Record<string, JsonOperation>> = {
  SendTaskSuccess: sendTaskSuccess,
  SendTaskFailure: sendTaskFailure,
  SendTaskHeartbeat: sendTaskHeartbeat,
};
