/**
 * The steps of a detached job — start, poll, stop — with no AWS in sight: the ports run a script in
 * the job's container, check the task, and store chunks of output. Each step is one Lambda
 * invocation driven by the state machine (lib/detached-workflow.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import { AgentNotReady, ExecError, JobLost, SessionFailed, TargetNotFound } from '../errors';
import type { ExecRequest } from '../event';
import type { SessionLogger } from '../ssm/types';
import {
  firstWaitSeconds,
  JOB_STATE_VERSION,
  type JobState,
  type JobTarget,
  nextWaitSeconds,
  type PollOutcome,
  type StopReason,
} from './job-state';
import { DetachReportError, parsePollReport, parseStartReport, parseStopReport } from './poll-parse';
import {
  buildCleanupScript,
  buildPollScript,
  buildStartScript,
  buildStopScript,
  DEFAULT_STOP_GRACE_SECONDS,
  jobDirectory,
} from './scripts';

/**
 * Bytes one poll reads at most. Fewer, larger polls drain a backlog faster (each session has a fixed
 * cost); 32 MiB keeps an incompressible chunk near a minute at the real agent's pace.
 */
export const DEFAULT_POLL_CHUNK_BYTES = 32 * 1024 * 1024;
/** Polls in a row that may fail to reach the job before the failure is reported. */
export const MAX_FAILED_POLLS = 10;

export interface ScriptRun {
  /** The script's whole output (CRLF already LF). */
  readonly output: string;
  readonly sessionId: string;
}

/** What the start hands the ordinary exec path besides the script: the event's own settings. */
export interface ScriptInput {
  /** Delivered as the event's stdin is (on the data channel); the start script copies it for the job. */
  readonly stdin?: Buffer;
  /** Exported to the start script, hence inherited by the job; likewise the user and directory. */
  readonly environment?: Readonly<Record<string, string>>;
  readonly user?: string;
  readonly workingDirectory?: string;
}

export interface JobPorts {
  /** Runs `script` through `sh -c` in the job's container, the way an attached command runs. */
  runScript(script: string, input?: ScriptInput): Promise<ScriptRun>;
  /** Throws TargetNotFound when the task is no longer RUNNING (or gone). */
  checkTarget(): Promise<void>;
  /** Stores the bytes read at `offset` (same offset = same bytes: a retried poll overwrites). */
  putChunk(offset: number, bytes: Buffer): Promise<void>;
  /** Records how the job ended before its directory is removed, so a retried final poll can answer again. */
  saveEnding(ending: SavedEnding): Promise<void>;
  loadEnding(): Promise<SavedEnding | undefined>;
  /** Joins the chunks into the full output; returns its URI, with its first and last bytes. */
  finishOutput(totalBytes: number, headBytes: number, tailBytes: number): Promise<FinishedOutput>;
  readonly logger: SessionLogger;
  now(): number;
}

export interface FinishedOutput {
  readonly uri: string;
  readonly head: Buffer;
  readonly tail: Buffer;
}

export interface SavedEnding {
  readonly ending: JobEnding;
  /** Every byte of output there is. */
  readonly offset: number;
}

/** How a job ended, for the result builder (job-result.ts). */
export type JobEnding =
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'stopped'; readonly reason: StopReason }
  | { readonly kind: 'lost'; readonly why: string };

export interface StartSettings {
  readonly request: ExecRequest;
  readonly target: JobTarget;
  readonly jobsDirectory: string;
  readonly pollIntervalSeconds: number | null;
  readonly outputBucket: string;
  readonly outputPrefix: string;
  readonly keepFiles: boolean;
  /** `$$.Execution.Name`: a retried start of the same execution finds its own job. */
  readonly executionName?: string;
}

/**
 * The job id: from the idempotency key, else from the execution name, else random. The same id
 * means the same directory, which a retried start finds instead of starting again (with a key, the
 * start record sends the retry to the first start's task: start-record.ts).
 */
export function jobIdFor(settings: Pick<StartSettings, 'request' | 'executionName'>): string {
  const { request, executionName } = settings;
  const seed =
    request.idempotencyKey !== undefined
      ? `key:${request.idempotencyKey}`
      : executionName !== undefined
        ? `execution:${executionName}`
        : `random:${randomUUID()}`;
  return `job-${createHash('sha256').update(seed).digest('hex').slice(0, 32)}`;
}

export async function startJob(settings: StartSettings, ports: JobPorts): Promise<JobState> {
  const { request, target } = settings;
  const jobId = jobIdFor(settings);
  const directory = jobDirectory(settings.jobsDirectory, jobId);
  const startedMs = ports.now();
  const script = buildStartScript({ jobsDirectory: settings.jobsDirectory, jobId, command: request.command });
  const run = await ports.runScript(script, {
    ...(request.stdinBytes !== undefined ? { stdin: request.stdinBytes } : {}),
    ...(request.environment !== undefined ? { environment: request.environment } : {}),
    ...(request.user !== undefined ? { user: request.user } : {}),
    ...(request.workingDirectory !== undefined ? { workingDirectory: request.workingDirectory } : {}),
  });
  const report = parseStartReportOrFail(run.output);
  if (report.kind === 'error') {
    throw new SessionFailed(
      JSON.stringify({ message: startErrorMessage(report.error, report.directory ?? directory), jobId }),
    );
  }
  ports.logger.info('detached job running', { jobId, existing: report.existing, mode: report.mode });
  const day = new Date(startedMs).toISOString().slice(0, 10);
  const taskId = target.taskArn.split('/').pop() ?? 'task';
  return {
    version: JOB_STATE_VERSION,
    jobId,
    directory,
    target,
    sessionId: run.sessionId,
    startedAt: new Date(startedMs).toISOString(),
    deadlineMs: startedMs + request.timeoutSeconds * 1000,
    pollIntervalSeconds: settings.pollIntervalSeconds,
    waitSeconds: firstWaitSeconds(settings.pollIntervalSeconds),
    offset: 0,
    polls: 0,
    pollsThisExecution: 0,
    generation: 0,
    failedPolls: 0,
    output: {
      bucket: settings.outputBucket,
      keyPrefix: `${settings.outputPrefix}${day}/${target.cluster}/${taskId}/${jobId}/`,
      limitBytes: request.outputLimitBytes,
      stripAnsi: request.stripAnsi,
    },
    failOnNonZeroExit: request.failOnNonZeroExit,
    keepFiles: settings.keepFiles,
    stopGraceSeconds: DEFAULT_STOP_GRACE_SECONDS,
    drain: false,
  };
}

function parseStartReportOrFail(output: string): ReturnType<typeof parseStartReport> {
  try {
    return parseStartReport(output);
  } catch (err) {
    throw new SessionFailed(
      JSON.stringify({ message: `the job start reported nothing usable: ${String(err)}` }),
    );
  }
}

function startErrorMessage(error: string, directory: string): string {
  switch (error) {
    case 'not-writable':
      return `the job directory ${directory} cannot be created or written (a read-only root filesystem?); set "jobsDirectory" to a writable directory`;
    case 'no-launcher':
      return 'the container has neither setsid nor nohup, so a job cannot outlive its exec session';
    case 'no-proof':
      return `the job in ${directory} did not record its start within 30 s`;
    default:
      return `the job could not start: ${error}`;
  }
}

/**
 * One look at the job: stop it first if its time is up, read the next chunk, store it, and either
 * hand back the next state or, when every byte is in and the job has ended, the ending.
 */
export async function pollJob(
  job: JobState,
  ports: JobPorts,
  chunkBytes = DEFAULT_POLL_CHUNK_BYTES,
): Promise<PollOutcome<JobEnding> & { readonly job: JobState }> {
  let current: JobState = { ...job, polls: job.polls + 1, pollsThisExecution: job.pollsThisExecution + 1 };
  try {
    await ports.checkTarget();
  } catch (err) {
    if (err instanceof TargetNotFound) {
      throw new JobLost(lostMessage(current, `the task is no longer running (${err.message})`));
    }
    return tolerate(current, err, ports);
  }
  if (current.stop === undefined && ports.now() >= current.deadlineMs) {
    current = await stopJob(current, 'timeout', ports);
  }
  let report: Awaited<ReturnType<typeof parsePollReport>>;
  try {
    const run = await ports.runScript(
      buildPollScript({ directory: current.directory, offset: current.offset, maxBytes: chunkBytes }),
    );
    report = await parsePollReport(run.output);
  } catch (err) {
    return tolerate(current, err, ports);
  }
  if (report.kind === 'gone') {
    // A retry of the poll that saw the end (its answer was lost after the clean-up) answers again.
    const saved = await ports.loadEnding();
    if (saved !== undefined)
      return { done: true, result: saved.ending, job: { ...current, offset: saved.offset }, replayed: true };
    throw new JobLost(
      lostMessage(
        current,
        `its directory ${current.directory} is gone (the container restarted or the files were removed)`,
      ),
    );
  }
  if (report.kind === 'no-encoder') {
    throw new SessionFailed(
      JSON.stringify({
        message: 'the container has neither base64 nor od, so output cannot be read safely',
        jobId: job.jobId,
      }),
    );
  }
  if (report.chunk.length > 0) await ports.putChunk(current.offset, report.chunk);
  const offset = current.offset + report.chunk.length;
  const ended = report.exitCode !== null || !report.alive;
  const drain = offset < report.size;
  current = { ...current, offset, failedPolls: 0, drain };
  if (!ended || drain) {
    return { done: false, job: { ...current, waitSeconds: nextWaitSeconds(current, ports.now()) } };
  }
  const stop =
    current.stop ?? (report.stopRequested ? { reason: 'cancel' as const, atMs: ports.now() } : undefined);
  const ending: JobEnding =
    stop !== undefined
      ? { kind: 'stopped', reason: stop.reason }
      : report.exitCode !== null
        ? { kind: 'exited', exitCode: report.exitCode }
        : {
            kind: 'lost',
            why: 'its process is gone and it left no exit status (killed, out of memory, or the container restarted)',
          };
  return { done: true, result: ending, job: current };
}

/** TERM to the job's process group, KILL after the grace; the polls that follow collect the rest. */
export async function stopJob(job: JobState, reason: StopReason, ports: JobPorts): Promise<JobState> {
  const run = await ports.runScript(
    buildStopScript({ directory: job.directory, graceSeconds: job.stopGraceSeconds }),
  );
  const report = parseStopReport(run.output);
  ports.logger.info('detached job stopped', {
    jobId: job.jobId,
    reason,
    killed: report.killed,
    gone: report.gone,
  });
  return { ...job, stop: { reason, atMs: ports.now() }, drain: true, waitSeconds: 1 };
}

/** Removes the job directory unless asked to keep it; a failure here never fails the job. */
export async function cleanUpJob(job: JobState, ports: JobPorts): Promise<void> {
  if (job.keepFiles) return;
  try {
    await ports.runScript(buildCleanupScript(job.directory));
  } catch (err) {
    ports.logger.warn('could not remove the job directory', {
      jobId: job.jobId,
      reason: err instanceof Error ? err.message : String(err),
    });
  }
}

/** A poll that could not reach the job: try again next tick, up to MAX_FAILED_POLLS in a row. */
function tolerate(
  job: JobState,
  err: unknown,
  ports: JobPorts,
): { readonly done: false; readonly job: JobState } {
  const tolerable =
    err instanceof AgentNotReady || err instanceof SessionFailed || err instanceof DetachReportError;
  const failedPolls = job.failedPolls + 1;
  if (!tolerable || failedPolls > MAX_FAILED_POLLS) {
    if (err instanceof ExecError) throw err;
    throw new SessionFailed(
      JSON.stringify({
        message: `the job could not be polled: ${err instanceof Error ? err.message : String(err)}`,
        jobId: job.jobId,
      }),
      {},
      { cause: err },
    );
  }
  ports.logger.warn('poll could not reach the job; trying again on the next tick', {
    jobId: job.jobId,
    failedPolls,
    reason: err instanceof Error ? `${err.name}: ${err.message.slice(0, 300)}` : String(err),
  });
  return {
    done: false,
    job: { ...job, failedPolls, drain: false, waitSeconds: nextWaitSeconds(job, ports.now()) },
  };
}

function lostMessage(job: JobState, why: string): string {
  return JSON.stringify({
    message: `detached job ${job.jobId} was lost: ${why}`,
    jobId: job.jobId,
    ...job.target,
    outputBytesCollected: job.offset,
  });
}
