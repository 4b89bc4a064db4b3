import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Token } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { clusterName, type EventDefaults } from '../lambda/event';
import { FAN_OUT_MAX_CONCURRENCY_LIMIT } from '../lambda/fan-out/fan-out-input';
import type { RunnerAlertsProps } from './alerts';
import type { RunnerMonitoringProps } from './monitoring';
import { type ScheduleConfig, scheduleProblems } from './schedules';

/**
 * The fan-out's default concurrency: 10 tasks at once is a start burst of about 30 ECS API calls
 * (ExecuteCommand, DescribeTasks, DescribeClusters per task), within the burst ECS's throttling
 * documentation uses as its example bucket (50 for cluster reads), then at most about 10
 * ExecuteCommand calls per second (every session lasts at least the agent's 1 s before its first
 * output), leaving room for the account's other ECS callers.
 * ECS's per-action ExecuteCommand bucket is not stated here because it was not verified: raise it
 * per run with `maxConcurrency` when the account allows (the Lambda retries throttling).
 */
export const DEFAULT_FAN_OUT_MAX_CONCURRENCY = 10;

export interface EcsExecRunnerProps {
  /**
   * Existing clusters the runner may exec into (its IAM reaches these clusters' tasks only).
   * The first one is the default cluster of events that name none.
   */
  readonly clusters: readonly ecs.ICluster[];
  /**
   * The KMS key of the clusters' `executeCommandConfiguration`. The exec Lambda may call
   * `kms:GenerateDataKey` on it (the session handshake) and nothing else.
   * @default - no key: sessions are not KMS-encrypted and the Lambda gets no KMS permission
   */
  readonly execKmsKey?: kms.IKey;
  /**
   * Service used when an event names neither `task` nor `service`.
   * @default - none: every event names its task or service
   */
  readonly defaultService?: string;
  /**
   * Container used when an event names none.
   * @default - none: the Lambda picks the task's only application container
   */
  readonly defaultContainer?: string;
  /**
   * The exec Lambda's timeout (at most 15 minutes); the Lambda caps each command by its remaining time.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * Key prefix in the output bucket for full outputs, fan-out task lists and fan-out results;
   * the functions may write only under it. Ends with "/".
   * @default 'exec-output/'
   */
  readonly outputPrefix?: string;
  /**
   * How long objects in the output bucket live.
   * @default Duration.days(30)
   */
  readonly outputExpiration?: Duration;
  /**
   * Bucket that receives the output bucket's server access logs.
   * @default - no server access logs (CloudTrail data events can audit the bucket instead)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * How many tasks the fan-out runs the command on at the same time, unless the input gives
   * `maxConcurrency`.
   *
   * Each task gets its own session, so per-container session limits do not bound this (and the
   * one that exists is not a settled number: ECS's service quotas list 1,000 ECS Exec sessions per
   * container, community tools report 2, the docs say one per PID namespace with
   * `pidMode: task`; a refusal fails that task with `AgentNotReady` saying so). What bounds it is
   * the ECS API: ECS throttles each account and Region with token buckets shared by every caller
   * (deployments, the console, other tools), and every task costs an `ecs:ExecuteCommand` plus a
   * `DescribeTasks` (and `DescribeClusters`) within its first second, so N tasks at once start
   * with a burst of about 3N ECS calls and go on at N sessions per session length. The Lambda
   * retries `ThrottlingException` with back-off, but a burst that the account's other callers also
   * feel is the thing to avoid; see {@link DEFAULT_FAN_OUT_MAX_CONCURRENCY}.
   * @default DEFAULT_FAN_OUT_MAX_CONCURRENCY (10)
   */
  readonly fanOutMaxConcurrency?: number;
  /**
   * Time limit of one "run one command" execution (retries included). Detached jobs run up to
   * 7 days, and the execution that started one waits for its result.
   * @default Duration.days(8)
   */
  readonly runCommandTimeout?: Duration;
  /**
   * Time limit of one fan-out execution.
   * @default Duration.hours(24)
   */
  readonly fanOutTimeout?: Duration;
  /**
   * EventBridge Scheduler schedules that start the state machines.
   * @default - no schedules
   */
  readonly schedules?: readonly ScheduleConfig[];
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the output bucket, the idempotency table and the log groups when the
   * runner is removed.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Name of the fan-out state machine. It is fixed at synth so that the state machine's own
   * role can be limited to its own map runs.
   * @default - derived from the construct path
   */
  readonly fanOutStateMachineName?: string;
  /**
   * An SNS message for every execution of the state machines that ends FAILED, TIMED_OUT or
   * ABORTED (error, target, command, exit code, end of the output, console link). false: none.
   * @default - a new topic (AWS managed SNS key, TLS only) with no subscriptions; see `alertsTopic`
   */
  readonly alerts?: RunnerAlertsProps | false;
  /**
   * CloudWatch alarms (failed / timed-out / aborted executions of each state machine, function
   * errors; they notify the alerts topic) and a dashboard. false: neither.
   * @default - alarms and a dashboard
   */
  readonly monitoring?: RunnerMonitoringProps | false;
  /**
   * The exec Lambda's run metrics (CloudWatch EMF in its logs, namespace `EcsExecRunner`: Runs,
   * Failures, NonZeroExitCodes, DurationMs, OutputBytes, SessionStartMs, Reconnects,
   * ExecuteCommandRetries by Cluster and EcsService). false: not emitted.
   * @default true
   */
  readonly metrics?: boolean;
}

export const DEFAULT_OUTPUT_PREFIX = 'exec-output/';
const OUTPUT_PREFIX_PATTERN = /^[A-Za-z0-9!_.'()-]+(\/[A-Za-z0-9!_.'()-]+)*\/$/;
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
const STATE_MACHINE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * Fails synth with every problem of the props and the schedules at once, naming the construct
 * (before any resource exists).
 */
export function validateRunnerProps(scope: Construct, props: EcsExecRunnerProps): void {
  validateProps(scope, props);
  validateSchedules(scope, props.schedules ?? [], eventDefaultsAtSynth(props));
}

/** The Lambda's defaults as far as they are known at synth (tokens become placeholders). */
function eventDefaultsAtSynth(props: EcsExecRunnerProps): EventDefaults {
  const names = props.clusters.map((c) => c.clusterName);
  const first = names[0] as string;
  const known = (value: string | undefined): value is string =>
    value !== undefined && !Token.isUnresolved(value);
  // A name only known at deploy time still counts as "configured"; any valid name stands in for it.
  const orPlaceholder = (value: string | undefined, placeholder: string): string | undefined =>
    value === undefined ? undefined : known(value) ? value : placeholder;
  const service = orPlaceholder(props.defaultService, 'default-service');
  const container = orPlaceholder(props.defaultContainer, 'default-container');
  return {
    cluster: known(first) ? first : 'default-cluster',
    ...(service !== undefined ? { service } : {}),
    ...(container !== undefined ? { container } : {}),
    allowedClusters: names.every(known) ? names.map(clusterName) : [],
  };
}

function validateProps(scope: Construct, props: EcsExecRunnerProps): void {
  const problems: string[] = [];
  if (props.clusters.length === 0) problems.push('clusters: give at least one cluster');
  const arns = props.clusters.map((c) => c.clusterArn).filter((arn) => !Token.isUnresolved(arn));
  const duplicate = arns.find((arn, i) => arns.indexOf(arn) !== i);
  if (duplicate) problems.push(`clusters: ${duplicate} is listed twice`);
  const timeout = props.timeout;
  if (timeout && (timeout.toSeconds() < 30 || timeout.toSeconds() > 900)) {
    problems.push(`timeout: must be from 30 seconds to 15 minutes, got ${timeout.toHumanString()}`);
  }
  const memory = props.memorySize;
  if (memory !== undefined && (!Number.isInteger(memory) || memory < 128 || memory > 10_240)) {
    problems.push(`memorySize: must be a whole number of MB from 128 to 10240, got ${memory}`);
  }
  const prefix = props.outputPrefix;
  if (prefix !== undefined && (Token.isUnresolved(prefix) || !OUTPUT_PREFIX_PATTERN.test(prefix))) {
    problems.push(
      `outputPrefix: must be a literal key prefix like "exec-output/" (segments of [A-Za-z0-9!_.'()-], ending in "/"), got "${prefix}"`,
    );
  }
  const expiration = props.outputExpiration;
  if (
    expiration &&
    (expiration.toDays({ integral: false }) < 1 || !Number.isInteger(expiration.toDays({ integral: false })))
  ) {
    problems.push(
      `outputExpiration: must be a whole number of days (at least 1), got ${expiration.toHumanString()}`,
    );
  }
  const concurrency = props.fanOutMaxConcurrency;
  if (
    concurrency !== undefined &&
    (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > FAN_OUT_MAX_CONCURRENCY_LIMIT)
  ) {
    problems.push(
      `fanOutMaxConcurrency: must be a whole number from 1 to ${FAN_OUT_MAX_CONCURRENCY_LIMIT}, got ${concurrency}`,
    );
  }
  for (const [field, value] of [
    ['defaultService', props.defaultService],
    ['defaultContainer', props.defaultContainer],
  ] as const) {
    if (value !== undefined && !Token.isUnresolved(value) && !NAME_PATTERN.test(value)) {
      problems.push(`${field}: must be a name of [A-Za-z0-9_-] (1-255), got "${value}"`);
    }
  }
  const fanOutName = props.fanOutStateMachineName;
  if (fanOutName !== undefined && !STATE_MACHINE_NAME_PATTERN.test(fanOutName)) {
    problems.push(`fanOutStateMachineName: must be 1-80 of [A-Za-z0-9_-], got "${fanOutName}"`);
  }
  for (const field of ['runCommandTimeout', 'fanOutTimeout'] as const) {
    const value = props[field];
    if (value && (value.toSeconds() < 60 || value.toSeconds() > 365 * 24 * 3600)) {
      problems.push(`${field}: must be from 1 minute to 1 year, got ${value.toHumanString()}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`EcsExecRunner ${scope.node.path}: invalid props:\n  - ${problems.join('\n  - ')}`);
  }
}

function validateSchedules(
  scope: Construct,
  schedules: readonly ScheduleConfig[],
  defaults: EventDefaults,
): void {
  const problems = scheduleProblems(schedules, defaults);
  const ids = schedules.map((s) => scheduleConstructId(s.name));
  schedules.forEach((s, i) => {
    if (ids.indexOf(ids[i] as string) !== i) {
      problems.push(
        `schedule "${s.name}": too similar to another name (both become construct id Schedule${ids[i]})`,
      );
    }
  });
  if (problems.length > 0) {
    throw new Error(`EcsExecRunner ${scope.node.path}: invalid schedules:\n  - ${problems.join('\n  - ')}`);
  }
}

/** "nightly-disk.check" → "NightlyDiskCheck" (construct ids stay stable per schedule name). */
export function scheduleConstructId(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
