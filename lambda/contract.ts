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
  /** Text for the command's stdin (UTF-8), then EOF; sent on the data channel, never on the command line. At most 1 MiB. */
  readonly stdin?: string;
  /** Binary stdin as base64 (instead of `stdin`); at most 1 MiB decoded. */
  readonly stdinBase64?: string;
  /** Variables exported to the command (`docker exec -e`); sent like stdin, never logged. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Run as this user (`docker exec -u`); the container must run as root and have setpriv, runuser or su. */
  readonly user?: string;
  /** Run in this directory (`docker exec -w`). */
  readonly workingDirectory?: string;
  /** How output travels without tty: auto (zstd, xz, gzip, else plain) or one forced path. @default "auto" */
  readonly transfer?: 'auto' | 'zstd' | 'xz' | 'gzip' | 'plain';
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
  /** Set by the runner's schedules: the schedule that started the run (for the logs and alerts). */
  readonly scheduleName?: string;
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
  /** Hex SHA-256 of the full output (what S3 receives): the command's exact bytes unless transfer is plain. Set by every run (optional only for results stored by older versions). */
  readonly outputSha256?: string;
  /** How the output travelled: zstd, xz or gzip + base64 (exact bytes), or plain (pty text). */
  readonly transfer?: 'zstd' | 'xz' | 'gzip' | 'plain';
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
