import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * SDK clients configured on purpose. The defaults (no request timeout, retries on read timeouts)
 * can turn one slow ExecuteCommand into two sessions; every call here is short, so a short
 * timeout and a small, explicit retry count are safe. Endpoints and region come only from the
 * SDK's standard settings (AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).
 */
export const CONNECTION_TIMEOUT_MS = 3_000;
export const REQUEST_TIMEOUT_MS = 10_000;
/** S3 part uploads move up to 5 MiB each and need longer. */
export const S3_REQUEST_TIMEOUT_MS = 60_000;
export const MAX_ATTEMPTS = 3;

export type Lazy<T> = () => Promise<T>;

/**
 * ECS is needed by every invocation; the others only by some (KMS clusters, large output,
 * callbacks, idempotency, resumes), so their modules load on first use and stay off the cold start.
 */
export interface AwsClients {
  readonly ecs: ECSClient;
  readonly kms: Lazy<KMSClient>;
  readonly ssm: Lazy<SSMClient>;
  readonly s3: Lazy<S3Client>;
  readonly sfn: Lazy<SFNClient>;
  readonly dynamodb: Lazy<DynamoDBClient>;
}

export function handler(requestTimeout: number): NodeHttpHandler {
  return new NodeHttpHandler({ connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout });
}

export function once<T>(create: () => Promise<T>): Lazy<T> {
  let instance: Promise<T> | undefined;
  return () => {
    instance ??= create();
    return instance;
  };
}

/** `region` overrides the SDK's own region setting (the CLI's --region). */
export function createAwsClients(options: { readonly region?: string } = {}): AwsClients {
  const region = options.region !== undefined ? { region: options.region } : {};
  const common = () => ({
    ...region,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: handler(REQUEST_TIMEOUT_MS),
  });
  return {
    ecs: new ECSClient(common()),
    kms: once(async () => new (await import('@aws-sdk/client-kms')).KMSClient(common())),
    ssm: once(async () => new (await import('@aws-sdk/client-ssm')).SSMClient(common())),
    sfn: once(async () => new (await import('@aws-sdk/client-sfn')).SFNClient(common())),
    dynamodb: once(async () => new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient(common())),
    s3: once(
      async () =>
        new (await import('@aws-sdk/client-s3')).S3Client({
          ...region,
          maxAttempts: MAX_ATTEMPTS,
          requestHandler: handler(S3_REQUEST_TIMEOUT_MS),
        }),
    ),
  };
}
