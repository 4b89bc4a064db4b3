/**
 * The doctor's SDK clients. Every one but ECS is loaded on first use: in the Lambda they cost
 * nothing on a normal run, and a doctor run that stops early never loads the rest. Timeouts are
 * explicit (see lambda/aws/clients.ts); throttling and 5xx go through the SDK's standard retry
 * strategy, with a few more attempts than the exec path since a doctor run makes many small calls.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { STSClient } from '@aws-sdk/client-sts';
import { handler, type Lazy, once, REQUEST_TIMEOUT_MS } from '../aws/clients';

export const DOCTOR_MAX_ATTEMPTS = 5;

export interface DoctorClients {
  readonly ecs: ECSClient;
  readonly sts: Lazy<STSClient>;
  readonly iam: Lazy<IAMClient>;
  readonly ec2: Lazy<EC2Client>;
  readonly kms: Lazy<KMSClient>;
  readonly logs: Lazy<CloudWatchLogsClient>;
  readonly s3: Lazy<S3Client>;
  /** Closes the sockets of every client created so far. */
  destroy(): Promise<void>;
}

export interface DoctorClientOptions {
  readonly region?: string;
  /** Reuse an ECS client (the Lambda's own). */
  readonly ecs?: ECSClient;
}

export function createDoctorClients(options: DoctorClientOptions = {}): DoctorClients {
  const common = () => ({
    ...(options.region !== undefined ? { region: options.region } : {}),
    maxAttempts: DOCTOR_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: handler(REQUEST_TIMEOUT_MS),
  });
  const created: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(client: T): T => {
    created.push(client);
    return client;
  };
  const ecs = options.ecs ?? track(new ECSClient(common()));
  return {
    ecs,
    sts: once(async () => track(new (await import('@aws-sdk/client-sts')).STSClient(common()))),
    iam: once(async () => track(new (await import('@aws-sdk/client-iam')).IAMClient(common()))),
    ec2: once(async () => track(new (await import('@aws-sdk/client-ec2')).EC2Client(common()))),
    kms: once(async () => track(new (await import('@aws-sdk/client-kms')).KMSClient(common()))),
    logs: once(async () =>
      track(new (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient(common())),
    ),
    s3: once(async () => track(new (await import('@aws-sdk/client-s3')).S3Client(common()))),
    destroy: async () => {
      for (const client of created) client.destroy();
    },
  };
}
