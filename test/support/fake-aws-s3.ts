import { S3Client } from '@aws-sdk/client-s3';
import { type FakeAws, startFakeAws } from '../../local/fake-aws';

export interface FakeAwsS3 {
  readonly fake: FakeAws;
  /** An S3 client that reaches the fake through the standard endpoint variables, no retries. */
  readonly s3: S3Client;
}

/**
 * Starts the fake AWS endpoint once for the test file (beforeAll/afterAll) with an S3 client on it.
 * Read the fields inside tests and hooks: they exist only once beforeAll has run.
 */
export function useFakeAwsS3(): FakeAwsS3 {
  let fake: FakeAws | undefined;
  let s3: S3Client | undefined;
  let restoreEnv: (() => void) | undefined;
  beforeAll(async () => {
    fake = await startFakeAws({});
    restoreEnv = fake.applyEnv();
    s3 = new S3Client({ maxAttempts: 1 });
  });
  afterAll(async () => {
    s3?.destroy();
    await fake?.close();
    restoreEnv?.();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useFakeAwsS3: read its fields inside tests, after beforeAll');
    return value;
  };
  return {
    get fake() {
      return started(fake);
    },
    get s3() {
      return started(s3);
    },
  };
}
