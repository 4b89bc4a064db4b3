import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
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

export interface AwsClients {
  readonly ecs: ECSClient;
  readonly kms: KMSClient;
  readonly ssm: SSMClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly dynamodb: DynamoDBClient;
}

function handler(requestTimeout: number): NodeHttpHandler {
  return new NodeHttpHandler({ connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout });
}

export function createAwsClients(): AwsClients {
  const common = { maxAttempts: MAX_ATTEMPTS, requestHandler: handler(REQUEST_TIMEOUT_MS) };
  return {
    ecs: new ECSClient(common),
    kms: new KMSClient(common),
    ssm: new SSMClient(common),
    sfn: new SFNClient(common),
    dynamodb: new DynamoDBClient(common),
    s3: new S3Client({ maxAttempts: MAX_ATTEMPTS, requestHandler: handler(S3_REQUEST_TIMEOUT_MS) }),
  };
}
