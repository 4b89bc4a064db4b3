/**
 * What a detached start with an `idempotencyKey` chose, kept in the output bucket (which detached
 * jobs require anyway) under the key: the task it picked and the job it started. A retried start
 * with the same key reads it back instead of resolving the target again, so a `service` that now
 * resolves to another task still finds the first job.
 *
 * Two writes: a claim (`If-None-Match: *`, so of two starts racing with one key only one wins)
 * before the job starts, naming the target and the job id; then the job's state once it runs. A
 * start reads the record only when its claim was refused (the object exists). A
 * retry that finds the state returns it unchanged (the job may have ended and its directory gone:
 * nothing is started again); one that finds only the claim (the first start died in between)
 * starts on the claimed task with the claimed id, which finds the job if it got as far as running.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { IDEMPOTENCY_TTL_SECONDS } from '../idempotency';
import { isJobState, type JobState, type JobTarget } from './job-state';

/** Folder of the records, under the function's output prefix. */
export const START_RECORDS_FOLDER = 'detached-starts/';

export interface StartRecord {
  readonly jobId: string;
  readonly target: JobTarget;
  /** When the key was claimed: a record older than the idempotency TTL no longer answers. */
  readonly claimedAtMs: number;
  /** Present once the job runs. */
  readonly job?: JobState;
}

export interface StartRecordStore {
  load(): Promise<StartRecord | undefined>;
  /** Writes the claim unless one exists; false when another start claimed the key first. */
  claim(record: StartRecord): Promise<boolean>;
  save(record: StartRecord): Promise<void>;
}

/** The key is hashed: it may hold characters an S3 key should not, and it names nothing. */
export function startRecordKey(outputPrefix: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(idempotencyKey).digest('hex');
  return `${outputPrefix}${START_RECORDS_FOLDER}${digest}.json`;
}

export function s3StartRecordStore(
  s3: () => Promise<S3Client>,
  bucket: string,
  key: string,
): StartRecordStore {
  const commands = () => import('@aws-sdk/client-s3');
  const put = async (record: StartRecord, onlyIfAbsent: boolean): Promise<void> => {
    const [client, { PutObjectCommand }] = await Promise.all([s3(), commands()]);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(record),
        ContentType: 'application/json',
        ...(onlyIfAbsent ? { IfNoneMatch: '*' } : {}),
      }),
    );
  };
  return {
    load: async () => {
      const [client, { GetObjectCommand }] = await Promise.all([s3(), commands()]);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return parseStartRecord((await response.Body?.transformToString()) ?? '');
      } catch (err) {
        if (err instanceof Error && (err.name === 'NoSuchKey' || err.name === 'NotFound')) return undefined;
        throw err;
      }
    },
    claim: async (record) => {
      try {
        await put(record, true);
        return true;
      } catch (err) {
        // 412: another start wrote first; 409: a conditional write raced with another one.
        if (
          err instanceof Error &&
          (err.name === 'PreconditionFailed' || err.name === 'ConditionalRequestConflict')
        )
          return false;
        throw err;
      }
    },
    save: (record) => put(record, false),
  };
}

function parseStartRecord(text: string): StartRecord | undefined {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object') return undefined;
  const { jobId, target, claimedAtMs, job } = value as Record<string, unknown>;
  if (typeof jobId !== 'string' || typeof claimedAtMs !== 'number') return undefined;
  if (target === null || typeof target !== 'object') return undefined;
  return { jobId, target: target as JobTarget, claimedAtMs, ...(isJobState(job) ? { job } : {}) };
}

/** Whether a record still answers for its key (the same TTL as the attached runs' idempotency table). */
export function isLive(record: StartRecord, nowMs: number): boolean {
  return nowMs - record.claimedAtMs < IDEMPOTENCY_TTL_SECONDS * 1000;
}
