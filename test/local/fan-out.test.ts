/**
 * The synthesized fan-out state machine, executed end to end in this process: the listing Lambda
 * writes the fleet's 300 tasks to the fake S3, the local Distributed Map reads them and runs the
 * real exec handler once per task (at most `maxConcurrency` at a time) against scripted agents,
 * writes the ResultWriter files, and the summary steps ask the fake Step Functions for the counts
 * and the failed tasks.
 */
import {
  FAN_OUT_RESULTS_FOLDER,
  FAN_OUT_TASKS_FOLDER,
  FanOutErrorName,
} from '../../lambda/fan-out/fan-out-contract';
import { DEFAULT_FAN_OUT_MAX_CONCURRENCY } from '../../lib/ecs-exec-runner-props';
import {
  DEFAULT_WORLD_IDS,
  FLEET_TASK_COUNT,
  fleetHostname,
  fleetTaskId,
  taskArn,
} from '../../local/fake-aws';
import { type LocalEnvironment, startLocalEnvironment } from '../../local/local-environment';
import { sdkDistributedMapIo } from '../../local/local-fan-out';

const MAX_CONCURRENCY = 10;
const FAILING_INDEX = 137;
const FAILING_EXIT_CODE = 3;
/**
 * Each session waits this long before its first read (the real agent waits 1 s), so that sessions,
 * not the handler's own calls, take most of each invocation: the peak then reaches the limit.
 */
const FIRST_READ_DELAY_MS = 60;
const OUTPUT_PREFIX = 'exec-output/';
/**
 * The 300 runs cost about 4 s of CPU in this process (every task is a real handler invocation and
 * data-channel session); alone it ends in about 8 s, but its wall time follows the machine's load.
 */
const FLEET_RUN_TIMEOUT_MS = 120_000;

let env: LocalEnvironment;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  env = await startLocalEnvironment({ fastAgent: true });
  env.fake.faults.session = { timing: { initialReadDelayMs: FIRST_READ_DELAY_MS } };
});

afterAll(async () => {
  await env.close();
  delete process.env.POWERTOOLS_LOG_LEVEL;
});

interface ResultRecord {
  readonly ExecutionArn: string;
  readonly Input: string;
  readonly Name: string;
  readonly Status: string;
  readonly StateMachineArn: string;
  readonly Output?: string;
  readonly Error?: string;
  readonly Cause?: string;
  readonly StartDate: string;
  readonly StopDate: string;
}

/** Read through the S3 API of the fake endpoint, as a user of the results would. */
const s3Object = (bucket: string, key: string): Promise<string> =>
  sdkDistributedMapIo().getObject(bucket, key);

const taskIdOfEvent = (input: string): string =>
  ((JSON.parse(input) as { task: string }).task.split('/').pop() as string) ?? '';

describe('fan-out state machine, run locally', () => {
  it(
    `runs on all ${FLEET_TASK_COUNT} tasks, ${MAX_CONCURRENCY} at a time, and reports the one that failed by its task`,
    async () => {
      const world = env.fake.world;
      const fleet = world.clusters.find((cluster) => cluster.name === DEFAULT_WORLD_IDS.cluster)?.tasks ?? [];
      const failing = fleet.find((task) => task.id === fleetTaskId(FAILING_INDEX));
      const container = failing?.containers[0];
      if (container === undefined) throw new Error('the fleet has no task to break');
      container.shell = () => ({ output: 'disk full\n', exitCode: FAILING_EXIT_CODE });
      env.fake.gateway.resetPeakLiveSessions();
      const sessionsBefore = env.fake.sessions.length;

      const result = await env.runFanOut(
        { command: 'hostname', service: DEFAULT_WORLD_IDS.fleetService, maxConcurrency: MAX_CONCURRENCY },
        { executionName: 'fleet-hostname' },
      );

      // Concurrency: the limit was reached and never passed.
      expect(env.fake.gateway.peakLiveSessions).toBe(MAX_CONCURRENCY);
      // One session per task, no task twice.
      const sessions = env.fake.sessions.slice(sessionsBefore);
      expect(new Set(sessions.map((session) => session.taskId)).size).toBe(FLEET_TASK_COUNT);
      expect(sessions).toHaveLength(FLEET_TASK_COUNT);

      // Partial failure: every task ran; the execution fails with TasksFailed and the summary as cause.
      if (result.status !== 'FAILED') throw new Error(`expected FAILED, got ${JSON.stringify(result)}`);
      expect(result.error).toBe(FanOutErrorName.TasksFailed);
      const summary = JSON.parse(result.cause) as {
        results: { Bucket: string; Key: string };
        mapRunArn: string;
      };
      const failingArn = taskArn(world, DEFAULT_WORLD_IDS.cluster, fleetTaskId(FAILING_INDEX));
      expect(summary).toEqual({
        cluster: `arn:aws:ecs:${world.region}:${world.account}:cluster/${DEFAULT_WORLD_IDS.cluster}`,
        service: DEFAULT_WORLD_IDS.fleetService,
        total: FLEET_TASK_COUNT,
        succeeded: FLEET_TASK_COUNT - 1,
        failed: 1,
        timedOut: 0,
        aborted: 0,
        mapRunArn: expect.stringMatching(
          /^arn:aws:states:us-east-1:123456789012:mapRun:EcsExecRunnerDemo-FanOut\/RunOnEachTask:[0-9a-f-]{36}$/,
        ),
        results: { Bucket: expect.any(String), Key: expect.any(String) },
        failedTasks: [{ taskArn: failingArn, error: 'NonZeroExit' }],
      });

      // The task list the Distributed Map read: one exec event per task, under the tasks folder.
      const bucket = summary.results.Bucket;
      const items = JSON.parse(
        await s3Object(bucket, `${OUTPUT_PREFIX}${FAN_OUT_TASKS_FOLDER}fleet-hostname.json`),
      ) as {
        task: string;
      }[];
      expect(items).toHaveLength(FLEET_TASK_COUNT);

      // ResultWriter's layout: <prefix>/<map run id>/manifest.json, SUCCEEDED_0.json, FAILED_0.json.
      const mapRunId = summary.mapRunArn.split(':').pop() as string;
      const folder = `${OUTPUT_PREFIX}${FAN_OUT_RESULTS_FOLDER}/${mapRunId}/`;
      expect(summary.results.Key).toBe(`${folder}manifest.json`);
      const succeededKey = `${folder}SUCCEEDED_0.json`;
      const failedKey = `${folder}FAILED_0.json`;
      const succeededText = await s3Object(bucket, succeededKey);
      const failedText = await s3Object(bucket, failedKey);
      expect(JSON.parse(await s3Object(bucket, summary.results.Key))).toEqual({
        DestinationBucket: bucket,
        MapRunArn: summary.mapRunArn,
        ResultFiles: {
          FAILED: [{ Key: failedKey, Size: Buffer.byteLength(failedText) }],
          PENDING: [],
          SUCCEEDED: [{ Key: succeededKey, Size: Buffer.byteLength(succeededText) }],
        },
      });

      // Every succeeded task's own output; the failed one's error, exit code and output.
      const succeeded = JSON.parse(succeededText) as ResultRecord[];
      expect(succeeded).toHaveLength(FLEET_TASK_COUNT - 1);
      const hostnames = new Map(
        Array.from({ length: FLEET_TASK_COUNT }, (_, index) => [fleetTaskId(index), fleetHostname(index)]),
      );
      for (const record of succeeded) {
        expect(record.Status).toBe('SUCCEEDED');
        expect(record.ExecutionArn).toMatch(
          /:execution:EcsExecRunnerDemo-FanOut\/RunOnEachTask:[0-9a-f-]{36}$/,
        );
        const output = JSON.parse(record.Output ?? 'null') as { output: string; exitCode: number };
        expect(output).toMatchObject({
          exitCode: 0,
          output: `${hostnames.get(taskIdOfEvent(record.Input))}\n`,
        });
      }
      const [failed, ...more] = JSON.parse(failedText) as ResultRecord[];
      expect(more).toEqual([]);
      expect(failed).toMatchObject({ Status: 'FAILED', Error: 'NonZeroExit' });
      expect(taskIdOfEvent(failed?.Input ?? '{}')).toBe(fleetTaskId(FAILING_INDEX));
      const cause = JSON.parse(failed?.Cause ?? '{}') as { errorMessage: string };
      expect(JSON.parse(cause.errorMessage)).toMatchObject({
        exitCode: FAILING_EXIT_CODE,
        outputTail: 'disk full\n',
      });
    },
    FLEET_RUN_TIMEOUT_MS,
  );

  it('ends with the summary alone when every task succeeded, at the construct default concurrency', async () => {
    const result = await env.runFanOut({ command: 'echo ok', service: DEFAULT_WORLD_IDS.service });

    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: {
        service: DEFAULT_WORLD_IDS.service,
        total: 1,
        succeeded: 1,
        failed: 0,
        timedOut: 0,
        aborted: 0,
      },
    });
    const mapRun = env.fake.stateMachines.mapRuns.get(
      (result as { output: { mapRunArn: string } }).output.mapRunArn,
    );
    expect(mapRun).toMatchObject({
      status: 'SUCCEEDED',
      itemCount: 1,
      toleratedFailurePercentage: 100,
      // The construct's default, through the listing function's environment.
      maxConcurrency: DEFAULT_FAN_OUT_MAX_CONCURRENCY,
    });
  });
});
