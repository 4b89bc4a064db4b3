/**
 * The record a detached start with an idempotencyKey keeps in the output bucket: one claim wins
 * (a conditional write, as S3 honours `If-None-Match: *`), the others read it; it answers for the
 * idempotency TTL. Against the fake S3 endpoint.
 */
import {
  isLive,
  START_RECORDS_FOLDER,
  type StartRecord,
  s3StartRecordStore,
  startRecordKey,
} from '../../lambda/detach/start-record';
import { IDEMPOTENCY_TTL_SECONDS } from '../../lambda/idempotency';
import { useFakeAwsS3 } from '../support/fake-aws-s3';

const BUCKET = 'detached-output';
const target = (task: string) => ({
  cluster: 'prod',
  clusterArn: 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod',
  taskArn: `arn:aws:ecs:eu-west-1:111122223333:task/prod/${task}`,
  container: 'app',
  service: 'web',
});

const world = useFakeAwsS3();

describe('detached start records', () => {
  it('keys the record by a hash of the idempotency key, under the output prefix', () => {
    const key = startRecordKey('runs/', 'nightly backfill/2026-12-07');
    expect(key).toMatch(new RegExp(`^runs/${START_RECORDS_FOLDER}[0-9a-f]{64}\\.json$`));
    expect(key).not.toContain('nightly');
    expect(startRecordKey('runs/', 'nightly backfill/2026-12-07')).toBe(key);
  });

  it('lets one of two racing claims win; the loser reads the winner’s task', async () => {
    const key = startRecordKey('', 'race');
    const store = s3StartRecordStore(async () => world.s3, BUCKET, key);
    const first: StartRecord = { jobId: 'job-a', target: target('a'), claimedAtMs: Date.now() };
    const second: StartRecord = { jobId: 'job-a', target: target('b'), claimedAtMs: Date.now() };
    const claims = await Promise.all([store.claim(first), store.claim(second)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = claims[0] ? first : second;
    expect(await store.load()).toEqual(winner);
  });

  it('answers for the idempotency TTL only', () => {
    const record: StartRecord = { jobId: 'job-a', target: target('a'), claimedAtMs: 1_000 };
    expect(isLive(record, 1_000 + IDEMPOTENCY_TTL_SECONDS * 1000 - 1)).toBe(true);
    expect(isLive(record, 1_000 + IDEMPOTENCY_TTL_SECONDS * 1000)).toBe(false);
  });
});
