import { ExecErrorName } from './contract';

/**
 * Errors the Lambda throws. `name` is a string literal (not the class name) so that minification
 * cannot change what Step Functions sees; the Node runtime reports it as the error type.
 */
export abstract class ExecError extends Error {
  abstract override readonly name: ExecErrorName;
  /** Extra fields for SendTaskFailure causes and logs. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.details = details;
  }
}

export class InvalidInput extends ExecError {
  override readonly name = ExecErrorName.InvalidInput;
}

export class TargetNotFound extends ExecError {
  override readonly name = ExecErrorName.TargetNotFound;
}

export class AgentNotReady extends ExecError {
  override readonly name = ExecErrorName.AgentNotReady;
}

export class ExecuteCommandDenied extends ExecError {
  override readonly name = ExecErrorName.ExecuteCommandDenied;
}

export class SessionFailed extends ExecError {
  override readonly name = ExecErrorName.SessionFailed;
}

export class CommandTimedOut extends ExecError {
  override readonly name = ExecErrorName.CommandTimedOut;
}

export class NonZeroExit extends ExecError {
  override readonly name = ExecErrorName.NonZeroExit;
}

/**
 * Step Functions matches error names: anything that is not one of ours (an SDK error from a
 * dependency, an idempotency conflict) becomes SessionFailed, with its own name in the message.
 */
export function inVocabulary(err: unknown): ExecError {
  if (err instanceof ExecError) return err;
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  return new SessionFailed(JSON.stringify({ message: `${name}: ${message}` }), {}, { cause: err });
}

export class JobLost extends ExecError {
  override readonly name = ExecErrorName.JobLost;
}
