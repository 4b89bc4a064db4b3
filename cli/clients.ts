/**
 * The CLI's SDK clients, with timeouts and retries chosen on purpose rather than inherited.
 *
 * The SDK's defaults are no request timeout at all and 3 attempts: a half-open connection would
 * hang the CLI forever, and a slow answer that did arrive late can be retried into a second call
 * (the botocore write-up in ../shared/seeds shows a 60 s Lambda invoke turned into several runs and
 * a ReadTimeout by exactly these defaults). Every call here is a small control-plane request that
 * answers in well under a second, so:
 *
 * - 3 s to connect, 10 s for an answer: a dead endpoint fails in seconds, not minutes;
 * - 3 attempts (standard mode: throttling, 5xx and timeouts, with jittered back-off): a blip does not
 *   fail a run, and the worst case per call stays around 40 s.
 *
 * Retrying is safe for every call the CLI makes: DescribeExecution, GetExecutionHistory,
 * DescribeStacks and GetObject only read, and StartExecution always carries an execution name, which makes a
 * retried start of a standard workflow return the execution the first attempt created instead of
 * starting the command a second time (see run.ts).
 *
 * Region, credentials and endpoints come from the SDK's standard settings (AWS_REGION,
 * AWS_PROFILE, AWS_ENDPOINT_URL…), `--region` overriding the region.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export const CLI_CONNECTION_TIMEOUT_MS = 3_000;
export const CLI_REQUEST_TIMEOUT_MS = 10_000;
export const CLI_MAX_ATTEMPTS = 3;

export interface ClientOptions {
  readonly region?: string;
}

function common(options: ClientOptions) {
  return {
    ...(options.region !== undefined ? { region: options.region } : {}),
    maxAttempts: CLI_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: new NodeHttpHandler({
      connectionTimeout: CLI_CONNECTION_TIMEOUT_MS,
      requestTimeout: CLI_REQUEST_TIMEOUT_MS,
    }),
  };
}

export function createSfnClient(options: ClientOptions = {}): SFNClient {
  return new SFNClient(common(options));
}

export function createCloudFormationClient(options: ClientOptions = {}): CloudFormationClient {
  return new CloudFormationClient(common(options));
}

/** Loaded on first use: only `--fan-out` reads S3, and the module costs start-up time. */
const s3Module = (): typeof import('@aws-sdk/client-s3') =>
  require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');

/** `--fan-out` reads the per-task results the fan-out's Distributed Map wrote to S3. */
export function createS3Client(options: ClientOptions = {}): S3Client {
  return new (s3Module().S3Client)(common(options));
}

/** Reads S3 objects as UTF-8 text with `client`. */
export function s3TextReader(client: S3Client): (bucket: string, key: string) => Promise<string> {
  return async (bucket, key) => {
    const object = await client.send(new (s3Module().GetObjectCommand)({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  };
}
