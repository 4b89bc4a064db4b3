/**
 * Between the EventBridge rule (failed, timed-out or aborted executions of the runner's state
 * machines) and the alerts topic: formats the event (format.ts) and publishes it to SNS.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type ExecutionStatusChangeEvent, formatAlert } from './format';

/** Environment of the alerts function. */
export const AlertsEnv = { TopicArn: 'ALERTS_TOPIC_ARN' } as const;

let sns: SNSClient | undefined;

export async function handler(event: ExecutionStatusChangeEvent): Promise<{ messageId?: string }> {
  const topicArn = process.env[AlertsEnv.TopicArn];
  if (!topicArn) throw new Error(`${AlertsEnv.TopicArn} is not set`);
  sns ??= new SNSClient({});
  const { subject, message } = formatAlert(event);
  const published = await sns.send(
    new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }),
  );
  return published.MessageId !== undefined ? { messageId: published.MessageId } : {};
}
