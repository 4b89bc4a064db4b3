/**
 * The job steps against an in-memory container (a fake JobPorts that answers the scripts the way
 * the container's shell does): the state's size under many polls, adaptive waits, tolerated
 * failures, loss, and the timeout's stop.
 */
import { STATE_PAYLOAD_LIMIT_BYTES } from '../../lambda/contract';
import { type JobPorts, MAX_FAILED_POLLS, pollJob } from '../../lambda/detach/job';
import { finishResult, outputText } from '../../lambda/detach/job-result';
import { ADAPTIVE_MAX_WAIT_SECONDS, JOB_STATE_VERSION, type JobState } from '../../lambda/detach/job-state';
import { AgentNotReady, JobLost, SessionFailed, TargetNotFound } from '../../lambda/errors';

/** What the container holds for the job, and what the fake does when a script runs. */
interface FakeContainer {
  output: Buffer;
  alive: boolean;
  exitCode: number | null;
  stopped: boolean;
  failNext: Error[];
  scripts: string[];
}

function fakePorts(
  container: FakeContainer,
  clock: { now: number },
): JobPorts & { chunks: Map<number, Buffer> } {
  const chunks = new Map<number, Buffer>();
  return {
    chunks,
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
    now: () => clock.now,
    checkTarget: async () => undefined,
    putChunk: async (offset, bytes) => {
      chunks.set(offset, Buffer.from(bytes));
    },
    finishOutput: async () => ({ uri: 's3://b/k', head: Buffer.alloc(0), tail: Buffer.alloc(0) }),
    saveEnding: async () => undefined,
    loadEnding: async () => undefined,
    runScript: async (script) => {
      container.scripts.push(script);
      const failure = container.failNext.shift();
      if (failure) throw failure;
      if (script.includes('kill -TERM')) {
        container.stopped = true;
        container.alive = false;
        return { output: 'ecs-exec-job state=stopped killed=0\n', sessionId: 's' };
      }
      const off = Number(/off=(\d+)/.exec(script)?.[1]);
      const max = Number(/max=(\d+)/.exec(script)?.[1]);
      const chunk = container.output.subarray(off, off + max);
      const status = `ecs-exec-job state=present alive=${container.alive ? 1 : 0} group=0 rc=${container.exitCode ?? '-'} size=${container.output.length} count=${chunk.length} enc=base64 stop=${container.stopped ? 1 : 0}\n`;
      const data =
        chunk.length > 0
          ? `ecs-exec-job data-begin\n${chunk.toString('base64')}\necs-exec-job data-end\n`
          : '';
      return { output: status + data, sessionId: 's' };
    },
  };
}

function newJob(overrides: Partial<JobState> = {}): JobState {
  return {
    version: JOB_STATE_VERSION,
    jobId: `job-${'0'.repeat(32)}`,
    directory: `/tmp/ecs-exec-runner/job-${'0'.repeat(32)}`,
    target: {
      cluster: 'prod',
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef',
      container: 'app',
    },
    sessionId: 'ecs-execute-command-0123456789abcdef0',
    startedAt: new Date(0).toISOString(),
    deadlineMs: 7 * 24 * 3600 * 1000,
    pollIntervalSeconds: null,
    waitSeconds: 5,
    offset: 0,
    polls: 0,
    pollsThisExecution: 0,
    generation: 0,
    failedPolls: 0,
    output: {
      bucket: 'bucket',
      keyPrefix: 'exec-output/2026-12-07/prod/task/job/',
      limitBytes: 200_000,
      stripAnsi: true,
    },
    failOnNonZeroExit: true,
    keepFiles: false,
    stopGraceSeconds: 10,
    drain: false,
    ...overrides,
  };
}

const running = (): FakeContainer => ({
  output: Buffer.alloc(0),
  alive: true,
  exitCode: null,
  stopped: false,
  failNext: [],
  scripts: [],
});

describe('detached job steps', () => {
  it('keeps the state small and of constant size over 10,000 polls, with adaptive waits up to 60 s', async () => {
    const container = running();
    const clock = { now: 0 };
    const ports = fakePorts(container, clock);
    let job = newJob();
    const sizes = new Set<number>();
    const waits: number[] = [];
    for (let poll = 0; poll < 10_000; poll++) {
      container.output = Buffer.concat([container.output, Buffer.from(`line ${poll}\n`)]);
      const outcome = await pollJob(job, ports);
      if (outcome.done) throw new Error('the job ended early');
      job = outcome.job;
      waits.push(job.waitSeconds);
      clock.now += job.waitSeconds * 1000;
      sizes.add(Buffer.byteLength(JSON.stringify({ done: false, job })));
    }
    expect(job.polls).toBe(10_000);
    expect(job.offset).toBe(container.output.length);
    // Only the digits of the counters and the offset change the size.
    expect(Math.max(...sizes)).toBeLessThan(2_048);
    expect(Math.max(...sizes) * 100).toBeLessThan(STATE_PAYLOAD_LIMIT_BYTES);
    expect(waits.slice(0, 6)).toEqual([8, 12, 18, 27, 41, 60]);
    expect(Math.max(...waits)).toBe(ADAPTIVE_MAX_WAIT_SECONDS);
  });

  it('tolerates unreachable polls up to a limit, then reports the failure', async () => {
    const container = running();
    const ports = fakePorts(container, { now: 0 });
    let job = newJob();
    container.failNext = Array.from({ length: MAX_FAILED_POLLS }, () => new AgentNotReady('starting'));
    for (let i = 0; i < MAX_FAILED_POLLS; i++) {
      const outcome = await pollJob(job, ports);
      if (outcome.done) throw new Error('ended');
      job = outcome.job;
    }
    expect(job.failedPolls).toBe(MAX_FAILED_POLLS);
    container.failNext = [new SessionFailed('dropped')];
    await expect(pollJob(job, ports)).rejects.toBeInstanceOf(SessionFailed);
  });

  it('reports JobLost when the task stops, and a lost ending when the process left no status', async () => {
    const container = running();
    const ports = fakePorts(container, { now: 0 });
    const stoppedTask = {
      ...ports,
      checkTarget: async () => Promise.reject(new TargetNotFound('task STOPPED')),
    };
    await expect(pollJob(newJob(), stoppedTask)).rejects.toBeInstanceOf(JobLost);

    container.alive = false;
    container.output = Buffer.from('partial\n');
    const outcome = await pollJob(newJob(), ports);
    expect(outcome).toMatchObject({ done: true, result: { kind: 'lost' } });
    expect(() =>
      finishResult(
        outcome.job,
        { kind: 'lost', why: 'gone' },
        { uri: 's3://b/k', head: container.output, tail: Buffer.alloc(0) },
        0,
      ),
    ).toThrow(JobLost);
  });

  it('stops the job once its deadline passed, then ends as stopped with the rest of the output', async () => {
    const container = running();
    container.output = Buffer.from('working\n');
    const clock = { now: 10_000 };
    const outcome = await pollJob(newJob({ deadlineMs: 5_000 }), fakePorts(container, clock));

    expect(container.scripts[0]).toContain('kill -TERM -"$pgid"');
    expect(outcome).toMatchObject({ done: true, result: { kind: 'stopped', reason: 'timeout' } });
    expect(outcome.job.offset).toBe(8);
  });

  it('gives head + notice + tail for output above the limit, every byte counted', () => {
    const job = newJob({ offset: 1_000, output: { ...newJob().output, limitBytes: 256 } });
    const text = outputText(job, { head: Buffer.alloc(128, 'a'), tail: Buffer.alloc(128, 'z') });
    expect(text).toBe(
      `${'a'.repeat(128)}\n[ecs-exec-runner: 744 bytes of output omitted]\n${'z'.repeat(128)}`,
    );
  });
});
