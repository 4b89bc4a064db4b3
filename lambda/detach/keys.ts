/** S3 keys of a detached job's output, under the job's key prefix (shared with the CLI, which follows them). */

/** Zero-padded, so the chunks list in offset order. */
const OFFSET_DIGITS = 16;

export function chunkKey(keyPrefix: string, offset: number): string {
  return `${keyPrefix}chunks/${String(offset).padStart(OFFSET_DIGITS, '0')}`;
}

export function outputKey(keyPrefix: string): string {
  return `${keyPrefix}output`;
}

export function endingKey(keyPrefix: string): string {
  return `${keyPrefix}ending.json`;
}
