/**
 * The Content-Type of a full output object in S3: text when its bytes are UTF-8 text, else
 * binary, so a browser or `aws s3 cp` to a terminal does not treat a dump's bytes as text.
 */

export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';
export const BINARY_CONTENT_TYPE = 'application/octet-stream';

const NUL = 0x00;

/**
 * `bytes` are the whole object (`complete`), or its first part, as when a multipart upload must
 * name its type at creation: then a multi-byte character cut at the end still counts as text.
 */
export function outputContentType(bytes: Uint8Array, complete: boolean): string {
  if (bytes.includes(NUL)) return BINARY_CONTENT_TYPE;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !complete });
    return TEXT_CONTENT_TYPE;
  } catch {
    return BINARY_CONTENT_TYPE;
  }
}
