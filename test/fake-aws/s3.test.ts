import { createCipheriv } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { S3_MIN_PART_BYTES } from '../../local/fake-aws';
import { useFakeAwsS3 } from '../support/fake-aws-s3';

const BUCKET = 'exec-output';
/** ~12 MB: two full 5 MiB parts and a short last one. */
const BIG_OBJECT_BYTES = 12 * 1000 * 1000 + 7;
const EXPECTED_PARTS = Math.ceil(BIG_OBJECT_BYTES / S3_MIN_PART_BYTES);

const world = useFakeAwsS3();

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the call to fail');
  return outcome;
}

const PATTERN_KEY = Buffer.alloc(16, 0x5a);
const PATTERN_IV = Buffer.alloc(16, 0xa5);

/** Deterministic pseudo-random bytes (AES-CTR keystream), so a misplaced part cannot go unnoticed. */
function patternBytes(length: number): Buffer {
  return createCipheriv('aes-128-ctr', PATTERN_KEY, PATTERN_IV).update(Buffer.alloc(length));
}

async function getBytes(key: string): Promise<Buffer> {
  const out = await world.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  if (out.Body === undefined) throw new Error('no body');
  return Buffer.from(await out.Body.transformToByteArray());
}

describe('S3', () => {
  it('stores a PutObject and serves it back with its metadata', async () => {
    await world.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'runs/a b/out.txt',
        Body: 'hello ✓',
        ContentType: 'text/plain',
      }),
    );
    expect(world.fake.objects.get(`${BUCKET}/runs/a b/out.txt`)?.toString('utf8')).toBe('hello ✓');
    const head = await world.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'runs/a b/out.txt' }));
    expect(head.ContentLength).toBe(Buffer.byteLength('hello ✓'));
    expect(head.ContentType).toBe('text/plain');
    expect((await getBytes('runs/a b/out.txt')).toString('utf8')).toBe('hello ✓');
  });

  it('decodes an aws-chunked stream body with a trailing checksum', async () => {
    const body = patternBytes(100_000);
    await world.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'streamed',
        Body: Readable.from([body.subarray(0, 40_000), body.subarray(40_000)]),
        ContentLength: body.length,
      }),
    );
    const put = world.fake.calls.filter((call) => call.operation === 'PutObject').at(-1);
    expect(put?.error).toBeUndefined();
    expect(put?.input).toMatchObject({ Key: 'streamed' });
    // The chunk framing and the checksum trailer make the request body bigger than the object.
    const input: unknown = put?.input;
    const bodyBytes =
      typeof input === 'object' && input !== null && 'BodyBytes' in input ? input.BodyBytes : 0;
    expect(bodyBytes).toBeGreaterThan(body.length);
    expect(world.fake.objects.get(`${BUCKET}/streamed`)?.equals(body)).toBe(true);
  });

  it('round-trips a ~12 MB multipart Upload byte for byte', async () => {
    const body = patternBytes(BIG_OBJECT_BYTES);
    const before = world.fake.calls.length;
    const result = await new Upload({
      client: world.s3,
      params: { Bucket: BUCKET, Key: 'big/output.bin', Body: Readable.from([body]) },
    }).done();
    expect(result.Key).toBe('big/output.bin');
    expect(result.ETag).toMatch(new RegExp(`-${EXPECTED_PARTS}"$`));
    const operations = world.fake.calls.slice(before).map((call) => call.operation);
    expect(operations.filter((operation) => operation === 'UploadPart')).toHaveLength(EXPECTED_PARTS);
    expect(operations).toContain('CreateMultipartUpload');
    expect(operations.at(-1)).toBe('CompleteMultipartUpload');
    expect(world.fake.objects.get(`${BUCKET}/big/output.bin`)?.equals(body)).toBe(true);
    expect((await getBytes('big/output.bin')).equals(body)).toBe(true);
  });

  it('serves byte ranges', async () => {
    world.fake.objects.set(`${BUCKET}/ranged`, Buffer.from('0123456789'));
    const out = await world.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'ranged', Range: 'bytes=2-4' }),
    );
    expect(await out.Body?.transformToString()).toBe('234');
    expect(out.ContentRange).toBe('bytes 2-4/10');
  });

  it('rejects a body that does not match its checksum', async () => {
    const err = await rejection(
      world.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'bad', Body: 'payload', ChecksumCRC32: 'AAAAAA==' }),
      ),
    );
    expect(err.name).toBe('BadDigest');
    expect(world.fake.objects.has(`${BUCKET}/bad`)).toBe(false);
  });

  it('refuses to complete an upload with a part smaller than 5 MiB before the last', async () => {
    const { UploadId } = await world.s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'small-parts' }),
    );
    const first = await world.s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'small-parts', UploadId, PartNumber: 1, Body: 'tiny' }),
    );
    const second = await world.s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'small-parts', UploadId, PartNumber: 2, Body: 'tail' }),
    );
    const err = await rejection(
      world.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'small-parts',
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: first.ETag },
              { PartNumber: 2, ETag: second.ETag },
            ],
          },
        }),
      ),
    );
    expect(err.name).toBe('EntityTooSmall');
    await world.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'small-parts', UploadId }));
    const gone = await rejection(
      world.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'small-parts', UploadId })),
    );
    expect(gone.name).toBe('NoSuchUpload');
  });

  it('answers NoSuchKey and NotFound for a missing object', async () => {
    expect(
      (await rejection(world.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing' })))).name,
    ).toBe('NoSuchKey');
    expect(
      (await rejection(world.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'missing' })))).name,
    ).toBe('NotFound');
  });

  it('answers NoSuchBucket when the world lists its buckets', async () => {
    world.fake.world.buckets = [BUCKET];
    try {
      const err = await rejection(
        world.s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'k', Body: 'x' })),
      );
      expect(err.name).toBe('NoSuchBucket');
    } finally {
      world.fake.world.buckets = undefined;
    }
  });

  it('fails an operation it does not implement with UnknownOperationException', async () => {
    const err = await rejection(world.s3.send(new ListBucketsCommand({})));
    expect(err.name).toBe('UnknownOperationException');
  });
});
