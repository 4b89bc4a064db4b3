import { PassThrough } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { OutputSink } from '../ssm/types';

export const OUTPUT_CONTENT_TYPE = 'text/plain; charset=utf-8';

export interface S3OutputLocation {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Keeps the output in memory up to `thresholdBytes`; past that it streams every byte (the kept
 * ones first) to S3 as a multipart upload, so the full output survives whatever its size.
 */
export class S3OverflowSink implements OutputSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stream: PassThrough | null = null;
  private upload: Upload | null = null;
  /** done() may be called once per Upload; this is its outcome, settled even if nobody awaits it. */
  private uploaded: Promise<{ ok: true } | { ok: false; error: unknown }> | null = null;

  constructor(
    private readonly s3: S3Client,
    private readonly location: S3OutputLocation,
    private readonly thresholdBytes: number,
  ) {}

  get uri(): string {
    return `s3://${this.location.bucket}/${this.location.key}`;
  }

  get streaming(): boolean {
    return this.stream !== null;
  }

  write(chunk: Buffer): void {
    if (this.stream !== null) {
      this.stream.write(Buffer.from(chunk));
      return;
    }
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > this.thresholdBytes) this.startUpload();
  }

  end(): void {
    this.stream?.end();
  }

  /**
   * Waits for the upload. With `force`, output that never crossed the threshold is written too
   * (used when the result had to be shortened for another reason). Returns the URI, or undefined
   * when nothing was uploaded.
   */
  async complete(force = false): Promise<string | undefined> {
    if (this.upload === null) {
      if (!force) return undefined;
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.location.bucket,
          Key: this.location.key,
          Body: Buffer.concat(this.pending),
          ContentType: OUTPUT_CONTENT_TYPE,
        }),
      );
      return this.uri;
    }
    const outcome = await this.uploaded;
    if (outcome !== null && !outcome.ok) throw outcome.error;
    return this.uri;
  }

  /** Best effort: drop a half-done multipart upload. */
  async abort(): Promise<void> {
    this.stream?.destroy();
    await this.upload?.abort().catch(() => undefined);
  }

  private startUpload(): void {
    this.stream = new PassThrough();
    this.upload = new Upload({
      client: this.s3,
      params: {
        Bucket: this.location.bucket,
        Key: this.location.key,
        Body: this.stream,
        ContentType: OUTPUT_CONTENT_TYPE,
      },
    });
    this.uploaded = this.upload.done().then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    for (const chunk of this.pending) this.stream.write(chunk);
    this.pending = [];
    this.pendingBytes = 0;
  }
}
