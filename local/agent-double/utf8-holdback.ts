import { isAscii } from 'node:buffer';

/**
 * The agent's `processStdoutData` (amazon-ssm-agent agent/session/shell/shell.go), ssm-protocol.md §8.2:
 * each read is prefixed with the bytes held back from the previous one, every complete UTF-8
 * character is sent, and an incomplete *or invalid* sequence that starts in the last 3 bytes is held
 * back for the next read. What is still held when the pty reaches EOF is dropped (writePump returns
 * without flushing). Invalid bytes earlier in the buffer pass through unchanged.
 */

/** `utf8.UTFMax`: the agent holds back a bad sequence that starts within the last UTFMax-1 bytes. */
const UTF_MAX = 4;
const EMPTY = Buffer.alloc(0);
const ASCII_LIMIT = 0x80;
const CONTINUATION_LOW = 0x80;
const CONTINUATION_HIGH = 0xbf;
const FFFD_BYTES = [0xef, 0xbf, 0xbd] as const;

/**
 * Length of the UTF-8 character at `i` as Go's `utf8.DecodeRune` sees it, or 0 when it reports
 * RuneError with size 1 (invalid or incomplete). Surrogates and overlong forms are invalid.
 */
export function validRuneLength(bytes: Buffer, i: number): number {
  const b0 = bytes[i] ?? 0;
  if (b0 < ASCII_LIMIT) return 1;
  let size: number;
  let low = CONTINUATION_LOW;
  let high = CONTINUATION_HIGH;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    size = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    size = 3;
    if (b0 === 0xe0) low = 0xa0;
    if (b0 === 0xed) high = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    size = 4;
    if (b0 === 0xf0) low = 0x90;
    if (b0 === 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (i + size > bytes.length) return 0;
  const b1 = bytes[i + 1] ?? 0;
  if (b1 < low || b1 > high) return 0;
  for (let k = 2; k < size; k++) {
    const b = bytes[i + k] ?? 0;
    if (b < CONTINUATION_LOW || b > CONTINUATION_HIGH) return 0;
  }
  return size;
}

function isFffdAt(bytes: Buffer, i: number): boolean {
  return bytes[i] === FFFD_BYTES[0] && bytes[i + 1] === FFFD_BYTES[1] && bytes[i + 2] === FFFD_BYTES[2];
}

export class Utf8HoldBack {
  private held: Buffer = EMPTY;

  /** @param fffdBug reproduce the agent's U+FFFD bug (a valid U+FFFD counts as RuneError). */
  constructor(private readonly fffdBug = false) {}

  /** Bytes carried over to the next read; dropped at EOF. */
  get heldBytes(): number {
    return this.held.length;
  }

  /** Returns what the agent sends for this read: possibly empty, then nothing is sent. */
  push(read: Buffer): Buffer {
    const bytes = this.held.length > 0 ? Buffer.concat([this.held, read]) : read;
    // Most output is ASCII, which is never held back or changed; a native check skips the scan.
    if (isAscii(bytes)) {
      this.held = EMPTY;
      return bytes;
    }
    const length = bytes.length;
    // Pieces of output that differ from `bytes` (only with the U+FFFD bug); undefined = send bytes[0, i).
    let pieces: Buffer[] | undefined;
    let pieceStart = 0;
    let i = 0;
    while (i < length) {
      // Fast path: ASCII is never held back or changed.
      if ((bytes[i] ?? 0) < ASCII_LIMIT) {
        i++;
        continue;
      }
      const size = validRuneLength(bytes, i);
      const isFffd = this.fffdBug && size === FFFD_BYTES.length && isFffdAt(bytes, i);
      if (size > 0 && !isFffd) {
        i += size;
        continue;
      }
      // RuneError: hold it (and everything after it) back if it starts within the last 3 bytes.
      if (length - i < UTF_MAX) break;
      if (isFffd) {
        // The agent writes one byte (EF) and then skips the rune's three.
        pieces ??= [];
        pieces.push(bytes.subarray(pieceStart, i + 1));
        i += FFFD_BYTES.length;
        pieceStart = i;
      } else {
        i += 1;
      }
    }
    // Copy what is held: `bytes` may be a view into a buffer the caller reuses.
    this.held = i < length ? Buffer.from(bytes.subarray(i)) : EMPTY;
    if (pieces === undefined) return bytes.subarray(0, i);
    pieces.push(bytes.subarray(pieceStart, i));
    return Buffer.concat(pieces);
  }
}
