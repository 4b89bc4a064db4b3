/**
 * Detached jobs end to end: the synthesized "run one command" state machine run locally
 * (aws-local-stepfunctions), its Lambda Tasks bound to the real handler with a short local
 * timeout, against the fake AWS endpoint and the agent double (real pty, real processes).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { BINARY_CONTENT_TYPE } from '../../lambda/aws/content-type';
import { ExecErrorName, type ExecResult } from '../../lambda/contract';
import type { JobState } from '../../lambda/detach/job-state';
import { POLLS_PER_EXECUTION } from '../../lambda/detach/job-state';
import { handler } from '../../lambda/handler';
import {
  definitionFromTemplate,
  type LocalExecutionResult,
  runStateMachineLocally,
} from '../../lib/local/definition';
import {
  addTask,
  DEFAULT_ACCOUNT,
  DEFAULT_REGION,
  DEFAULT_WORLD_IDS,
  FAST_SESSION_DEFAULTS,
  restartContainer,
  startFakeAws,
} from '../../local/fake-aws';
import { runnerFunctionEnvironment, runnerStack } from '../cdk/helpers';

type FakeAws = Awaited<ReturnType<typeof startFakeAws>>;

const CLUSTER_ARN = `arn:aws:ecs:${DEFAULT_REGION}:${DEFAULT_ACCOUNT}:cluster/local`;
/** The local function timeout: every invocation must end within it, while jobs run longer. */
const FUNCTION_TIMEOUT_MS = 4_000;
const BUCKET = 'detached-output';

let fake: FakeAws;
let restoreEnv: () => void;
let definition: ReturnType<typeof definitionFromTemplate>;
let functionEnv: Record<string, string>;
let jobsDirectory: string;
let invocationMs: number[];

function lambdaContext(): Context {
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  return {
    functionName: 'ecs-exec-runner',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as Context;
}

async function invokeLambda(_arn: string, payload: unknown): Promise<unknown> {
  const saved = Object.fromEntries(Object.keys(functionEnv).map((key) => [key, process.env[key]]));
  Object.assign(process.env, functionEnv);
  const started = Date.now();
  try {
    return await handler(payload, lambdaContext());
  } finally {
    invocationMs.push(Date.now() - started);
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

const run = (
  input: Record<string, unknown>,
  name: string,
  onChild?: (input: unknown) => void,
): Promise<LocalExecutionResult> =>
  runStateMachineLocally(definition, input, invokeLambda, {
    executionName: name,
    waitMs: 100,
    ...(onChild ? { onChildExecution: onChild } : {}),
  });

function s3Object(uri: string): Buffer {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not an S3 URI: ${uri}`);
  const object = fake.objects.get(`${match[1]}/${match[2]}`);
  if (!object) throw new Error(`no object ${uri}`);
  return object;
}

/** The EMF metric records (lambda/metrics.ts) the handler writes to stdout while `work` runs. */
async function metricRecords<T>(
  work: () => Promise<T>,
): Promise<{ value: T; records: Array<Record<string, unknown>> }> {
  const records: Array<Record<string, unknown>> = [];
  // Swallowed while captured: the handler's log lines are not this test's subject.
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (line.startsWith('{"_aws"')) records.push(JSON.parse(line) as Record<string, unknown>);
    }
    return true;
  });
  try {
    return { value: await work(), records };
  } finally {
    spy.mockRestore();
  }
}

function causeOf(result: LocalExecutionResult): Record<string, unknown> {
  const cause = JSON.parse((result as { cause: string }).cause) as { errorMessage: string };
  return JSON.parse(cause.errorMessage) as Record<string, unknown>;
}

beforeAll(async () => {
  const { json } = runnerStack({ clusterArns: [CLUSTER_ARN], defaultService: 'web' });
  definition = definitionFromTemplate(json, 'RunnerRunCommandStateMachine', {
    region: DEFAULT_REGION,
    account: DEFAULT_ACCOUNT,
  });
  functionEnv = runnerFunctionEnvironment(json, {
    region: DEFAULT_REGION,
    account: DEFAULT_ACCOUNT,
  }).environment;
  functionEnv.OUTPUT_BUCKET = BUCKET;
  delete functionEnv.IDEMPOTENCY_TABLE;
  fake = await startFakeAws({ sessionDefaults: FAST_SESSION_DEFAULTS });
  restoreEnv = fake.applyEnv();
});

afterAll(async () => {
  restoreEnv();
  await fake.close();
});

beforeEach(() => {
  invocationMs = [];
  jobsDirectory = mkdtempSync(path.join(tmpdir(), 'detached-jobs-'));
});
afterEach(() => rmSync(jobsDirectory, { recursive: true, force: true }));

describe('detached jobs through the "run one command" state machine', () => {
  it('returns the exact output and exit code of a job that outlives every invocation', async () => {
    const command = "cat; sleep 4.5; printf 'a\\rb\\000c\\377\\n'; echo done >&2";
    const result = await run(
      { command, stdin: 'from stdin\n', detach: true, jobsDirectory },
      'detached-exact',
    );

    expect(result.status).toBe('SUCCEEDED');
    const output = (result as { output: ExecResult }).output;
    const expected = Buffer.from('from stdin\na\rb\u0000c\xff\ndone\n', 'latin1');
    expect(output).toMatchObject({
      exitCode: 0,
      output: expected.toString('utf8'),
      outputBytes: expected.length,
      truncated: false,
      cluster: 'local',
      container: 'app',
    });
    expect(output.jobId).toMatch(/^job-[0-9a-f]{32}$/);
    expect(s3Object(output.outputS3Uri ?? '')).toEqual(expected);
    // Bytes that are not UTF-8 text are stored as binary (a small output is judged whole).
    const s3 = new S3Client({});
    const head = await s3.send(
      new HeadObjectCommand({
        Bucket: BUCKET,
        Key: (output.outputS3Uri ?? '').replace(`s3://${BUCKET}/`, ''),
      }),
    );
    s3.destroy();
    expect(head.ContentType).toBe(BINARY_CONTENT_TYPE);
    // The job directory is removed at the end.
    expect(existsSync(path.join(jobsDirectory, output.jobId ?? ''))).toBe(false);
    // The job outlived the function's timeout and every single invocation (each given 4 s).
    expect(output.durationMs).toBeGreaterThan(FUNCTION_TIMEOUT_MS);
    expect(output.durationMs).toBeGreaterThan(Math.max(...invocationMs));
    expect(invocationMs.length).toBeGreaterThan(2);
  });

  it('gives the job the event’s environment and working directory, as an attached run has them', async () => {
    const result = await run(
      {
        command: 'echo "$GREETING"; pwd',
        environment: { GREETING: 'hello from the event' },
        workingDirectory: jobsDirectory,
        detach: true,
        jobsDirectory,
      },
      'detached-environment',
    );

    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: { exitCode: 0, output: `hello from the event\n${jobsDirectory}\n` },
    });
  });

  it('fails with NonZeroExit carrying the output tail, like an attached run', async () => {
    const { value: result, records } = await metricRecords(() =>
      run({ command: 'echo about to fail; exit 4', detach: true, jobsDirectory }, 'detached-nonzero'),
    );

    expect(result).toMatchObject({ status: 'FAILED', error: ExecErrorName.NonZeroExit });
    expect(causeOf(result)).toMatchObject({ exitCode: 4, outputTail: 'about to fail\n', outputBytes: 14 });
    // The attached run's metrics, once for the job (not per poll), by cluster and service only.
    expect(records).toEqual([
      expect.objectContaining({
        Cluster: 'local',
        EcsService: DEFAULT_WORLD_IDS.service,
        Runs: 1,
        Failures: 1,
        NonZeroExitCodes: 1,
        OutputBytes: 14,
        DurationMs: expect.any(Number),
      }),
      expect.objectContaining({ Cluster: 'local', ErrorName: ExecErrorName.NonZeroExit, Failures: 1 }),
    ]);
    expect(records[0]).not.toHaveProperty('TaskArn');
  });

  it('stops the job’s process group when its time is up and fails with CommandTimedOut', async () => {
    const command = "echo pgid=$(ps -o pgid= -p $$ | tr -d ' '); sleep 60 & sleep 60";
    const result = await run({ command, detach: true, timeoutSeconds: 2, jobsDirectory }, 'detached-timeout');

    expect(result).toMatchObject({ status: 'FAILED', error: ExecErrorName.CommandTimedOut });
    const cause = causeOf(result);
    const pgid = /pgid=(\d+)/.exec(String(cause.outputTail))?.[1];
    expect(pgid).toBeDefined();
    const groups = execFileSync('ps', ['-e', '-o', 'pgid='], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim());
    expect(groups).not.toContain(pgid);
  });

  it('fails with JobLost when the container restarts under the job', async () => {
    const container = fake.world.clusters
      .find((c) => c.name === 'local')
      ?.tasks.find((t) => t.id === DEFAULT_WORLD_IDS.taskId)?.containers[0];
    if (!container) throw new Error('no container');
    const execution = run(
      { command: 'sleep 30', detach: true, jobsDirectory, pollIntervalSeconds: 2 },
      'detached-lost',
    );
    // Restart once the job runs (its directory exists).
    // Restart once the start's invocation has returned: the job runs on its own then.
    const deadline = Date.now() + 15_000;
    while (invocationMs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(jobsDirectory)).toHaveLength(1);
    const restart = restartContainer(container, { writableDirectories: [jobsDirectory] });
    expect(restart.killed.length).toBeGreaterThan(0);

    const result = await execution;
    expect(result).toMatchObject({ status: 'FAILED', error: ExecErrorName.JobLost });
    expect(causeOf(result).message).toMatch(/is gone|no exit status/);
  });

  it('a retried start with the same idempotency key starts one job', async () => {
    const marker = path.join(jobsDirectory, 'starts');
    const event = {
      command: `echo started >> ${marker}; sleep 1`,
      detach: true,
      jobsDirectory,
      idempotencyKey: 'once',
    };
    const first = (await invokeLambda('', { detachedJob: { step: 'start', event } })) as { job: JobState };
    const second = (await invokeLambda('', { detachedJob: { step: 'start', event } })) as { job: JobState };

    expect(second.job.jobId).toBe(first.job.jobId);
    expect(second.job.directory).toBe(first.job.directory);
    // Run the job to its end through the state machine, from the retried start's state.
    const result = await run({ continueJob: second.job }, 'detached-idempotent');
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { exitCode: 0, jobId: first.job.jobId } });
    expect(readFileSync(marker, 'utf8')).toBe('started\n');
  });

  it('a retried start with the same key finds the first job when the service now resolves to another task', async () => {
    const cluster = fake.world.clusters.find((c) => c.name === DEFAULT_WORLD_IDS.cluster);
    const first = cluster?.tasks.find((t) => t.id === DEFAULT_WORLD_IDS.taskId);
    if (cluster === undefined || first === undefined) throw new Error('no default task');
    // The service's healthy task is picked first; the second task takes that place before the retry.
    const second = addTask(fake.world, DEFAULT_WORLD_IDS.cluster, { service: DEFAULT_WORLD_IDS.service });
    const marker = path.join(jobsDirectory, 'starts');
    const event = {
      command: `echo started >> ${marker}; sleep 1`,
      service: DEFAULT_WORLD_IDS.service,
      detach: true,
      jobsDirectory,
      idempotencyKey: 'once-per-service',
    };
    try {
      const started = (await invokeLambda('', { detachedJob: { step: 'start', event } })) as {
        job: JobState;
      };
      expect(started.job.target.taskArn).toMatch(new RegExp(`${first.id}$`));
      first.healthStatus = 'UNKNOWN';
      second.healthStatus = 'HEALTHY';
      const retried = (await invokeLambda('', { detachedJob: { step: 'start', event } })) as {
        job: JobState;
      };

      expect(retried.job).toEqual(started.job);
      const result = await run({ continueJob: retried.job }, 'detached-idempotent-service');
      expect(result).toMatchObject({
        status: 'SUCCEEDED',
        output: { exitCode: 0, jobId: started.job.jobId },
      });
      expect(readFileSync(marker, 'utf8')).toBe('started\n');
      // A start after the job ended (its directory gone) still answers with that job, starting nothing.
      const late = (await invokeLambda('', { detachedJob: { step: 'start', event } })) as { job: JobState };
      expect(late.job.jobId).toBe(started.job.jobId);
      expect(readFileSync(marker, 'utf8')).toBe('started\n');
    } finally {
      first.healthStatus = 'HEALTHY';
      cluster.tasks = cluster.tasks.filter((t) => t !== second);
    }
  });

  it('needs an output bucket, and the state machine (a direct invocation with detach is refused)', async () => {
    const event = { command: 'true', cluster: 'local', service: 'web', detach: true };
    // Outside invokeLambda the function's environment (OUTPUT_BUCKET) is not applied.
    await expect(handler({ detachedJob: { step: 'start', event } }, lambdaContext())).rejects.toMatchObject({
      name: ExecErrorName.InvalidInput,
      message: expect.stringMatching(/need an output bucket/),
    });
    await expect(invokeLambda('', event)).rejects.toMatchObject({
      name: ExecErrorName.InvalidInput,
      message: expect.stringMatching(/runs through the run-one state machine/),
    });
  });

  it('answers a retried final poll again after the job directory was removed', async () => {
    const start = (await invokeLambda('', {
      detachedJob: { step: 'start', event: { command: 'printf twice', jobsDirectory } },
    })) as { job: JobState };
    let job = start.job;
    let answer: { done: boolean; job?: JobState; result?: ExecResult } = { done: false };
    const polls = await metricRecords(async () => {
      do {
        answer = (await invokeLambda('', { detachedJob: { step: 'poll', job } })) as typeof answer;
        if (answer.job) job = answer.job;
      } while (!answer.done);
    });
    expect(readdirSync(jobsDirectory)).toEqual([]);
    expect(polls.records).toEqual([
      expect.objectContaining({ Runs: 1, Failures: 0, NonZeroExitCodes: 0, OutputBytes: 5 }),
    ]);

    const replay = await metricRecords(
      async () => (await invokeLambda('', { detachedJob: { step: 'poll', job } })) as typeof answer,
    );
    const retried = replay.value;
    expect(retried).toEqual({ done: true, result: { ...answer.result, durationMs: expect.any(Number) } });
    expect(retried.result?.output).toBe('twice');
    // The job's end was counted by the poll that saw it; the replay adds nothing.
    expect(replay.records).toEqual([]);
  });

  it(`continues in a child execution after ${POLLS_PER_EXECUTION} polls, whose result becomes the execution's`, async () => {
    // The job ends only once the child execution has started: the parent cannot see it end.
    const gate = path.join(jobsDirectory, 'child-started');
    const start = (await invokeLambda('', {
      detachedJob: {
        step: 'start',
        event: {
          command: `while [ ! -f ${gate} ]; do sleep 0.1; done; echo generation; exit 3`,
          jobsDirectory,
        },
      },
    })) as { job: JobState };
    const children: unknown[] = [];
    const almostFull = {
      ...start.job,
      executionName: 'detached-continue',
      pollsThisExecution: POLLS_PER_EXECUTION - 1,
      drain: true,
    };

    // The child's NonZeroExit reaches the parent with its own name and cause.
    const result = await run({ continueJob: almostFull }, 'detached-continue', (input) => {
      children.push(input);
      writeFileSync(gate, '');
    });
    expect(children).toEqual([
      expect.objectContaining({
        continueJob: expect.objectContaining({ pollsThisExecution: POLLS_PER_EXECUTION }),
      }),
    ]);
    expect(result).toMatchObject({ status: 'FAILED', error: ExecErrorName.NonZeroExit });
    expect(causeOf(result)).toMatchObject({ exitCode: 3, outputTail: 'generation\n' });
  });
});
