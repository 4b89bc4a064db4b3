/**
 * The agent's writePump (amazon-ssm-agent agent/session/shell/shell.go, ssm-protocol.md §8): sleep
 * before the first read, then read at most one chunk from a buffered reader over the pty, send its
 * complete UTF-8 characters, sleep 1 ms, repeat; skip reading while the data channel is paused;
 * stop at EOF, dropping any bytes still held back. `REAL_AGENT_PACING` (options.ts) is that timing.
 */
import { BufferedPtyReader } from './buffered-pty-reader';
import type { ByteQueue } from './pty-runner';
import { sleepAtLeast, unlessAborted, yieldToEventLoop } from './timers';
import type { Utf8HoldBack } from './utf8-holdback';

/** With no inter-chunk delay, let the event loop breathe after this many chunks. */
const CHUNKS_PER_YIELD = 32;

export interface PumpSink {
  /** False while publication is paused (`dataChannel.IsActive()`). */
  isActive(): boolean;
  whenActive(): Promise<void>;
  sendOutput(payload: Buffer): void;
  /** Present while the client socket is congested: the agent's blocking socket write. */
  whenWritable(): Promise<void> | undefined;
}

export interface PumpTiming {
  readonly initialReadDelayMs: number;
  readonly chunkBytes: number;
  readonly ptyReadBytes: number;
  readonly interChunkDelayMs: number;
}

export async function runOutputPump(
  queue: ByteQueue,
  holdBack: Utf8HoldBack,
  sink: PumpSink,
  timing: PumpTiming,
  signal: AbortSignal,
): Promise<void> {
  if (timing.initialReadDelayMs > 0 && !(await sleepAtLeast(timing.initialReadDelayMs, signal))) return;
  const reader = new BufferedPtyReader(queue, timing.ptyReadBytes);
  let chunksSinceYield = 0;
  while (!signal.aborted) {
    if (!sink.isActive()) {
      await unlessAborted(sink.whenActive(), signal);
      continue;
    }
    const read = reader.read(timing.chunkBytes);
    if (read === undefined) {
      if (reader.drained) return;
      await unlessAborted(reader.whenReadable(), signal);
      continue;
    }
    const payload = holdBack.push(read);
    // Empty payloads are never sent (SendStreamDataMessage ignores them).
    if (payload.length > 0) sink.sendOutput(payload);
    const congested = sink.whenWritable();
    if (congested !== undefined) await unlessAborted(congested, signal);
    if (timing.interChunkDelayMs > 0) {
      await sleepAtLeast(timing.interChunkDelayMs, signal);
    } else if (++chunksSinceYield >= CHUNKS_PER_YIELD) {
      chunksSinceYield = 0;
      await yieldToEventLoop();
    }
  }
}
