/**
 * Reading a failed run back: the error name plus the cause, in whichever shape it arrives.
 *
 * - From Step Functions (a Lambda Task that threw): `cause` is the Lambda runtime's envelope
 *   `{"errorType","errorMessage","trace"}`, and `errorMessage` is the handler's JSON message.
 * - From `.waitForTaskToken` (SendTaskFailure) or a direct invoke: `cause` is the JSON message itself.
 * - Anything else (States.Timeout, Lambda.Unknown, a message that is plain text):
 *   the text as it is.
 *
 * The handler's JSON message is `{"message", …target and details, "exitCode"?, "outputTail"?}`
 * (lambda/result.ts failureMessage).
 */
import { exitCodeForError } from './exit-codes';

export interface FailureReport {
  /** The error name (Step Functions' `error`), `Unknown` when there is none. */
  readonly error: string;
  readonly message: string;
  /** The command's exit code, when the failure carries one (NonZeroExit). */
  readonly commandExitCode?: number;
  /** The last part of the command's output, when the failure carries it. */
  readonly outputTail?: string;
  /** The other fields of the message (cluster, taskArn, sessionId, …). */
  readonly details: Readonly<Record<string, unknown>>;
  /** The process exit code for this failure (exit-codes.ts). */
  readonly exitCode: number;
}

const UNKNOWN_ERROR = 'Unknown';

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Interprets an error name and cause from Step Functions, a callback or a thrown handler error. */
export function describeFailure(error: string | undefined, cause: string | undefined): FailureReport {
  let name = error !== undefined && error !== '' ? error : undefined;
  let text = cause ?? '';
  const envelope = parseObject(text);
  if (envelope !== undefined && typeof envelope.errorMessage === 'string') {
    name ??= typeof envelope.errorType === 'string' ? envelope.errorType : undefined;
    text = envelope.errorMessage;
  }
  const errorName = name ?? UNKNOWN_ERROR;
  const parsed = parseObject(text);
  if (parsed === undefined || typeof parsed.message !== 'string') {
    return { error: errorName, message: text, details: {}, exitCode: exitCodeForError(errorName) };
  }
  const { message, outputTail, exitCode, ...details } = parsed;
  const commandExitCode = typeof exitCode === 'number' ? exitCode : undefined;
  return {
    error: errorName,
    message,
    ...(commandExitCode !== undefined ? { commandExitCode } : {}),
    ...(typeof outputTail === 'string' ? { outputTail } : {}),
    details: commandExitCode !== undefined ? { exitCode: commandExitCode, ...details } : details,
    exitCode: exitCodeForError(errorName, commandExitCode),
  };
}

/** Readable lines for stderr: the error and message, the details, then the output tail. */
export function formatFailure(report: FailureReport): string {
  const lines = [report.message === '' ? report.error : `${report.error}: ${report.message}`];
  for (const [key, value] of Object.entries(report.details)) {
    if (value === undefined || value === null) continue;
    lines.push(`  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  let text = `${lines.join('\n')}\n`;
  if (report.outputTail !== undefined && report.outputTail !== '') {
    text += `--- end of the output ---\n${report.outputTail}${report.outputTail.endsWith('\n') ? '' : '\n'}`;
  }
  return text;
}

/** The cause Step Functions shows for an error a Lambda function threw (the runtime's envelope). */
export function lambdaErrorCause(err: unknown): { readonly error: string; readonly cause: string } {
  const error = err instanceof Error ? err.name : 'Error';
  const errorMessage = err instanceof Error ? err.message : String(err);
  return { error, cause: JSON.stringify({ errorType: error, errorMessage, trace: [] }) };
}
