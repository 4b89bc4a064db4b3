import type { Node } from 'constructs';
import { parseScheduleConfigs, type ScheduleConfig } from './schedules';

const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;

/** Context keys the demo app reads (`cdk synth -c key=value` or cdk.json "context"). */
export const DemoContext = {
  /** Comma-separated or JSON list of cluster ARNs: run against these instead of a demo cluster. */
  ExistingClusterArns: 'existingClusterArns',
  /** The existing clusters' ECS Exec KMS key ARN (key ARN, not alias). */
  ExecKmsKeyArn: 'execKmsKeyArn',
  /** Default service/container for events that name none (existing clusters only). */
  DefaultService: 'defaultService',
  DefaultContainer: 'defaultContainer',
  /** JSON array of schedules replacing `config/schedules.ts`. */
  Schedules: 'schedules',
  /** Comma-separated addresses subscribed to the failed-execution alerts. */
  AlertEmails: 'alertEmails',
} as const;

export interface DemoConfig {
  /** Empty: create the demo cluster. */
  readonly existingClusterArns: readonly string[];
  readonly execKmsKeyArn?: string;
  readonly defaultService?: string;
  readonly defaultContainer?: string;
  /** Undefined: use the schedules of `config/schedules.ts` that fit the mode. */
  readonly schedules?: readonly ScheduleConfig[];
  /** Addresses that get the failed-execution alerts. */
  readonly alertEmails?: readonly string[];
}

/** Reads and checks the demo context; a bad value fails synth with the key and the rule. */
export function demoConfigFromContext(node: Node): DemoConfig {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new Error(`context "${key}" must be a string`);
    return value.trim();
  };
  const existingClusterArns = clusterArnList(node.tryGetContext(DemoContext.ExistingClusterArns));
  const execKmsKeyArn = text(DemoContext.ExecKmsKeyArn);
  if (execKmsKeyArn !== undefined && !KMS_KEY_ARN.test(execKmsKeyArn)) {
    throw new Error(
      `context "${DemoContext.ExecKmsKeyArn}" must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got "${execKmsKeyArn}"`,
    );
  }
  if (execKmsKeyArn !== undefined && existingClusterArns.length === 0) {
    throw new Error(
      `context "${DemoContext.ExecKmsKeyArn}" only applies with "${DemoContext.ExistingClusterArns}"`,
    );
  }
  const defaultService = text(DemoContext.DefaultService);
  const defaultContainer = text(DemoContext.DefaultContainer);
  for (const [key, value] of [
    [DemoContext.DefaultService, defaultService],
    [DemoContext.DefaultContainer, defaultContainer],
  ] as const) {
    if (value !== undefined && !NAME.test(value))
      throw new Error(`context "${key}" must be a name of [A-Za-z0-9_-], got "${value}"`);
  }
  const rawSchedules: unknown = node.tryGetContext(DemoContext.Schedules);
  const alertEmails = (text(DemoContext.AlertEmails) ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
  const badEmails = alertEmails.filter((address) => !EMAIL.test(address));
  if (badEmails.length > 0) {
    throw new Error(`context "${DemoContext.AlertEmails}": not email addresses: ${badEmails.join(', ')}`);
  }
  return {
    existingClusterArns,
    ...(execKmsKeyArn !== undefined ? { execKmsKeyArn } : {}),
    ...(defaultService !== undefined ? { defaultService } : {}),
    ...(defaultContainer !== undefined ? { defaultContainer } : {}),
    ...(alertEmails.length > 0 ? { alertEmails } : {}),
    ...(rawSchedules !== undefined && rawSchedules !== null
      ? { schedules: parseScheduleConfigs(rawSchedules, `context "${DemoContext.Schedules}"`) }
      : {}),
  };
}

/** Accepts "arn1,arn2", '["arn1","arn2"]' or a JSON array from cdk.json. */
export function clusterArnList(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  let list: unknown = value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) {
      try {
        list = JSON.parse(trimmed);
      } catch {
        throw new Error(
          `context "${DemoContext.ExistingClusterArns}" looks like JSON but does not parse: ${trimmed}`,
        );
      }
    } else {
      list = trimmed
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
    }
  }
  if (!Array.isArray(list) || !list.every((item): item is string => typeof item === 'string')) {
    throw new Error(
      `context "${DemoContext.ExistingClusterArns}" must be a comma-separated list or a JSON array of cluster ARNs`,
    );
  }
  const bad = list.filter((arn) => !CLUSTER_ARN.test(arn));
  if (bad.length > 0) {
    throw new Error(
      `context "${DemoContext.ExistingClusterArns}": not cluster ARNs (arn:aws:ecs:<region>:<account>:cluster/<name>): ${bad.join(', ')}`,
    );
  }
  return [...new Set(list)];
}
