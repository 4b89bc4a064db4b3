/**
 * The state of a detached job as it travels between Step Functions states: small and of constant
 * size (counters and offsets, never output), so a job polled a million times stays far below the
 * 256 KiB payload limit.
 */

export const JOB_STATE_VERSION = 1;
/** Adaptive polling: the first wait, the growth per poll and the longest wait, in seconds. */
export const ADAPTIVE_FIRST_WAIT_SECONDS = 5;
export const ADAPTIVE_GROWTH = 1.5;
export const ADAPTIVE_MAX_WAIT_SECONDS = 60;
/**
 * Poll loops per execution before the state machine continues in a child execution. One loop is
 * about 9 history events (Wait, Task, Choice), retries add a few: 1,000 loops stay well below the
 * 25,000-event history limit of a standard execution.
 */
export const POLLS_PER_EXECUTION = 1_000;

export type StopReason = 'timeout' | 'cancel';

export interface JobTarget {
  readonly cluster: string;
  readonly clusterArn: string;
  readonly taskArn: string;
  readonly container: string;
  /** The ECS service that started the task, if one did (the metrics' EcsService dimension). */
  readonly service?: string;
}

export interface JobOutputSettings {
  readonly bucket: string;
  /** Chunks are `<keyPrefix>chunks/<offset>`; the full output is `<keyPrefix>output`. */
  readonly keyPrefix: string;
  readonly limitBytes: number;
  readonly stripAnsi: boolean;
}

export interface JobState {
  readonly version: typeof JOB_STATE_VERSION;
  readonly jobId: string;
  readonly directory: string;
  readonly target: JobTarget;
  /** The exec session that started the job. */
  readonly sessionId: string;
  readonly startedAt: string;
  readonly deadlineMs: number;
  /** Fixed wait between polls; null = adaptive. */
  readonly pollIntervalSeconds: number | null;
  /** The Wait state's next wait. */
  readonly waitSeconds: number;
  /** Bytes of output collected (and stored in S3) so far. */
  readonly offset: number;
  readonly polls: number;
  readonly pollsThisExecution: number;
  /** Child executions so far (continue-as-new). */
  readonly generation: number;
  /** The execution that polls the job now; a new one (a child, a cancel) starts its own count. */
  readonly executionName?: string;
  /** Polls in a row that could not reach the job (agent not ready, dropped session). */
  readonly failedPolls: number;
  readonly output: JobOutputSettings;
  readonly failOnNonZeroExit: boolean;
  readonly keepFiles: boolean;
  readonly stopGraceSeconds: number;
  readonly stop?: { readonly reason: StopReason; readonly atMs: number };
  /** More output is waiting: poll again without waiting. */
  readonly drain: boolean;
}

/** What the Poll step hands back to the state machine. */
export type PollOutcome<Result> =
  | { readonly done: false; readonly job: JobState }
  | {
      readonly done: true;
      readonly result: Result;
      /** A retried final poll answering from the saved ending (the job's end was already reported). */
      readonly replayed?: boolean;
    };

/** The wait after `current`: the fixed interval, or 5 s growing ×1.5 up to 60 s; never past the deadline by much. */
export function nextWaitSeconds(job: JobState, nowMs: number): number {
  const grown =
    job.pollIntervalSeconds ??
    Math.min(ADAPTIVE_MAX_WAIT_SECONDS, Math.round(Math.max(1, job.waitSeconds) * ADAPTIVE_GROWTH));
  if (job.stop !== undefined) return Math.min(grown, ADAPTIVE_FIRST_WAIT_SECONDS);
  const untilDeadline = Math.ceil((job.deadlineMs - nowMs) / 1000);
  return Math.max(1, Math.min(grown, untilDeadline));
}

export function firstWaitSeconds(pollIntervalSeconds: number | null): number {
  return pollIntervalSeconds ?? ADAPTIVE_FIRST_WAIT_SECONDS;
}

/** The job as seen from `executionName`: in another execution (a child, a cancel) the per-execution count starts again. */
export function inExecution(job: JobState, executionName: string | undefined): JobState {
  if (executionName === undefined || executionName === job.executionName) return job;
  return { ...job, executionName, pollsThisExecution: 0, generation: job.generation + 1 };
}

/** Checks a state handed back by the state machine (or a cancel request): a clear error on anything else. */
export function isJobState(value: unknown): value is JobState {
  if (value === null || typeof value !== 'object') return false;
  const job = value as Partial<JobState>;
  return (
    job.version === JOB_STATE_VERSION &&
    typeof job.jobId === 'string' &&
    typeof job.directory === 'string' &&
    typeof job.offset === 'number' &&
    typeof job.deadlineMs === 'number' &&
    typeof job.target === 'object' &&
    job.target !== null &&
    typeof job.output === 'object' &&
    job.output !== null
  );
}
