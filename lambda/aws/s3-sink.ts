import { PassThrough } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { OutputSink } from '../ssm/types';
import { outputContentType } from './content-type';

export interface S3OutputLocation {
  readonly bucket: string;
  readonly key: string;
}

type Outcome = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/**
 * Keeps the output in memory up to `thresholdBytes`; past that it streams every byte (the kept
 * ones first) to S3 as a multipart upload (lib-storage), so the full output survives whatever its size.
 */
export class S3OverflowSink implements OutputSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stream: PassThrough | null = null;
  /** Settles when the upload is done; never rejects (the error is kept for complete()). */
  private uploaded: Promise<Outcome> | null = null;
  private abortUpload: (() => Promise<void>) | null = null;

  constructor(
    private readonly s3: () => Promise<S3Client>,
    private readonly location: S3OutputLocation,
    private readonly thresholdBytes: number,
  ) {}

  get uri(): string {
    return `s3://${this.location.bucket}/${this.location.key}`;
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
    if (this.uploaded === null) {
      if (!force) return undefined;
      const [client, { PutObjectCommand }] = await Promise.all([this.s3(), import('@aws-sdk/client-s3')]);
      const body = Buffer.concat(this.pending);
      await client.send(
        new PutObjectCommand({
          Bucket: this.location.bucket,
          Key: this.location.key,
          Body: body,
          ContentType: outputContentType(body, true),
        }),
      );
      return this.uri;
    }
    const outcome = await this.uploaded;
    if (!outcome.ok) throw outcome.error;
    return this.uri;
  }

  /** Best effort: drop a half-done multipart upload. */
  async abort(): Promise<void> {
    this.stream?.destroy();
    await this.abortUpload?.().catch(() => undefined);
  }

  /**
   * A multipart upload names its Content-Type when it is created, before the rest of the output
   * exists: the bytes kept so far (more than the threshold) decide it.
   */
  private startUpload(): void {
    const stream = new PassThrough();
    this.stream = stream;
    const contentType = outputContentType(Buffer.concat(this.pending), false);
    // Bytes written before the client is ready wait in the stream, which the upload then drains.
    for (const chunk of this.pending) stream.write(chunk);
    this.pending = [];
    this.pendingBytes = 0;
    this.uploaded = (async () => {
      const [client, { Upload }] = await Promise.all([this.s3(), import('@aws-sdk/lib-storage')]);
      const upload = new Upload({
        client,
        params: {
          Bucket: this.location.bucket,
          Key: this.location.key,
          Body: stream,
          ContentType: contentType,
        },
      });
      this.abortUpload = () => upload.abort();
      await upload.done();
    })().then(
      (): Outcome => ({ ok: true }),
      (error: unknown): Outcome => ({ ok: false, error }),
    );
  }
}
