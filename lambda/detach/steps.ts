/**
 * The detached-job steps as Lambda events, called by the state machine's detached path:
 *
 *   {"detachedJob": {"step": "start", "event": <exec event>, "executionName": "…"}}  → {"job": …}
 *   {"detachedJob": {"step": "poll", "job": …}}    → {"done": false, "job": …} | {"done": true, "result": …}
 *   {"detachedJob": {"step": "cancel", "job": …}}  → {"done": false, "job": …} (the polls collect the rest)
 *
 * A poll that finds the job ended returns the attached run's result shape (plus jobId) or throws
 * its errors (NonZeroExit, CommandTimedOut, JobLost, …).
 */
import type { AwsClients } from '../aws/clients';
import { resolveTarget } from '../aws/target';
import type { ExecResult } from '../contract';
import { InvalidInput } from '../errors';
import { type EventDefaults, type ExecRequest, parseExecEvent } from '../event';
import type { SessionLogger } from '../ssm/types';
import { awsJobPorts } from './aws-ports';
import { DETACHED_JOB_FIELD, DetachedStep } from './detach-contract';
import { cleanUpJob, type JobPorts, jobIdFor, pollJob, startJob, stopJob } from './job';
import { endsTheJob, jobObservation, jobOutcome, type PublishMetrics } from './job-metrics';
import { finishResult, headTailBytes } from './job-result';
import { inExecution, isJobState, type JobState, type JobTarget } from './job-state';
import { DEFAULT_JOBS_DIRECTORY } from './scripts';
import { isLive, type StartRecordStore, s3StartRecordStore, startRecordKey } from './start-record';

export { DETACHED_JOB_FIELD, DetachedStep };

export type DetachedStepOutput =
  | { readonly job: JobState }
  | { readonly done: false; readonly job: JobState }
  | { readonly done: true; readonly result: ExecResult };

export interface DetachedStepDeps {
  readonly clients: AwsClients;
  readonly logger: SessionLogger;
  readonly defaults: EventDefaults;
  readonly outputBucket?: string;
  readonly outputPrefix?: string;
  readonly remainingMs: () => number;
  /** Writes a job's run metrics when it ends (lambda/metrics.ts). */
  readonly publishMetrics?: PublishMetrics;
}

export function isDetachedStepEvent(event: unknown): event is Record<typeof DETACHED_JOB_FIELD, unknown> {
  return event !== null && typeof event === 'object' && DETACHED_JOB_FIELD in event;
}

export async function runDetachedStep(
  event: Record<string, unknown>,
  deps: DetachedStepDeps,
): Promise<DetachedStepOutput> {
  const body = event[DETACHED_JOB_FIELD];
  if (body === null || typeof body !== 'object')
    throw new InvalidInput(`"${DETACHED_JOB_FIELD}" must be an object`);
  const { step, job: given, event: execEvent, executionName: name } = body as Record<string, unknown>;
  const executionName = typeof name === 'string' ? name : undefined;
  if (step === DetachedStep.Start) return { job: await start(execEvent, executionName, deps) };
  if (!isJobState(given)) throw new InvalidInput(`"${DETACHED_JOB_FIELD}.job" is not a detached job's state`);
  const job = inExecution(given, executionName);
  const ports = portsFor(deps, job.target, job);
  if (step === DetachedStep.Cancel) return { done: false, job: await stopJob(job, 'cancel', ports) };
  if (step !== DetachedStep.Poll) {
    throw new InvalidInput(
      `"${DETACHED_JOB_FIELD}.step" must be one of ${Object.values(DetachedStep).join(', ')}`,
    );
  }
  let outcome: Awaited<ReturnType<typeof pollJob>>;
  try {
    outcome = await pollJob(job, ports);
  } catch (err) {
    if (endsTheJob(err))
      deps.publishMetrics?.(jobObservation(job), jobOutcome(job, Date.now(), errorName(err)));
    throw err;
  }
  if (!outcome.done) return { done: false, job: outcome.job };
  const { head, tail } = headTailBytes(outcome.job);
  const finished = await ports.finishOutput(outcome.job.offset, head, tail);
  await ports.saveEnding({ ending: outcome.result, offset: outcome.job.offset });
  await cleanUpJob(outcome.job, ports);
  const endedMs = Date.now();
  let failure: string | undefined;
  try {
    return { done: true, result: finishResult(outcome.job, outcome.result, finished, endedMs) };
  } catch (err) {
    failure = errorName(err);
    throw err;
  } finally {
    // Once per job: a replayed ending was counted by the poll that first saw it.
    if (!outcome.replayed) {
      deps.publishMetrics?.(
        jobObservation(outcome.job, outcome.result),
        jobOutcome(outcome.job, endedMs, failure),
      );
    }
  }
}

const errorName = (err: unknown): string => (err instanceof Error ? err.name : 'Error');

async function start(
  execEvent: unknown,
  executionName: string | undefined,
  deps: DetachedStepDeps,
): Promise<JobState> {
  const request = parseExecEvent(execEvent, deps.defaults, { detached: true });
  if (deps.outputBucket === undefined) {
    throw new InvalidInput(
      'detached jobs need an output bucket (OUTPUT_BUCKET): their output is collected there chunk by chunk',
    );
  }
  if (!request.shell)
    throw new InvalidInput('detached jobs need "shell": true (the job is started by a shell script)');
  const name = executionName ?? request.executionName;
  const named = (job: JobState): JobState => (name !== undefined ? { ...job, executionName: name } : job);
  const records =
    request.idempotencyKey === undefined
      ? undefined
      : s3StartRecordStore(
          deps.clients.s3,
          deps.outputBucket,
          startRecordKey(deps.outputPrefix ?? '', request.idempotencyKey),
        );
  const chosen = await chooseTarget(request, records, deps);
  if (chosen.job !== undefined) {
    deps.logger.info('detached start repeated: the job of its idempotency key answers', {
      jobId: chosen.job.jobId,
    });
    return named(chosen.job);
  }
  const { target } = chosen;
  const job = await startJob(
    {
      request,
      target,
      jobsDirectory: request.detach?.jobsDirectory ?? DEFAULT_JOBS_DIRECTORY,
      pollIntervalSeconds: request.detach?.pollIntervalSeconds ?? null,
      outputBucket: deps.outputBucket,
      outputPrefix: deps.outputPrefix ?? '',
      keepFiles: request.detach?.keepFiles ?? false,
      ...(name !== undefined ? { executionName: name } : {}),
    },
    portsFor(deps, target),
  );
  await records?.save({ jobId: job.jobId, target, claimedAtMs: chosen.claimedAtMs, job });
  return named(job);
}

/**
 * The task a start runs on: with an idempotency key, the one its first start chose (or the job it
 * started, when it got that far); else (and for the first start) the target the event resolves to.
 * The claim is written before anything is read: without s3:ListBucket, S3 answers a read of a
 * missing key with AccessDenied, not NoSuchKey, so "is there a record?" is asked by the write.
 */
async function chooseTarget(
  request: ExecRequest,
  records: StartRecordStore | undefined,
  deps: DetachedStepDeps,
): Promise<{ readonly target: JobTarget; readonly claimedAtMs: number; readonly job?: JobState }> {
  const now = Date.now();
  const resolved = await resolveTarget(deps.clients.ecs, request, deps.logger);
  const target: JobTarget = {
    cluster: resolved.clusterName,
    clusterArn: resolved.clusterArn,
    taskArn: resolved.taskArn,
    container: resolved.container,
    ...(resolved.service !== undefined ? { service: resolved.service } : {}),
  };
  const claim = { jobId: jobIdFor({ request }), target, claimedAtMs: now };
  if (records === undefined || (await records.claim(claim))) return claim;
  const earlier = await records.load();
  if (earlier !== undefined && isLive(earlier, now)) return earlier;
  // The earlier record has expired (or is unreadable): this start takes the key over.
  await records.save(claim);
  return claim;
}

function portsFor(deps: DetachedStepDeps, target: JobTarget, job?: JobState): JobPorts {
  return awsJobPorts({
    clients: deps.clients,
    logger: deps.logger,
    target,
    // The start has no key prefix yet; it stores nothing.
    output: job?.output ?? { bucket: deps.outputBucket ?? '', keyPrefix: '' },
    remainingMs: deps.remainingMs,
  });
}
