/**
 * Between the EventBridge rule (failed, timed-out or aborted executions of the runner's state
 * machines) and the alerts topic: formats the event (format.ts) and publishes it to SNS.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CONNECTION_TIMEOUT_MS, MAX_ATTEMPTS, REQUEST_TIMEOUT_MS } from '../aws/clients';
import { AlertsEnv } from './alerts-env';
import { type ExecutionStatusChangeEvent, formatAlert } from './format';

export { AlertsEnv } from './alerts-env';

let sns: SNSClient | undefined;

export async function handler(event: ExecutionStatusChangeEvent): Promise<{ messageId?: string }> {
  const topicArn = process.env[AlertsEnv.TopicArn];
  if (!topicArn) throw new Error(`${AlertsEnv.TopicArn} is not set`);
  // The same short timeouts and retries as the exec Lambda's clients (lambda/aws/clients.ts).
  sns ??= new SNSClient({
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
    }),
  });
  const { subject, message } = formatAlert(event);
  const published = await sns.send(
    new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }),
  );
  return published.MessageId !== undefined ? { messageId: published.MessageId } : {};
}
