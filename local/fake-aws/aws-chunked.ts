/**
 * Decoding of S3 request bodies: `Content-Encoding: aws-chunked` (what the SDK sends for a stream
 * body, with `x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER` and the checksum in a
 * trailer) and checks of the checksums the SDK sends by default (CRC32 since 3.729).
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { AwsServiceError } from './errors';

const CRLF = Buffer.from('\r\n', 'ascii');
const HEX_RADIX = 16;
const CRC32_BYTES = 4;
const STREAMING_PREFIX = 'STREAMING-';
const AWS_CHUNKED = 'aws-chunked';

export interface DecodedChunks {
  readonly data: Buffer;
  readonly trailers: Readonly<Record<string, string>>;
}

function incomplete(detail: string): AwsServiceError {
  return new AwsServiceError('IncompleteBody', `The aws-chunked body is malformed: ${detail}.`);
}

/** `<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0\r\n<trailer lines>\r\n`. */
export function decodeAwsChunked(body: Buffer): DecodedChunks {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf(CRLF, offset);
    if (lineEnd < 0) throw incomplete('a chunk header has no CRLF');
    const header = body.toString('latin1', offset, lineEnd);
    const sizeText = header.split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw incomplete(`bad chunk size "${sizeText}"`);
    const size = Number.parseInt(sizeText, HEX_RADIX);
    offset = lineEnd + CRLF.length;
    if (size === 0) break;
    if (offset + size + CRLF.length > body.length) throw incomplete('a chunk is cut short');
    parts.push(body.subarray(offset, offset + size));
    offset += size;
    if (!body.subarray(offset, offset + CRLF.length).equals(CRLF))
      throw incomplete('a chunk is not followed by CRLF');
    offset += CRLF.length;
  }
  const trailers: Record<string, string> = {};
  for (;;) {
    const lineEnd = body.indexOf(CRLF, offset);
    if (lineEnd < 0) break; // tolerate a body that ends right after the last trailer
    const line = body.toString('latin1', offset, lineEnd);
    offset = lineEnd + CRLF.length;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon < 0) throw incomplete(`bad trailer "${line}"`);
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { data: Buffer.concat(parts), trailers };
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

export function isAwsChunked(headers: Headers): boolean {
  const encoding = header(headers, 'content-encoding') ?? '';
  const sha = header(headers, 'x-amz-content-sha256') ?? '';
  return encoding.split(',').some((part) => part.trim() === AWS_CHUNKED) || sha.startsWith(STREAMING_PREFIX);
}

export interface S3Body {
  readonly data: Buffer;
  /** Checksums the client sent (header or trailer), by header name, e.g. `x-amz-checksum-crc32`. */
  readonly checksums: Readonly<Record<string, string>>;
}

const CHECKSUM_HEADER_PREFIX = 'x-amz-checksum-';
/** Algorithms the fake can verify; others (CRC32C, CRC64NVME) are kept but not checked. */
const VERIFIERS: Readonly<Record<string, (data: Buffer) => string>> = {
  'x-amz-checksum-crc32': (data) => {
    const out = Buffer.alloc(CRC32_BYTES);
    out.writeUInt32BE(crc32(data) >>> 0);
    return out.toString('base64');
  },
  'x-amz-checksum-sha1': (data) => createHash('sha1').update(data).digest('base64'),
  'x-amz-checksum-sha256': (data) => createHash('sha256').update(data).digest('base64'),
};

export function crc32Base64(data: Buffer): string {
  const verify = VERIFIERS['x-amz-checksum-crc32'];
  if (verify === undefined) throw new Error('no CRC32 verifier');
  return verify(data);
}

/** The object bytes of a PUT, with every checksum the client sent verified where possible. */
export function readS3Body(headers: Headers, raw: Buffer): S3Body {
  let data = raw;
  const checksums: Record<string, string> = {};
  if (isAwsChunked(headers)) {
    const decoded = decodeAwsChunked(raw);
    data = decoded.data;
    Object.assign(checksums, decoded.trailers);
    const declared = header(headers, 'x-amz-decoded-content-length');
    if (declared !== undefined && Number(declared) !== data.length) {
      throw new AwsServiceError(
        'IncompleteBody',
        `You did not provide the number of bytes specified by the x-amz-decoded-content-length header (${declared}, got ${data.length}).`,
      );
    }
  }
  for (const [name, value] of Object.entries(headers)) {
    if (
      name.startsWith(CHECKSUM_HEADER_PREFIX) &&
      name !== 'x-amz-checksum-algorithm' &&
      typeof value === 'string'
    ) {
      checksums[name] = value;
    }
  }
  for (const [name, value] of Object.entries(checksums)) {
    const verify = VERIFIERS[name];
    if (verify !== undefined && verify(data) !== value) {
      const algorithm = name.slice(CHECKSUM_HEADER_PREFIX.length).toUpperCase();
      throw new AwsServiceError(
        'BadDigest',
        `The ${algorithm} you specified did not match the calculated checksum.`,
      );
    }
  }
  const md5 = header(headers, 'content-md5');
  if (md5 !== undefined && createHash('md5').update(data).digest('base64') !== md5) {
    throw new AwsServiceError('BadDigest', 'The Content-MD5 you specified did not match what was received.');
  }
  return { data, checksums };
}
