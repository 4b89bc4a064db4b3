/**
 * The agent's `bufio.NewReader(p.stdout)` as writePump uses it (agent/session/shell/shell.go): a
 * read returns what the buffer holds, up to the caller's size; only an empty buffer refills, with
 * one read of the pty. One read of a Linux pty master returns at most 4095 bytes (measured), so a
 * busy command's output is read as 1024, 1024, 1024, 1023 bytes, repeating — the frame sizes seen
 * from the real agent. The double's pty bytes wait in a ByteQueue (pty-runner.ts), which stands in
 * for the kernel's buffer here.
 */
import type { ByteQueue } from './pty-runner';

const EMPTY = Buffer.alloc(0);

export class BufferedPtyReader {
  private buffered: Buffer = EMPTY;

  /** @param refillBytes what one refill takes from the pty at most (`ptyReadBytes`). */
  constructor(
    private readonly pty: ByteQueue,
    private readonly refillBytes: number,
  ) {}

  /** True once the pty reached EOF and every byte was read. */
  get drained(): boolean {
    return this.buffered.length === 0 && this.pty.drained;
  }

  /** Up to `max` bytes, or undefined when the buffer is empty and the pty has nothing right now. */
  read(max: number): Buffer | undefined {
    if (this.buffered.length === 0) {
      const refill = this.pty.take(this.refillBytes);
      if (refill === undefined) return undefined;
      this.buffered = refill;
    }
    const out = this.buffered.subarray(0, max);
    this.buffered = this.buffered.length > out.length ? this.buffered.subarray(out.length) : EMPTY;
    return out;
  }

  /** Resolves when a read would return bytes, or the pty ended. */
  whenReadable(): Promise<void> {
    return this.buffered.length > 0 ? Promise.resolve() : this.pty.whenReadable();
  }
}
