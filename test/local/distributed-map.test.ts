/**
 * The local Distributed Map (lib/local/distributed-map.ts) on small definitions: items from an
 * ItemReader, MaxConcurrency, tolerated failures, the ResultWriter layout, the observer's view.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { runStateMachineLocally } from '../../lib/local/definition';
import type { ChildOutcome, DistributedMapIo, MapRunObserver } from '../../lib/local/distributed-map';

const MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:numbers';

function memoryIo(objects: Record<string, string>): DistributedMapIo & { objects: Record<string, string> } {
  return {
    objects,
    async getObject(bucket, key) {
      const body = objects[`${bucket}/${key}`];
      if (body === undefined) throw new Error('NoSuchKey');
      return body;
    },
    async putObject(bucket, key, body) {
      objects[`${bucket}/${key}`] = body;
    },
  };
}

function definition(map: Record<string, unknown>): StateMachineDefinition {
  return {
    StartAt: 'Fan',
    States: {
      Fan: {
        Type: 'Map',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Work',
          States: {
            Work: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: 'double', 'Payload.$': '$' },
              OutputPath: '$.Payload',
              End: true,
            },
          },
        },
        ResultPath: '$.map',
        End: true,
        ...map,
      },
    },
  } as unknown as StateMachineDefinition;
}

/** Doubles `n`; throws `Odd` for odd numbers; records how many calls overlap. */
function doubler(): { invoke: (arn: string, payload: unknown) => Promise<unknown>; peak: () => number } {
  let live = 0;
  let peak = 0;
  return {
    peak: () => peak,
    invoke: async (_arn, payload) => {
      live += 1;
      peak = Math.max(peak, live);
      await new Promise((resolve) => setTimeout(resolve, 5));
      live -= 1;
      const { n } = payload as { n: number };
      if (n % 2 === 1) {
        const error = new Error(`${n} is odd`);
        error.name = 'Odd';
        throw error;
      }
      return { doubled: n * 2 };
    },
  };
}

function recordingObserver(): MapRunObserver & { ended: ChildOutcome[]; status?: string } {
  const observer: MapRunObserver & { ended: ChildOutcome[]; status?: string } = {
    ended: [],
    mapRunStarted: () => undefined,
    childStarted: () => undefined,
    childEnded: (_run, _arn, outcome) => {
      observer.ended.push(outcome);
    },
    mapRunEnded: (_run, status) => {
      observer.status = status;
    },
  };
  return observer;
}

const READER = {
  Resource: 'arn:aws:states:::s3:getObject',
  ReaderConfig: { InputType: 'JSONL' },
  Parameters: { Bucket: 'in', 'Key.$': '$.key' },
};
const WRITER = { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'out', Prefix: 'runs/' } };

describe('local Distributed Map', () => {
  it('reads the items, honours MaxConcurrency, tolerates a failure and writes the ResultWriter files', async () => {
    const io = memoryIo({ 'in/items.jsonl': '{"n":2}\n{"n":3}\n{"n":4}\n{"n":6}\n{"n":8}\n' });
    const observer = recordingObserver();
    const lambda = doubler();

    const result = await runStateMachineLocally(
      definition({ ItemReader: READER, ResultWriter: WRITER, MaxConcurrency: 2, ToleratedFailureCount: 1 }),
      { key: 'items.jsonl' },
      lambda.invoke,
      { stateMachineArn: MACHINE_ARN, distributedMap: { io, observer } },
    );

    expect(lambda.peak()).toBe(2);
    expect(observer.status).toBe('SUCCEEDED');
    expect(observer.ended.map((outcome) => outcome.status).sort()).toEqual([
      'FAILED',
      'SUCCEEDED',
      'SUCCEEDED',
      'SUCCEEDED',
      'SUCCEEDED',
    ]);
    if (result.status !== 'SUCCEEDED') throw new Error(JSON.stringify(result));
    const { map } = result.output as {
      map: { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } };
    };
    expect(map.MapRunArn).toMatch(
      /^arn:aws:states:eu-west-1:111122223333:mapRun:numbers\/Fan:[0-9a-f-]{36}$/,
    );
    const id = map.MapRunArn.split(':').pop();
    expect(map.ResultWriterDetails).toEqual({ Bucket: 'out', Key: `runs/${id}/manifest.json` });
    expect(Object.keys(io.objects).sort()).toEqual([
      'in/items.jsonl',
      `out/runs/${id}/FAILED_0.json`,
      `out/runs/${id}/SUCCEEDED_0.json`,
      `out/runs/${id}/manifest.json`,
    ]);
    const succeeded = JSON.parse(io.objects[`out/runs/${id}/SUCCEEDED_0.json`] ?? '[]') as {
      Input: string;
      Output: string;
      StateMachineArn: string;
    }[];
    expect(
      succeeded.map((record) => JSON.parse(record.Output)).sort((a, b) => a.doubled - b.doubled),
    ).toEqual([{ doubled: 4 }, { doubled: 8 }, { doubled: 12 }, { doubled: 16 }]);
    expect(succeeded[0]?.StateMachineArn).toBe(`${MACHINE_ARN}/Fan`);
    const [failed] = JSON.parse(io.objects[`out/runs/${id}/FAILED_0.json`] ?? '[]') as {
      Input: string;
      Error: string;
    }[];
    expect(failed).toMatchObject({ Input: '{"n":3}', Error: 'Odd' });
  });

  it('fails with States.ExceedToleratedFailureThreshold beyond the tolerated failures', async () => {
    const io = memoryIo({ 'in/items.jsonl': '{"n":1}\n{"n":3}\n{"n":4}\n' });
    const observer = recordingObserver();

    const result = await runStateMachineLocally(
      definition({
        ItemReader: READER,
        ResultWriter: WRITER,
        MaxConcurrency: 1,
        ToleratedFailurePercentage: 50,
      }),
      { key: 'items.jsonl' },
      doubler().invoke,
      { stateMachineArn: MACHINE_ARN, distributedMap: { io, observer } },
    );

    expect(result).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    expect(observer.status).toBe('FAILED');
    // One at a time: the run stopped starting children once two of three had failed.
    expect(observer.ended).toHaveLength(2);
  });

  it('without a ResultWriter returns the outputs; without ToleratedFailure* no failure is tolerated', async () => {
    const io = memoryIo({});
    const ok = await runStateMachineLocally(
      definition({ ItemsPath: '$.items' }),
      { items: [{ n: 2 }, { n: 4 }] },
      doubler().invoke,
      { distributedMap: { io } },
    );
    expect(ok).toMatchObject({ status: 'SUCCEEDED', output: { map: [{ doubled: 4 }, { doubled: 8 }] } });

    const failed = await runStateMachineLocally(
      definition({ ItemsPath: '$.items' }),
      { items: [{ n: 2 }, { n: 5 }] },
      doubler().invoke,
      { distributedMap: { io } },
    );
    expect(failed).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
  });

  it('fails a missing item object with States.ItemReaderFailed', async () => {
    const result = await runStateMachineLocally(
      definition({ ItemReader: READER }),
      { key: 'missing.jsonl' },
      doubler().invoke,
      { distributedMap: { io: memoryIo({}) } },
    );
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.ItemReaderFailed' });
  });
});
