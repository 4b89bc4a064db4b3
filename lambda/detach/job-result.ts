/**
 * The end of a detached job: the same result shape and the same errors as an attached run, built
 * from the full output in S3 (head + tail), plus `jobId`; `outputS3Uri` is always set.
 */
import type { ExecResult } from '../contract';
import { CommandTimedOut, JobLost, NonZeroExit } from '../errors';
import { failureMessage, fitResult } from '../result';
import { formatOmissionNotice, TextNormalizer } from '../ssm/output';
import type { FinishedOutput, JobEnding } from './job';
import type { JobState } from './job-state';

/** The result's `output`: all of it, or head + notice + tail; ANSI stripped when asked, bytes otherwise as written. */
export function outputText(job: JobState, finished: Pick<FinishedOutput, 'head' | 'tail'>): string {
  const decode = (bytes: Buffer): string => {
    const normalizer = new TextNormalizer({ normalizeNewlines: false, stripAnsi: job.output.stripAnsi });
    return Buffer.concat([normalizer.push(bytes), normalizer.finish()]).toString('utf8');
  };
  const kept = finished.head.length + finished.tail.length;
  if (kept >= job.offset)
    return decode(Buffer.concat([finished.head, finished.tail]).subarray(0, job.offset));
  const head = decode(finished.head);
  return `${head}${formatOmissionNotice(job.offset - kept, head === '' || head.endsWith('\n'))}${decode(finished.tail)}`;
}

/** Head and tail byte counts for a job's output limit. */
export function headTailBytes(job: JobState): { readonly head: number; readonly tail: number } {
  const head = Math.floor(job.output.limitBytes / 2);
  return { head, tail: job.output.limitBytes - head };
}

/** Returns the result, or throws NonZeroExit / CommandTimedOut / JobLost with the output's tail. */
export function finishResult(
  job: JobState,
  ending: JobEnding,
  finished: FinishedOutput,
  nowMs: number,
): ExecResult {
  const output = outputText(job, finished);
  const identity = {
    cluster: job.target.cluster,
    taskArn: job.target.taskArn,
    container: job.target.container,
    sessionId: job.sessionId,
  };
  const details = { ...identity, jobId: job.jobId, outputBytes: job.offset, outputS3Uri: finished.uri };
  switch (ending.kind) {
    case 'stopped':
      throw new CommandTimedOut(
        failureMessage(
          ending.reason === 'timeout'
            ? `the detached job did not finish within its timeout; its process group was stopped (TERM, then KILL)`
            : 'the detached job was cancelled; its process group was stopped (TERM, then KILL)',
          details,
          output,
        ),
      );
    case 'lost':
      throw new JobLost(failureMessage(`detached job ${job.jobId} was lost: ${ending.why}`, details, output));
    case 'exited':
      if (job.failOnNonZeroExit && ending.exitCode !== 0) {
        throw new NonZeroExit(
          failureMessage(
            `the command exited with code ${ending.exitCode}`,
            { exitCode: ending.exitCode, ...details },
            output,
          ),
          { exitCode: ending.exitCode },
        );
      }
      return fitResult({
        exitCode: ending.exitCode,
        output,
        outputBytes: job.offset,
        truncated: job.offset > finished.head.length + finished.tail.length,
        outputS3Uri: finished.uri,
        ...identity,
        startedAt: job.startedAt,
        durationMs: nowMs - Date.parse(job.startedAt),
        jobId: job.jobId,
      });
  }
}
