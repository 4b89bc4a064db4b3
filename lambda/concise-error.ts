import type { ExecError } from './errors';
import { jsonFailureMessage } from './result';

/**
 * The runtime puts the stack into the Step Functions cause next to the message; a one-line stack
 * keeps the cause within its 32,768-character limit and tells the reader nothing less. The message
 * is JSON like every other failure's, and short enough for the cause whatever the input held.
 * Every Lambda of the runner (exec, list-tasks) throws its errors through this.
 */
export function conciseError(err: ExecError): ExecError {
  err.message = jsonFailureMessage(err.message);
  err.stack = `${err.name}: see errorMessage`;
  return err;
}
