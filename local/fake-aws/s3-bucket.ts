/** S3 bucket-level reads the doctor makes: GetBucketEncryption (`GET /<bucket>?encryption`). */
import type { FakeContext } from './context';
import { authorizeCaller, doctorState } from './doctor-world';
import { AwsServiceError, HttpStatus } from './errors';
import type { S3Request, S3Response } from './s3';

/** The bucket-level operation of a request, if it is one this file answers. */
export function s3BucketOperation(req: S3Request): string | undefined {
  if (req.bucket === undefined || (req.key !== undefined && req.key !== '')) return undefined;
  return req.method === 'GET' && req.query.has('encryption') ? 'GetBucketEncryption' : undefined;
}

export function handleS3Bucket(ctx: FakeContext, operation: string, req: S3Request): S3Response {
  const bucket = req.bucket ?? '';
  if (operation !== 'GetBucketEncryption')
    throw new AwsServiceError('NotImplemented', `${operation} is not implemented.`);
  authorizeCaller(ctx.world, 's3:GetEncryptionConfiguration', 'AccessDenied', `arn:aws:s3:::${bucket}`);
  const state = doctorState(ctx.world);
  const exists = !state.missingBuckets.includes(bucket) && (ctx.world.buckets?.includes(bucket) ?? true);
  if (!exists) {
    throw new AwsServiceError('NoSuchBucket', 'The specified bucket does not exist', HttpStatus.NotFound, {
      BucketName: bucket,
    });
  }
  const algorithms = state.bucketEncryption[bucket] ?? ['AES256'];
  if (algorithms.length === 0) {
    throw new AwsServiceError(
      'ServerSideEncryptionConfigurationNotFoundError',
      'The server side encryption configuration was not found',
      HttpStatus.NotFound,
      { BucketName: bucket },
    );
  }
  const rules = algorithms
    .map(
      (a) =>
        `<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>${a}</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>`,
    )
    .join('');
  return {
    status: HttpStatus.Ok,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?><ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</ServerSideEncryptionConfiguration>`,
  };
}
