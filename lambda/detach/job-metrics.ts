/**
 * A detached job's run metrics: the same EMF record an attached run emits (lambda/metrics.ts),
 * with the same dimensions (cluster, ECS service), written once when the job ends — by the poll
 * that finds the ending, not by every poll, and not again by a retried final poll that replays
 * a saved ending.
 */
import { RETRYABLE_ERROR_NAMES } from '../contract';
import type { RunObservation, RunOutcome } from '../metrics';
import type { JobEnding } from './job';
import type { JobState } from './job-state';

export type PublishMetrics = (observation: RunObservation, outcome: RunOutcome) => void;

/** What the job's metrics record: where it ran, how it ended, how much output it wrote. */
export function jobObservation(job: JobState, ending?: JobEnding): RunObservation {
  return {
    cluster: job.target.cluster,
    ...(job.target.service !== undefined ? { ecsService: job.target.service } : {}),
    ...(ending?.kind === 'exited' ? { exitCode: ending.exitCode } : {}),
    outputBytes: job.offset,
  };
}

export function jobOutcome(job: JobState, nowMs: number, errorName?: string): RunOutcome {
  return {
    durationMs: Math.max(0, nowMs - Date.parse(job.startedAt)),
    ...(errorName !== undefined ? { errorName } : {}),
  };
}

/**
 * Whether an error thrown by a poll ends the job's execution (and so is its last word): the
 * retryable ones are tried again by the state machine and would count twice.
 */
export function endsTheJob(err: unknown): boolean {
  const name = err instanceof Error ? err.name : undefined;
  return !RETRYABLE_ERROR_NAMES.some((retryable) => retryable === name);
}
