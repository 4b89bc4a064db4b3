/** The bytes behind the fake S3: objects keyed `bucket/key`, and multipart uploads in progress. */
import { createHash, randomBytes } from 'node:crypto';

const UPLOAD_ID_BYTES = 24;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export interface ObjectMeta {
  /** The buffer this metadata describes; a test that swaps the bytes gets fresh metadata. */
  readonly data: Buffer;
  readonly contentType: string;
  /** Quoted, as S3 sends it. */
  readonly etag: string;
  readonly lastModified: Date;
}

export interface UploadedPart {
  readonly data: Buffer;
  readonly etag: string;
}

export interface MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly parts: Map<number, UploadedPart>;
}

export function objectKey(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}

export function md5Etag(data: Buffer): string {
  return `"${createHash('md5').update(data).digest('hex')}"`;
}

export class S3Store {
  readonly objects = new Map<string, Buffer>();
  private readonly meta = new Map<string, ObjectMeta>();
  readonly uploads = new Map<string, MultipartUpload>();

  put(
    bucket: string,
    key: string,
    data: Buffer,
    contentType: string | undefined,
    etag = md5Etag(data),
  ): ObjectMeta {
    const id = objectKey(bucket, key);
    const meta: ObjectMeta = {
      data,
      contentType: contentType ?? DEFAULT_CONTENT_TYPE,
      etag,
      lastModified: new Date(),
    };
    this.objects.set(id, data);
    this.meta.set(id, meta);
    return meta;
  }

  get(bucket: string, key: string): ObjectMeta | undefined {
    const id = objectKey(bucket, key);
    const data = this.objects.get(id);
    if (data === undefined) return undefined;
    const meta = this.meta.get(id);
    if (meta !== undefined && meta.data === data) return meta;
    return this.put(bucket, key, data, undefined);
  }

  delete(bucket: string, key: string): void {
    const id = objectKey(bucket, key);
    this.objects.delete(id);
    this.meta.delete(id);
  }

  createUpload(bucket: string, key: string, contentType: string | undefined): string {
    const uploadId = randomBytes(UPLOAD_ID_BYTES).toString('base64url');
    this.uploads.set(uploadId, {
      bucket,
      key,
      contentType: contentType ?? DEFAULT_CONTENT_TYPE,
      parts: new Map(),
    });
    return uploadId;
  }
}
