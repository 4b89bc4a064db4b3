/**
 * `ecs-exec run --detach`: follows a detached job like `tail -f`. The job's state (offset, S3 key
 * prefix) is in the execution's history, in the output of its latest poll (or, after a
 * continue-as-new, in the history of the child execution); each poll stores what it read as one S3
 * object per offset, which this prints as soon as it exists.
 */

import { StringDecoder } from 'node:string_decoder';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { isJobState, type JobState } from '../lambda/detach/job-state';
import { chunkKey } from '../lambda/detach/keys';
import type { OutputStream } from './output-stream';

/** Recent events looked at for the job's state: a poll loop writes ~9 per round. */
const RECENT_EVENTS = 60;
/** How often the execution and the bucket are looked at. */
export const FOLLOW_INTERVAL_MS = 1_000;

export interface FollowDeps {
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  readonly stdout: OutputStream;
  readonly signal?: AbortSignal;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The latest job state an execution (or the child it continued in) reported; undefined before the start. */
export async function latestJobState(sfn: SFNClient, executionArn: string): Promise<JobState | undefined> {
  const page = await sfn.send(
    new GetExecutionHistoryCommand({
      executionArn,
      reverseOrder: true,
      includeExecutionData: true,
      maxResults: RECENT_EVENTS,
    }),
  );
  for (const event of page.events ?? []) {
    const child = childExecutionArn(event);
    if (child !== undefined) return (await latestJobState(sfn, child)) ?? undefined;
    const job = jobIn(event);
    if (job !== undefined) return job;
  }
  return undefined;
}

/** A continue-as-new child's ARN, from the startExecution.sync task's TaskSubmitted event. */
function childExecutionArn(event: HistoryEvent): string | undefined {
  if (event.type !== 'TaskSubmitted' || event.taskSubmittedEventDetails?.resourceType !== 'states')
    return undefined;
  const output = parse(event.taskSubmittedEventDetails.output);
  const arn = (output as { ExecutionArn?: unknown } | undefined)?.ExecutionArn;
  return typeof arn === 'string' ? arn : undefined;
}

function jobIn(event: HistoryEvent): JobState | undefined {
  const text = event.taskSucceededEventDetails?.output ?? event.stateExitedEventDetails?.output;
  const value = parse(text) as { Payload?: { job?: unknown }; job?: unknown } | undefined;
  const job = value?.Payload?.job ?? value?.job;
  return isJobState(job) ? job : undefined;
}

function parse(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** How far the output was printed; the decoder keeps a character split across chunks whole. */
export interface FollowPosition {
  offset: number;
  lastChunk: number;
  readonly decoder: StringDecoder;
}

export function newFollowPosition(): FollowPosition {
  return { offset: 0, lastChunk: 0, decoder: new StringDecoder('utf8') };
}

/**
 * Prints the job's output chunk by chunk from `position`, for as long as chunks exist. Returns the
 * offset reached. A retried poll may have replaced the chunk last printed with a longer one: its
 * new bytes are printed too.
 */
export async function printChunks(
  s3: S3Client,
  job: Pick<JobState, 'output'>,
  position: FollowPosition,
  stdout: OutputStream,
): Promise<void> {
  for (;;) {
    const at = await readChunk(s3, job, position.offset);
    if (at !== undefined) {
      stdout.write(position.decoder.write(at));
      position.lastChunk = position.offset;
      position.offset += at.length;
      continue;
    }
    if (position.lastChunk === position.offset) return;
    const last = await readChunk(s3, job, position.lastChunk);
    const printed = position.offset - position.lastChunk;
    if (last === undefined || last.length <= printed) return;
    stdout.write(position.decoder.write(last.subarray(printed)));
    position.offset = position.lastChunk + last.length;
  }
}

async function readChunk(
  s3: S3Client,
  job: Pick<JobState, 'output'>,
  offset: number,
): Promise<Buffer | undefined> {
  try {
    // Loaded on first use, like the CLI's other S3 reads: it costs start-up time.
    const { GetObjectCommand } = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
    const response = await s3.send(
      new GetObjectCommand({ Bucket: job.output.bucket, Key: chunkKey(job.output.keyPrefix, offset) }),
    );
    return Buffer.from((await response.Body?.transformToByteArray()) ?? new Uint8Array());
  } catch (err) {
    if (err instanceof Error && (err.name === 'NoSuchKey' || err.name === 'NotFound')) return undefined;
    throw err;
  }
}

/**
 * Prints the job's output as it arrives until the execution ends; returns its last description,
 * or undefined when interrupted (the execution and the job go on).
 */
export async function followDetached(
  executionArn: string,
  deps: FollowDeps,
): Promise<DescribeExecutionCommandOutput | undefined> {
  const position = newFollowPosition();
  let job: JobState | undefined;
  for (;;) {
    const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
    job = (await latestJobState(deps.sfn, executionArn)) ?? job;
    if (job !== undefined) await printChunks(deps.s3, job, position, deps.stdout);
    if (execution.status !== 'RUNNING') {
      deps.stdout.write(position.decoder.end());
      return execution;
    }
    await deps.sleep(FOLLOW_INTERVAL_MS, deps.signal);
    if (deps.signal?.aborted) return undefined;
  }
}
