/**
 * What follows the wrapper's header, up to the exit marker, turned into output:
 *
 *   plain:       pty bytes → TextNormalizer → text sink, full sink
 *   compressed:  base64 text → decompressor → exact bytes → full sink
 *                                                       └→ TextNormalizer → text sink
 *
 * The full sink (S3) gets the command's exact bytes on a compressed path, and the SHA-256 is taken
 * of whatever it gets.
 */
import { createHash, type Hash } from 'node:crypto';
import { TextNormalizer, type TextNormalizerOptions } from '../text';
import type { OutputSink } from '../types';
import { Base64StreamDecoder } from './base64-stream';
import { createDecompressor, type StreamDecompressor } from './decompress';
import type { Compressor } from './modes';

export interface BodyTargets {
  /** The processed text (the result's bounded view). */
  readonly text: OutputSink;
  /** Every output byte, for S3. */
  readonly full?: OutputSink;
}

export interface OutputBody {
  write(bytes: Buffer): void;
  /** Flushes everything; rejects if the output could not be decoded (after delivering what could). */
  end(): Promise<void>;
  /** Text held back by the normalizer, decoded as if the stream ended now (for snapshots). */
  pendingText(): Buffer;
  /** Bytes given to the full sink so far. */
  readonly fullBytes: number;
  /** Hex SHA-256 of the bytes given to the full sink; valid once `end()` settled. */
  sha256(): string;
}

/** Hashes and counts what goes to the full sink. */
class FullOutput {
  private readonly hash: Hash = createHash('sha256');
  private digest: string | undefined;
  bytes = 0;

  constructor(private readonly sink: OutputSink | undefined) {}

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.sink?.write(chunk);
  }

  sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}

export class PlainBody implements OutputBody {
  private readonly normalizer: TextNormalizer;
  private readonly full: FullOutput;

  constructor(
    private readonly targets: BodyTargets,
    normalizer: TextNormalizerOptions,
  ) {
    this.normalizer = new TextNormalizer(normalizer);
    this.full = new FullOutput(targets.full);
  }

  get fullBytes(): number {
    return this.full.bytes;
  }

  write(bytes: Buffer): void {
    this.deliver(this.normalizer.push(bytes));
  }

  end(): Promise<void> {
    this.deliver(this.normalizer.finish());
    return Promise.resolve();
  }

  pendingText(): Buffer {
    return this.previewWith(Buffer.alloc(0));
  }

  /** What the text would end with if `held` (bytes still held upstream) were the last input. */
  previewWith(held: Buffer): Buffer {
    const preview = this.normalizer.clone();
    return Buffer.concat([preview.push(held), preview.finish()]);
  }

  sha256(): string {
    return this.full.sha256();
  }

  private deliver(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.targets.text.write(bytes);
    this.full.write(bytes);
  }
}

export class CompressedBody implements OutputBody {
  private readonly base64 = new Base64StreamDecoder();
  private readonly decompressor: StreamDecompressor;
  private readonly normalizer: TextNormalizer;
  private readonly full: FullOutput;

  constructor(
    compressor: Compressor,
    private readonly targets: BodyTargets,
    normalizer: TextNormalizerOptions,
  ) {
    this.normalizer = new TextNormalizer(normalizer);
    this.full = new FullOutput(targets.full);
    this.decompressor = createDecompressor(compressor, (exact) => {
      this.full.write(exact);
      const text = this.normalizer.push(exact);
      if (text.length > 0) targets.text.write(text);
    });
  }

  get fullBytes(): number {
    return this.full.bytes;
  }

  /** Bytes outside base64 that something other than the wrapper wrote to the pty. */
  get strayBytes(): number {
    return this.base64.strayBytes;
  }

  write(bytes: Buffer): void {
    const compressed = this.base64.push(bytes);
    if (compressed.length > 0) this.decompressor.write(compressed);
  }

  async end(): Promise<void> {
    const last = this.base64.finish();
    if (last.length > 0) this.decompressor.write(last);
    let failure: unknown;
    try {
      await this.decompressor.end();
    } catch (error) {
      failure = error;
    }
    const text = this.normalizer.finish();
    if (text.length > 0) this.targets.text.write(text);
    // Not every decompressor checks a checksum (fzstd does not), and a process writing to
    // /dev/tty would corrupt the stream: stray bytes are the clearest explanation of a failure.
    if (this.base64.strayBytes > 0) {
      throw new Error(
        `the stream held ${this.base64.strayBytes} bytes that are not base64: something else wrote to the terminal`,
        { cause: failure },
      );
    }
    if (failure !== undefined) throw failure;
  }

  pendingText(): Buffer {
    return this.normalizer.clone().finish();
  }

  sha256(): string {
    return this.full.sha256();
  }
}
