/**
 * Streaming decompressors for the three compressors the wrapper may use, all maintained code:
 * gzip with Node's zlib; zstd with Node's zlib where it has it (Node ≥ 22.15, so the Lambda's
 * Node 24) and the pure-JS `fzstd` elsewhere; xz with `xz-decompress` (WebAssembly, no native
 * addon, so an arm64 Lambda bundle built on x64 works).
 */
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress as FzstdDecompress } from 'fzstd';
import { XzReadableStream } from 'xz-decompress';
import type { Compressor } from './modes';

export interface StreamDecompressor {
  write(chunk: Buffer): void;
  /**
   * Ends the input and resolves once every decoded byte went to `onData`. Rejects when the input
   * was corrupt or cut short, after handing over everything decoded before the damage.
   */
  end(): Promise<void>;
}

export type DecodedChunkHandler = (chunk: Buffer) => void;

/** zlib's zstd entry point where this Node has it (not in @types/node 20). */
type ZstdFactory = () => Transform;
const nodeZstd = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;

export function createDecompressor(compressor: Compressor, onData: DecodedChunkHandler): StreamDecompressor {
  switch (compressor) {
    case 'gzip':
      // Sync flush at the end: a stream cut short still yields every byte that can be decoded.
      return new NodeStreamDecompressor(
        zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
        onData,
      );
    case 'zstd':
      return nodeZstd !== undefined
        ? new NodeStreamDecompressor(nodeZstd(), onData)
        : new FzstdStreamDecompressor(onData);
    case 'xz':
      return new XzStreamDecompressor(onData);
  }
}

/** Which zstd implementation this process uses, for logs and tests. */
export const ZSTD_IMPLEMENTATION: 'node:zlib' | 'fzstd' = nodeZstd !== undefined ? 'node:zlib' : 'fzstd';

class NodeStreamDecompressor implements StreamDecompressor {
  private readonly done: Promise<void>;

  constructor(
    private readonly stream: Transform,
    onData: DecodedChunkHandler,
  ) {
    stream.on('data', (chunk: Buffer) => onData(chunk));
    this.done = new Promise((resolve, reject) => {
      stream.once('end', resolve);
      stream.once('error', reject);
    });
    // Until end() is awaited, a rejection must not count as unhandled.
    this.done.catch(() => undefined);
  }

  write(chunk: Buffer): void {
    if (!this.stream.destroyed) this.stream.write(Buffer.from(chunk));
  }

  end(): Promise<void> {
    if (!this.stream.destroyed) this.stream.end();
    return this.done;
  }
}

class FzstdStreamDecompressor implements StreamDecompressor {
  private readonly decoder: FzstdDecompress;
  private error: unknown;
  private failed = false;

  constructor(onData: DecodedChunkHandler) {
    // fzstd may reuse its window buffer: copy each chunk out.
    this.decoder = new FzstdDecompress((chunk) => onData(Buffer.from(chunk)));
  }

  write(chunk: Buffer): void {
    this.push(chunk, false);
  }

  end(): Promise<void> {
    this.push(new Uint8Array(0), true);
    return this.failed ? Promise.reject(this.error) : Promise.resolve();
  }

  private push(chunk: Uint8Array, final: boolean): void {
    if (this.failed) return;
    try {
      this.decoder.push(chunk, final);
    } catch (error) {
      this.failed = true;
      this.error = error;
    }
  }
}

class XzStreamDecompressor implements StreamDecompressor {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private readonly done: Promise<void>;
  private closed = false;

  constructor(onData: DecodedChunkHandler) {
    const source = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
    });
    const reader = new XzReadableStream(source).getReader();
    this.done = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        onData(Buffer.from(value));
      }
    })();
    this.done.catch(() => undefined);
  }

  write(chunk: Buffer): void {
    if (!this.closed) this.controller.enqueue(new Uint8Array(chunk));
  }

  end(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.controller.close();
    }
    return this.done;
  }
}
