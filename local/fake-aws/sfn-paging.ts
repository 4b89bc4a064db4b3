/** Page sizes of the Step Functions list operations (GetExecutionHistory, ListExecutions). */
import { AwsServiceError } from './errors';
import type { InputReader } from './input';

const SFN_VALIDATION_ERROR = 'ValidationException';

/** `maxResults`, checked as Step Functions checks it; 0 or absent means `defaultPage`. */
export function readPageSize(reader: InputReader, defaultPage: number, maxPage: number): number {
  const requested = reader.optNumber('maxResults') ?? 0;
  if (!Number.isInteger(requested) || requested < 0 || requested > maxPage) {
    throw new AwsServiceError(
      SFN_VALIDATION_ERROR,
      `1 validation error detected: Value '${requested}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${maxPage}`,
    );
  }
  return requested === 0 ? defaultPage : requested;
}
