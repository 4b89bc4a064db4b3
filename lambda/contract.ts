/**
 * The exec Lambda's public contract: its event, its result, its error names and its environment.
 * Shared by the handler, the CDK constructs, the CLI and the local runner.
 */

/** Error names the Lambda throws; Step Functions Retry/Catch match them exactly. */
export const ExecErrorName = {
  InvalidInput: 'InvalidInput',
  TargetNotFound: 'TargetNotFound',
  AgentNotReady: 'AgentNotReady',
  ExecuteCommandDenied: 'ExecuteCommandDenied',
  SessionFailed: 'SessionFailed',
  CommandTimedOut: 'CommandTimedOut',
  NonZeroExit: 'NonZeroExit',
  /** A detached job vanished: its task stopped, its container restarted, or its files are gone. */
  JobLost: 'JobLost',
} as const;
export type ExecErrorName = (typeof ExecErrorName)[keyof typeof ExecErrorName];
export const EXEC_ERROR_NAMES: readonly ExecErrorName[] = Object.values(ExecErrorName);

/** Errors worth retrying from a state machine (the exec agent may just be starting). */
export const RETRYABLE_ERROR_NAMES: readonly ExecErrorName[] = [ExecErrorName.AgentNotReady];

export interface ExecEvent {
  /** The command to run; through `sh -c` unless `shell` is false. */
  readonly command: string;
  /** Cluster name or ARN. @default env DEFAULT_CLUSTER */
  readonly cluster?: string;
  /** Task id or ARN (exactly one of task / service, or a default service from the environment). */
  readonly task?: string;
  /** Service name: a RUNNING task with a RUNNING exec agent is picked, healthy ones first. */
  readonly service?: string;
  /** Container name; required when the task has more than one application container. */
  readonly container?: string;
  /** @default true */
  readonly shell?: boolean;
  /** @default false */
  readonly tty?: boolean;
  readonly stdin?: string;
  /** @default 300, capped by the Lambda's remaining time */
  readonly timeoutSeconds?: number;
  /** @default 200000 */
  readonly outputLimitBytes?: number;
  /** @default true */
  readonly stripAnsi?: boolean;
  /** @default true */
  readonly failOnNonZeroExit?: boolean;
  /** Same key => the first result is returned instead of running the command again. */
  readonly idempotencyKey?: string;
  /** Step Functions `.waitForTaskToken`: report through SendTaskSuccess/SendTaskFailure. */
  readonly taskToken?: string;
  /** Step Functions execution name, for the logs (`$$.Execution.Name`). */
  readonly executionName?: string;
  /** Run as a detached job, polled by the run-one state machine (timeoutSeconds up to 604,800). */
  readonly detach?: boolean;
  /** Detached jobs: seconds between polls (2-300). @default adaptive, 5 s growing to 60 s */
  readonly pollIntervalSeconds?: number;
  /** Detached jobs: where the job directory is created. @default /tmp/ecs-exec-runner */
  readonly jobsDirectory?: string;
  /** Detached jobs: keep the job directory when the job ends. @default false */
  readonly keepJobFiles?: boolean;
}

export interface ExecResult {
  /** Exit status of the command; null in raw mode (`shell: false`). */
  readonly exitCode: number | null;
  readonly output: string;
  /** Bytes of output the command produced (after newline normalisation / ANSI stripping). */
  readonly outputBytes: number;
  readonly truncated: boolean;
  /** Where the full output went when it did not fit (only with an output bucket). */
  readonly outputS3Uri?: string;
  readonly cluster: string;
  readonly taskArn: string;
  readonly container: string;
  readonly sessionId: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Detached jobs only: the job's id (its directory in the container is named after it). */
  readonly jobId?: string;
}

/** Environment variables the Lambda reads (set by the CDK construct). */
export const ExecEnv = {
  DefaultCluster: 'DEFAULT_CLUSTER',
  DefaultService: 'DEFAULT_SERVICE',
  DefaultContainer: 'DEFAULT_CONTAINER',
  /** Comma-separated cluster names or ARNs the function may target; empty = any (IAM still applies). */
  AllowedClusters: 'ALLOWED_CLUSTERS',
  OutputBucket: 'OUTPUT_BUCKET',
  OutputPrefix: 'OUTPUT_PREFIX',
  IdempotencyTable: 'IDEMPOTENCY_TABLE',
} as const;

/** Step Functions' limit on a state's input/output, in bytes of UTF-8 JSON. */
export const STATE_PAYLOAD_LIMIT_BYTES = 262_144;
/** Step Functions' limit on a failure cause, in characters. */
export const FAILURE_CAUSE_LIMIT_CHARS = 32_768;
