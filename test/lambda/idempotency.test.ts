import type { Context } from 'aws-lambda';
import type { ExecResult } from '../../lambda/contract';
import { parseExecEvent } from '../../lambda/event';
import { type ExecRunner, idempotentRunner, type PersistenceStore } from '../../lambda/idempotency';

const TASK_ID = '0123456789abcdef0123456789abcdef';
const context = { getRemainingTimeInMillis: () => 60_000, awsRequestId: 'r' } as unknown as Context;
const request = (extra: Record<string, unknown> = {}) =>
  parseExecEvent({
    command: 'python manage.py migrate',
    cluster: 'prod',
    task: TASK_ID,
    idempotencyKey: 'deploy-42',
    ...extra,
  });

/** An in-memory Powertools persistence layer with the DynamoDB layer's conditional-put rules. */
async function memoryStore(): Promise<PersistenceStore> {
  const { BasePersistenceLayer, IdempotencyRecord } = await import(
    '@aws-lambda-powertools/idempotency/persistence'
  );
  const { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError } = await import(
    '@aws-lambda-powertools/idempotency'
  );
  type Record = InstanceType<typeof IdempotencyRecord>;
  class MemoryPersistenceLayer extends BasePersistenceLayer {
    readonly records = new Map<string, Record>();
    protected async _getRecord(key: string): Promise<Record> {
      const record = this.records.get(key);
      if (record === undefined) throw new IdempotencyItemNotFoundError(key);
      return record;
    }
    protected async _putRecord(record: Record): Promise<void> {
      const existing = this.records.get(record.idempotencyKey);
      const inProgressExpired =
        existing?.getStatus() === 'INPROGRESS' &&
        existing.inProgressExpiryTimestamp !== undefined &&
        existing.inProgressExpiryTimestamp < Date.now();
      if (existing !== undefined && !existing.isExpired() && !inProgressExpired) {
        throw new IdempotencyItemAlreadyExistsError(`exists: ${record.idempotencyKey}`, existing);
      }
      this.records.set(record.idempotencyKey, record);
    }
    protected async _updateRecord(record: Record): Promise<void> {
      this.records.set(record.idempotencyKey, record);
    }
    protected async _deleteRecord(record: Record): Promise<void> {
      this.records.delete(record.idempotencyKey);
    }
  }
  return new MemoryPersistenceLayer();
}

function result(exitCode: number): ExecResult {
  return {
    exitCode,
    output: `run ${exitCode}\n`,
    outputBytes: 6,
    truncated: false,
    cluster: 'prod',
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/prod/${TASK_ID}`,
    container: 'app',
    sessionId: `ecs-execute-command-${exitCode}`,
    startedAt: '2026-11-23T00:00:00.000Z',
    durationMs: 1,
  };
}

describe('idempotentRunner', () => {
  it('runs once per key and returns the first result to repeats', async () => {
    let runs = 0;
    const run: ExecRunner = async () => result(runs++);
    const once = await idempotentRunner(await memoryStore(), run);
    const first = await once(request(), context);
    const second = await once(request({ taskToken: 'a different token', executionName: 'retry' }), context);
    expect(runs).toBe(1);
    expect(second).toEqual(first);
  });

  it('runs again for a different key', async () => {
    let runs = 0;
    const once = await idempotentRunner(await memoryStore(), async () => result(runs++));
    await once(request(), context);
    await once(request({ idempotencyKey: 'deploy-43' }), context);
    expect(runs).toBe(2);
  });

  it('does not store failures, so a retry runs the command again', async () => {
    let runs = 0;
    const once = await idempotentRunner(await memoryStore(), async () => {
      runs++;
      if (runs === 1) throw new Error('agent not ready');
      return result(0);
    });
    await expect(once(request(), context)).rejects.toThrow('agent not ready');
    await expect(once(request(), context)).resolves.toMatchObject({ exitCode: 0 });
    expect(runs).toBe(2);
  });

  it('refuses a reused key for a different command instead of replaying the wrong result', async () => {
    const once = await idempotentRunner(await memoryStore(), async () => result(0));
    await once(request(), context);
    await expect(once(request({ command: 'rm -rf /tmp/cache' }), context)).rejects.toMatchObject({
      name: 'IdempotencyValidationError',
    });
  });
});
