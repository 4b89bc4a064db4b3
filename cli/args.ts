import { usageError } from './execution-exit-codes';

/** Runs node:util parseArgs; its errors (unknown option, missing value) become usage errors (exit 64). */
export function parsedArgs<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : String(err));
  }
}
