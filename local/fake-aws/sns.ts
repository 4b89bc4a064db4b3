/**
 * SNS for the fake endpoint: Publish (what the alerts function calls), over the query protocol,
 * with SNS's own checks on the topic, the subject and the message. Published messages are in the
 * endpoint's recorded calls (`service: 'sns', operation: 'Publish'`).
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError } from './errors';
import type { QueryService } from './query';

export const SNS_API_VERSION = '2010-03-31';
const SNS_XML_NAMESPACE = `http://sns.amazonaws.com/doc/${SNS_API_VERSION}/`;
/** SNS's limits on Publish. */
export const SNS_MAX_SUBJECT_CHARS = 100;
export const SNS_MAX_MESSAGE_BYTES = 262_144;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
/** ASCII, starting with a letter, digit or punctuation, no line breaks. */
const SUBJECT = /^[\x21-\x7e][\x20-\x7e]*$/;

function invalidParameter(message: string): AwsServiceError {
  return new AwsServiceError('InvalidParameter', `Invalid parameter: ${message}`);
}

function publish(params: URLSearchParams): string {
  const topicArn = params.get('TopicArn') ?? params.get('TargetArn') ?? '';
  if (!TOPIC_ARN.test(topicArn)) throw invalidParameter('TopicArn');
  const message = params.get('Message');
  if (message === null || message === '') {
    throw new AwsServiceError('ValidationError', '1 validation error detected: Value null at message');
  }
  if (Buffer.byteLength(message, 'utf8') > SNS_MAX_MESSAGE_BYTES) {
    throw invalidParameter('Message too long');
  }
  const subject = params.get('Subject');
  if (subject !== null && (subject.length > SNS_MAX_SUBJECT_CHARS || !SUBJECT.test(subject))) {
    throw invalidParameter('Subject');
  }
  return `<MessageId>${randomUUID()}</MessageId>`;
}

/** SNS on the endpoint's query protocol (query.ts); published messages are in the recorded calls. */
export const SNS_SERVICE: QueryService = {
  service: 'sns',
  version: SNS_API_VERSION,
  namespace: SNS_XML_NAMESPACE,
  operations: { Publish: async (_ctx, params) => publish(params) },
};
