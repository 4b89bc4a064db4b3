/**
 * The full output's Content-Type in S3: text when the bytes are UTF-8 text, binary otherwise.
 * A small output (one PutObject) is judged whole; a multipart upload names its type at creation,
 * so the bytes kept before the threshold decide it. Against the fake S3 endpoint.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { BINARY_CONTENT_TYPE, outputContentType, TEXT_CONTENT_TYPE } from '../../lambda/aws/content-type';
import { S3OverflowSink } from '../../lambda/aws/s3-sink';
import { useFakeAwsS3 } from '../support/fake-aws-s3';

const BUCKET = 'exec-output';
const THRESHOLD_BYTES = 16;

const world = useFakeAwsS3();

async function storedType(
  key: string,
  chunks: readonly Buffer[],
  force: boolean,
): Promise<string | undefined> {
  const sink = new S3OverflowSink(async () => world.s3, { bucket: BUCKET, key }, THRESHOLD_BYTES);
  for (const chunk of chunks) sink.write(chunk);
  sink.end();
  await sink.complete(force);
  return (await world.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentType;
}

describe('outputContentType', () => {
  it('is text for UTF-8 text, binary for a NUL or invalid UTF-8', () => {
    expect(outputContentType(Buffer.from('héllo\r\n\u001b[1mbold\u001b[0m\n'), true)).toBe(TEXT_CONTENT_TYPE);
    expect(outputContentType(Buffer.from('a\u0000b'), true)).toBe(BINARY_CONTENT_TYPE);
    expect(outputContentType(Buffer.from([0x61, 0xff, 0x0a]), true)).toBe(BINARY_CONTENT_TYPE);
    expect(outputContentType(Buffer.alloc(0), true)).toBe(TEXT_CONTENT_TYPE);
  });

  it('lets the first part of an output end inside a character, but not a whole output', () => {
    const cut = Buffer.from('price: €').subarray(0, -1);
    expect(outputContentType(cut, false)).toBe(TEXT_CONTENT_TYPE);
    expect(outputContentType(cut, true)).toBe(BINARY_CONTENT_TYPE);
  });
});

describe('S3OverflowSink Content-Type', () => {
  it('stores small text as text and small binary as octet-stream (whole output, PutObject)', async () => {
    expect(await storedType('small-text', [Buffer.from('ok\n')], true)).toBe(TEXT_CONTENT_TYPE);
    expect(await storedType('small-binary', [Buffer.from([0x1f, 0x8b, 0x08, 0x00])], true)).toBe(
      BINARY_CONTENT_TYPE,
    );
  });

  it('decides a multipart upload from the bytes kept before it starts', async () => {
    const text = Buffer.from('line of text\n'.repeat(4));
    expect(await storedType('large-text', [text, Buffer.from('more\n')], false)).toBe(TEXT_CONTENT_TYPE);
    const dump = Buffer.concat([Buffer.from('PGDMP'), Buffer.alloc(32, 0)]);
    expect(await storedType('large-binary', [dump, Buffer.from('tail text\n')], false)).toBe(
      BINARY_CONTENT_TYPE,
    );
  });
});
