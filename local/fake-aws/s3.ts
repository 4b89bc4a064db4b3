/**
 * S3 (REST-XML, path-style because the endpoint is an IP address): what `@aws-sdk/lib-storage`'s
 * `Upload` and a plain PutObject/GetObject need. Bodies may come aws-chunked with a trailing
 * checksum (the SDK's default for stream bodies); they are decoded and their checksums checked.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { crc32Base64, readS3Body } from './aws-chunked';
import type { FakeContext } from './context';
import { AwsServiceError, HttpStatus } from './errors';
import { md5Etag, type ObjectMeta } from './s3-store';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** S3's minimum size of every part but the last. */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
export const S3_MAX_PART_NUMBER = 10_000;

export interface S3Request {
  readonly method: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface S3Response {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
}

/** Names the operation of a request, or undefined when the fake does not implement it. */
export function s3Operation(req: S3Request): string | undefined {
  const { method, key, query, headers } = req;
  if (req.bucket === undefined || key === undefined) return undefined;
  switch (method) {
    case 'PUT':
      if (headers['x-amz-copy-source'] !== undefined) return undefined;
      return query.has('partNumber') && query.has('uploadId') ? 'UploadPart' : 'PutObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      return query.has('uploadId') ? 'CompleteMultipartUpload' : undefined;
    case 'DELETE':
      return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'GET':
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    default:
      return undefined;
  }
}

/** What a call record keeps of an S3 request: never the bytes. */
export function s3RecordedInput(req: S3Request): Record<string, unknown> {
  const uploadId = req.query.get('uploadId');
  const partNumber = req.query.get('partNumber');
  return {
    Bucket: req.bucket,
    Key: req.key,
    ...(uploadId !== null ? { UploadId: uploadId } : {}),
    ...(partNumber !== null ? { PartNumber: Number(partNumber) } : {}),
    ...(req.body.length > 0 ? { BodyBytes: req.body.length } : {}),
  };
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function unescapeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#34;/g, '"')
    .replace(/&amp;/g, '&');
}

function xmlDocument(root: string, fields: Readonly<Record<string, string>>): string {
  const inner = Object.entries(fields)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  return `${XML_DECLARATION}<${root} xmlns="${S3_NAMESPACE}">${inner}</${root}>`;
}

/** S3's error document; HEAD responses carry no body, so the SDK falls back to the status. */
export function s3ErrorDocument(err: AwsServiceError, resource: string, requestId: string): string {
  const details = Object.entries(err.details)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  return `${XML_DECLARATION}<Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message>${details}<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
}

function noSuchKey(key: string): AwsServiceError {
  return new AwsServiceError('NoSuchKey', 'The specified key does not exist.', HttpStatus.NotFound, {
    Key: key,
  });
}

function noSuchUpload(uploadId: string): AwsServiceError {
  return new AwsServiceError(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    HttpStatus.NotFound,
    { UploadId: uploadId },
  );
}

function checksumHeaders(checksums: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(checksums).filter(([name]) => name.startsWith('x-amz-checksum-')));
}

function contentTypeOf(req: S3Request): string | undefined {
  const value = req.headers['content-type'];
  return typeof value === 'string' ? value : undefined;
}

function objectHeaders(meta: ObjectMeta): Record<string, string> {
  return {
    'content-type': meta.contentType,
    etag: meta.etag,
    'last-modified': meta.lastModified.toUTCString(),
    'accept-ranges': 'bytes',
  };
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → [start, endInclusive], or undefined when unsatisfiable. */
function parseRange(range: string, size: number): [number, number] | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (match === null) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 ? undefined : [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return start >= size || end < start ? undefined : [start, end];
}

function readObject(
  ctx: FakeContext,
  req: S3Request,
  bucket: string,
  key: string,
  withBody: boolean,
): S3Response {
  const meta = ctx.s3.get(bucket, key);
  if (meta === undefined) throw noSuchKey(key);
  const headers = objectHeaders(meta);
  const range = req.headers.range;
  if (typeof range === 'string') {
    const span = parseRange(range, meta.data.length);
    if (span === undefined) {
      throw new AwsServiceError(
        'InvalidRange',
        'The requested range is not satisfiable',
        HttpStatus.RangeNotSatisfiable,
      );
    }
    const [start, end] = span;
    const slice = meta.data.subarray(start, end + 1);
    return {
      status: HttpStatus.PartialContent,
      headers: {
        ...headers,
        'content-range': `bytes ${start}-${end}/${meta.data.length}`,
        'content-length': String(slice.length),
      },
      ...(withBody ? { body: slice } : {}),
    };
  }
  const checksum: Record<string, string> =
    req.headers['x-amz-checksum-mode'] === 'ENABLED'
      ? { 'x-amz-checksum-crc32': crc32Base64(meta.data), 'x-amz-checksum-type': 'FULL_OBJECT' }
      : {};
  return {
    status: HttpStatus.Ok,
    headers: { ...headers, ...checksum, 'content-length': String(meta.data.length) },
    ...(withBody ? { body: meta.data } : {}),
  };
}

interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
}

function parseCompleteRequest(body: Buffer): RequestedPart[] {
  const xml = body.toString('utf8');
  const parts: RequestedPart[] = [];
  for (const match of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const inner = match[1] ?? '';
    const partNumber = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(inner)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1];
    if (partNumber === undefined || etag === undefined) {
      throw new AwsServiceError(
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema.',
      );
    }
    parts.push({ partNumber: Number(partNumber), etag: unescapeXml(etag.trim()) });
  }
  if (parts.length === 0) {
    throw new AwsServiceError(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema.',
    );
  }
  return parts;
}

/** `"<md5 of the parts' binary md5s>-<count>"`, as S3 computes a multipart ETag. */
function multipartEtag(etags: readonly string[]): string {
  const digests = etags.map((etag) => Buffer.from(etag.replace(/"/g, ''), 'hex'));
  return `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${etags.length}"`;
}

function completeUpload(ctx: FakeContext, req: S3Request, bucket: string, key: string): S3Response {
  const uploadId = req.query.get('uploadId') ?? '';
  const upload = ctx.s3.uploads.get(uploadId);
  if (upload === undefined || upload.bucket !== bucket || upload.key !== key) throw noSuchUpload(uploadId);
  const requested = parseCompleteRequest(req.body);
  const chunks: Buffer[] = [];
  const etags: string[] = [];
  let previous = 0;
  for (const [index, { partNumber, etag }] of requested.entries()) {
    if (partNumber <= previous) {
      throw new AwsServiceError(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
      );
    }
    previous = partNumber;
    const part = upload.parts.get(partNumber);
    if (part === undefined || part.etag !== etag) {
      throw new AwsServiceError(
        'InvalidPart',
        "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
      );
    }
    if (index < requested.length - 1 && part.data.length < S3_MIN_PART_BYTES) {
      throw new AwsServiceError(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
      );
    }
    chunks.push(part.data);
    etags.push(part.etag);
  }
  const meta = ctx.s3.put(bucket, key, Buffer.concat(chunks), upload.contentType, multipartEtag(etags));
  ctx.s3.uploads.delete(uploadId);
  return xmlResponse(
    xmlDocument('CompleteMultipartUploadResult', {
      Location: `${ctx.endpoint()}/${bucket}/${encodeURI(key)}`,
      Bucket: bucket,
      Key: key,
      ETag: meta.etag,
    }),
  );
}

function xmlResponse(document: string, status: number = HttpStatus.Ok): S3Response {
  return { status, headers: { 'content-type': 'application/xml' }, body: document };
}

function requireBucket(ctx: FakeContext, bucket: string): void {
  const buckets = ctx.world.buckets;
  if (buckets !== undefined && !buckets.includes(bucket)) {
    throw new AwsServiceError('NoSuchBucket', 'The specified bucket does not exist', HttpStatus.NotFound, {
      BucketName: bucket,
    });
  }
}

export function handleS3(ctx: FakeContext, operation: string, req: S3Request): S3Response {
  const { bucket, key } = req;
  if (bucket === undefined || key === undefined)
    throw new AwsServiceError('InvalidRequest', 'No bucket or key.');
  requireBucket(ctx, bucket);
  switch (operation) {
    case 'PutObject': {
      // A conditional write (`If-None-Match: *`) refuses to replace an object, as S3 does.
      if (req.headers['if-none-match'] === '*' && ctx.s3.get(bucket, key) !== undefined) {
        throw new AwsServiceError(
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          HttpStatus.PreconditionFailed,
        );
      }
      const { data, checksums } = readS3Body(req.headers, req.body);
      const meta = ctx.s3.put(bucket, key, data, contentTypeOf(req));
      return { status: HttpStatus.Ok, headers: { etag: meta.etag, ...checksumHeaders(checksums) } };
    }
    case 'CreateMultipartUpload': {
      const uploadId = ctx.s3.createUpload(bucket, key, contentTypeOf(req));
      return xmlResponse(
        xmlDocument('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: uploadId }),
      );
    }
    case 'UploadPart': {
      const uploadId = req.query.get('uploadId') ?? '';
      const upload = ctx.s3.uploads.get(uploadId);
      if (upload === undefined || upload.bucket !== bucket || upload.key !== key)
        throw noSuchUpload(uploadId);
      const partNumber = Number(req.query.get('partNumber'));
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > S3_MAX_PART_NUMBER) {
        throw new AwsServiceError(
          'InvalidArgument',
          `Part number must be an integer between 1 and ${S3_MAX_PART_NUMBER}, inclusive`,
        );
      }
      const { data, checksums } = readS3Body(req.headers, req.body);
      const etag = md5Etag(data);
      upload.parts.set(partNumber, { data, etag });
      return { status: HttpStatus.Ok, headers: { etag, ...checksumHeaders(checksums) } };
    }
    case 'CompleteMultipartUpload':
      return completeUpload(ctx, req, bucket, key);
    case 'AbortMultipartUpload': {
      const uploadId = req.query.get('uploadId') ?? '';
      if (!ctx.s3.uploads.delete(uploadId)) throw noSuchUpload(uploadId);
      return { status: HttpStatus.NoContent, headers: {} };
    }
    case 'DeleteObject':
      ctx.s3.delete(bucket, key);
      return { status: HttpStatus.NoContent, headers: {} };
    case 'GetObject':
      return readObject(ctx, req, bucket, key, true);
    case 'HeadObject':
      return readObject(ctx, req, bucket, key, false);
    default:
      throw new AwsServiceError('NotImplemented', `S3 ${operation} is not implemented by the fake.`);
  }
}
