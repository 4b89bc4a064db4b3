/**
 * The exit marker: ECS Exec never reports the command's exit status (spec §7.3), so the shell
 * wrapper (command.ts) prints it as the very last line of the session,
 *
 *   `\n` EXIT_MARKER_PREFIX <nonce> `:` <status 0-255> `\n`
 *
 * which the pty turns into `\r\n…\r\n` (ONLCR). The extractor below accepts that line only as the
 * last bytes of the stream and removes it together with the newline the wrapper put in front of it,
 * so what remains is exactly what the command printed. Anything marker-like earlier in the stream
 * (another run's marker, the prefix, even this run's exact marker followed by more output) is the
 * command's own output and is left alone.
 */

export const EXIT_MARKER_PREFIX = '__ECS_EXEC_RUNNER_RC_';
/** Letters and digits only: the nonce is pasted into a regular expression and a shell script. */
const NONCE_PATTERN = /^[0-9A-Za-z]{8,128}$/;
const MAX_EXIT_STATUS = 255;
const MAX_STATUS_DIGITS = String(MAX_EXIT_STATUS).length;
const LF = 0x0a;
const CR = 0x0d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const CRLF_BYTES = 2;

/** @throws RangeError unless `nonce` is 8-128 ASCII letters or digits. */
export function assertMarkerNonce(nonce: string): void {
  if (!NONCE_PATTERN.test(nonce)) {
    throw new RangeError(`marker nonce must be 8-128 ASCII letters or digits, got ${JSON.stringify(nonce)}`);
  }
}

/** The marker line's text without its newlines, e.g. `__ECS_EXEC_RUNNER_RC_<nonce>:3`. */
export function formatExitMarker(nonce: string, exitCode: number): string {
  return `${EXIT_MARKER_PREFIX}${nonce}:${exitCode}`;
}

export interface ExitMarkerResult {
  /** The bytes still held back, minus the marker and its leading newline when one was found. */
  readonly rest: Buffer;
  /** The command's exit status, or null when the stream did not end with this run's marker. */
  readonly exitCode: number | null;
}

/** Streaming remover of the exit marker. Feed raw bytes in order; nothing is lost or reordered. */
export class ExitMarkerExtractor {
  /** `PREFIX<nonce>:` as bytes: the fixed part after the leading newline. */
  private readonly label: Buffer;
  /** The longest a marker can be: CRLF, label, three digits, CRLF. */
  private readonly maxMarkerBytes: number;
  private readonly finalMarker: RegExp;
  /** Bytes that might still turn out to be the start of the final marker. Never longer than maxMarkerBytes. */
  private held: Buffer = Buffer.alloc(0);
  private finished = false;

  constructor(nonce: string) {
    assertMarkerNonce(nonce);
    this.label = Buffer.from(`${EXIT_MARKER_PREFIX}${nonce}:`, 'latin1');
    this.maxMarkerBytes = CRLF_BYTES + this.label.length + MAX_STATUS_DIGITS + CRLF_BYTES;
    // The newline before the marker has the same form as the one after it: both CRLF on a pty
    // (ONLCR), both LF without one. So a CR the command printed right before is never eaten.
    this.finalMarker = new RegExp(`(\\r\\n|\\n)${EXIT_MARKER_PREFIX}${nonce}:(0|[1-9][0-9]{0,2})\\1$`);
  }

  /** The bytes currently held back (a possible marker start), for snapshots. Not a copy to keep. */
  get pending(): Buffer {
    return this.held;
  }

  /**
   * Takes the next raw bytes and returns those that can no longer be part of the final marker.
   * The result may share memory with `bytes`; use it before the next call.
   */
  push(bytes: Buffer): Buffer {
    if (this.finished) {
      throw new Error('ExitMarkerExtractor.push after finish');
    }
    if (bytes.length === 0) {
      return bytes;
    }
    const combined = this.held.length === 0 ? bytes : Buffer.concat([this.held, bytes]);
    const keepFrom = this.earliestMarkerStart(combined);
    // Copy what is held: `bytes` belongs to the caller and may be reused after we return.
    this.held = Buffer.from(combined.subarray(keepFrom));
    return combined.subarray(0, keepFrom);
  }

  /** True when the bytes so far end with this run's marker: the command has provably finished. */
  get endsWithMarker(): boolean {
    const match = this.finalMarker.exec(this.held.toString('latin1'));
    return match !== null && Number(match[2]) <= MAX_EXIT_STATUS;
  }

  /** Ends the stream: strips the marker if the stream ends with it. */
  finish(): ExitMarkerResult {
    if (this.finished) {
      throw new Error('ExitMarkerExtractor.finish called twice');
    }
    this.finished = true;
    const held = this.held;
    this.held = Buffer.alloc(0);
    // latin1 maps each byte to one UTF-16 unit, so string indices are byte offsets.
    const match = this.finalMarker.exec(held.toString('latin1'));
    const exitCode = match === null ? Number.NaN : Number(match[2]);
    if (match === null || !(exitCode <= MAX_EXIT_STATUS)) {
      return { rest: held, exitCode: null };
    }
    return { rest: held.subarray(0, match.index), exitCode };
  }

  /**
   * The first offset in the last maxMarkerBytes of `buffer` from which the rest of `buffer` could
   * be the beginning of a marker (so must be held back), or `buffer.length` if there is none.
   */
  private earliestMarkerStart(buffer: Buffer): number {
    const end = buffer.length;
    for (let start = Math.max(0, end - this.maxMarkerBytes); start < end; start++) {
      const byte = buffer[start];
      if ((byte === LF || byte === CR) && this.isMarkerPrefix(buffer, start, end)) {
        return start;
      }
    }
    return end;
  }

  /** Whether buffer[start, end) is a prefix of some `\r?\n<label><digits>\r?\n` (same newline form twice). */
  private isMarkerPrefix(buffer: Buffer, start: number, end: number): boolean {
    let at = start;
    const crlf = buffer[at] === CR;
    if (crlf) {
      at++;
      if (at === end) return true;
    }
    if (buffer[at] !== LF) return false;
    at++;
    for (let i = 0; i < this.label.length; i++, at++) {
      if (at === end) return true;
      if (buffer[at] !== this.label[i]) return false;
    }
    let digits = 0;
    while (at < end && digits < MAX_STATUS_DIGITS && isDigit(buffer[at])) {
      at++;
      digits++;
    }
    if (at === end) return true;
    if (digits === 0) return false;
    if (crlf) {
      if (buffer[at] !== CR) return false;
      at++;
      if (at === end) return true;
    }
    if (buffer[at] !== LF) return false;
    // A complete marker followed by more bytes is not the final one.
    return at + 1 === end;
  }
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= DIGIT_0 && byte <= DIGIT_9;
}
