import { incompleteUtf8TailStart } from './text';
import type { OutputSink, OutputView } from './types';

const CONTINUATION_MASK = 0xc0;
const CONTINUATION_BITS = 0x80;
/** A character has at most three continuation bytes; more in a row is invalid UTF-8 anyway. */
const MAX_CONTINUATION_BYTES = 3;
const LF = 0x0a;

/**
 * The line put between head and tail when output was cut. It is a line of its own: a newline is
 * put before it unless the head is empty or ends with one, and after it, so the tail starts a line.
 */
export function formatOmissionNotice(omittedBytes: number, atLineStart: boolean): string {
  return `${atLineStart ? '' : '\n'}[ecs-exec-runner: ${omittedBytes} bytes of output omitted]\n`;
}

/**
 * Keeps the first and the last bytes of the output, about `limitBytes` in all (half each), and
 * counts everything. Memory is O(limitBytes) and each write costs O(chunk), however long the
 * stream: the tail is a ring buffer that is only linearised when `text()` is called.
 * When something had to be left out, the head is cut back and the tail cut forward to whole
 * UTF-8 characters, and the bytes dropped by those cuts count as omitted.
 */
export class BoundedOutputSink implements OutputSink, OutputView {
  readonly limitBytes: number;
  private readonly head: Buffer;
  private headLength = 0;
  /** The last bytes after the head; `ringEnd` is where the next byte goes. */
  private readonly ring: Buffer;
  private ringEnd = 0;
  private ringLength = 0;
  private total = 0;
  private ended = false;

  constructor(limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) {
      throw new RangeError(`limitBytes must be a non-negative integer, got ${limitBytes}`);
    }
    this.limitBytes = limitBytes;
    const headCapacity = Math.floor(limitBytes / 2);
    this.head = Buffer.alloc(headCapacity);
    this.ring = Buffer.alloc(limitBytes - headCapacity);
  }

  get totalBytes(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.limitBytes;
  }

  get omittedBytes(): number {
    if (!this.truncated) return 0;
    return this.total - this.keptHeadLength() - (this.ringLength - this.tailSkip());
  }

  write(chunk: Buffer): void {
    if (this.ended) {
      throw new Error('BoundedOutputSink.write after end');
    }
    this.total += chunk.length;
    let rest = chunk;
    if (this.headLength < this.head.length) {
      const copied = rest.copy(this.head, this.headLength);
      this.headLength += copied;
      rest = rest.subarray(copied);
    }
    this.appendToRing(rest);
  }

  end(): void {
    this.ended = true;
  }

  /** The first bytes kept (cut back to a character boundary when output was omitted). A copy. */
  headBytes(): Buffer {
    return Buffer.from(this.head.subarray(0, this.truncated ? this.keptHeadLength() : this.headLength));
  }

  /** The last bytes kept (cut forward to a character boundary when output was omitted). A copy. */
  tailBytes(): Buffer {
    const capacity = this.ring.length;
    const start = (this.ringEnd - this.ringLength + capacity) % capacity || 0;
    const linear =
      start + this.ringLength <= capacity
        ? Buffer.from(this.ring.subarray(start, start + this.ringLength))
        : Buffer.concat([this.ring.subarray(start), this.ring.subarray(0, this.ringEnd)]);
    return this.truncated ? linear.subarray(this.tailSkip()) : linear;
  }

  text(): string {
    const head = this.headBytes();
    const tail = this.tailBytes();
    if (!this.truncated) {
      // One decode: a character may straddle the head and the ring.
      return Buffer.concat([head, tail]).toString('utf8');
    }
    const atLineStart = head.length === 0 || head[head.length - 1] === LF;
    return (
      head.toString('utf8') + formatOmissionNotice(this.omittedBytes, atLineStart) + tail.toString('utf8')
    );
  }

  private appendToRing(bytes: Buffer): void {
    const capacity = this.ring.length;
    if (bytes.length === 0 || capacity === 0) return;
    // Only the last `capacity` bytes can survive; skip the rest without copying it.
    const source = bytes.length > capacity ? bytes.subarray(bytes.length - capacity) : bytes;
    const first = source.copy(this.ring, this.ringEnd);
    if (first < source.length) {
      source.copy(this.ring, 0, first);
    }
    this.ringEnd = (this.ringEnd + source.length) % capacity;
    this.ringLength = Math.min(capacity, this.ringLength + source.length);
  }

  private keptHeadLength(): number {
    return incompleteUtf8TailStart(this.head.subarray(0, this.headLength));
  }

  /** How many continuation bytes open the tail (the rest of a character that was cut). */
  private tailSkip(): number {
    const capacity = this.ring.length;
    const start = (this.ringEnd - this.ringLength + capacity) % capacity || 0;
    let skip = 0;
    while (skip < Math.min(MAX_CONTINUATION_BYTES, this.ringLength)) {
      const byte = this.ring[(start + skip) % capacity]!;
      if ((byte & CONTINUATION_MASK) !== CONTINUATION_BITS) break;
      skip++;
    }
    return skip;
  }
}

/** Writes every chunk to several sinks, e.g. a bounded view for the result and a stream to S3. */
export class TeeSink implements OutputSink {
  private readonly sinks: readonly OutputSink[];

  constructor(...sinks: OutputSink[]) {
    this.sinks = sinks;
  }

  /** Every sink gets the chunk even if an earlier one throws; the first error is rethrown. */
  write(chunk: Buffer): void {
    this.forEachSink((sink) => sink.write(chunk));
  }

  end(): void {
    this.forEachSink((sink) => sink.end());
  }

  private forEachSink(action: (sink: OutputSink) => void): void {
    let firstError: { readonly error: unknown } | undefined;
    for (const sink of this.sinks) {
      try {
        action(sink);
      } catch (error) {
        firstError ??= { error };
      }
    }
    if (firstError !== undefined) {
      throw firstError.error;
    }
  }
}

/**
 * Hands each chunk to a callback. The callback gets its own copy, so it may keep it (queue it for
 * an upload) although the OutputSink contract lets the writer reuse the buffer after `write`.
 */
export class CallbackSink implements OutputSink {
  constructor(
    private readonly onChunk: (chunk: Buffer) => void,
    private readonly onEnd?: () => void,
  ) {}

  write(chunk: Buffer): void {
    this.onChunk(Buffer.from(chunk));
  }

  end(): void {
    this.onEnd?.();
  }
}
