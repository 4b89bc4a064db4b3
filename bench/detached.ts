/**
 * Detached jobs against the agent double (real pty, real processes, in this process):
 *
 * - a poll's end-to-end cost (one exec session running the poll script, parse, store) with the real
 *   agent's timings, including its 1 s sleep before the first read;
 * - draining a large output file through polls (8 MiB per poll, gzip+base64 in the container),
 *   versus an attached run printing the same file, both with the double's artificial delays off.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type JobPorts, pollJob, startJob } from '../lambda/detach/job';
import type { JobState } from '../lambda/detach/job-state';
import type { ExecRequest } from '../lambda/event';
import { CallbackSink } from '../lambda/ssm/output';
import { run } from '../lambda/ssm/run';
import { type AgentTimingOptions, DEFAULT_TIMING, MessageGatewayDouble } from '../local/agent-double';

/** The double with none of the agent's artificial delays (as the end-to-end benchmark runs it). */
const NO_DELAYS: AgentTimingOptions = { initialReadDelayMs: 0, interChunkDelayMs: 0 };
const SCRIPT_TIMEOUT_MS = 600_000;

function portsFor(gateway: MessageGatewayDouble, timing: AgentTimingOptions): JobPorts {
  return {
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
    now: () => Date.now(),
    checkTarget: async () => undefined,
    putChunk: async () => undefined,
    saveEnding: async () => undefined,
    loadEnding: async () => undefined,
    finishOutput: async () => ({ uri: 'memory://', head: Buffer.alloc(0), tail: Buffer.alloc(0) }),
    runScript: async (script, input) => {
      const parts: Buffer[] = [];
      const result = await run(
        script,
        async (prepared) => gateway.createSession({ command: prepared.command, timing }),
        {
          shell: true,
          tty: false,
          ...input,
          transfer: 'plain',
          timeoutMs: SCRIPT_TIMEOUT_MS,
          outputLimitBytes: 1024,
          sink: new CallbackSink((chunk) => parts.push(chunk)),
        },
      );
      return { output: Buffer.concat(parts).toString('utf8'), sessionId: result.sessionId };
    },
  };
}

function request(command: string): ExecRequest {
  return {
    command,
    cluster: 'bench',
    target: { kind: 'task', task: '0123456789abcdef0123456789abcdef' },
    shell: true,
    tty: false,
    timeoutSeconds: 3600,
    outputLimitBytes: 200_000,
    stripAnsi: false,
    failOnNonZeroExit: true,
    transfer: 'auto',
  };
}

async function start(ports: JobPorts, jobsDirectory: string, command: string): Promise<JobState> {
  return startJob(
    {
      request: request(command),
      target: { cluster: 'bench', clusterArn: 'bench', taskArn: 'task/bench/x', container: 'app' },
      jobsDirectory,
      pollIntervalSeconds: null,
      outputBucket: 'bench',
      outputPrefix: '',
      keepFiles: false,
    },
    ports,
  );
}

export interface PollCostFigures {
  readonly medianSeconds: number;
  readonly samples: readonly number[];
}

/** Polls a running job that prints a line a second, with the real agent's timings. */
export async function benchPollCost(samples: number): Promise<PollCostFigures> {
  const gateway = await MessageGatewayDouble.start();
  const jobs = mkdtempSync(path.join(tmpdir(), 'bench-poll-'));
  try {
    const ports = portsFor(gateway, DEFAULT_TIMING);
    let job = await start(ports, jobs, 'while :; do date; sleep 1; done');
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const begun = process.hrtime.bigint();
      const outcome = await pollJob(job, ports);
      times.push(Number(process.hrtime.bigint() - begun) / 1e9);
      if (outcome.done) throw new Error('the job ended');
      job = outcome.job;
    }
    execFileSync('/bin/sh', ['-c', `kill -KILL -$(cut -d' ' -f2 ${job.directory}/pid)`]);
    const sorted = [...times].sort((a, b) => a - b);
    return { medianSeconds: sorted[Math.floor(sorted.length / 2)] ?? 0, samples: times };
  } finally {
    await gateway.close();
    rmSync(jobs, { recursive: true, force: true });
  }
}

export interface DrainFigures {
  readonly bytes: number;
  readonly polls: number;
  readonly detachedMegabytesPerSecond: number;
  readonly attachedMegabytesPerSecond: number;
}

/** Writes `bytes` of `seq` output (log-like text) to a file; returns its path and exact size. */
function seqFile(directory: string, bytes: number): { readonly file: string; readonly bytes: number } {
  const file = path.join(directory, 'output.txt');
  execFileSync('/bin/sh', ['-c', `seq 1 100000000 | head -c ${bytes} > ${file}`]);
  return { file, bytes: statSync(file).size };
}

/** Drains a `bytes`-long output through polls, and prints the same file in one attached run. */
export async function benchDrain(bytes: number): Promise<DrainFigures> {
  const gateway = await MessageGatewayDouble.start();
  const directory = mkdtempSync(path.join(tmpdir(), 'bench-drain-'));
  try {
    const source = seqFile(directory, bytes);
    const ports = portsFor(gateway, NO_DELAYS);
    const runAttached = () =>
      run(
        `cat ${source.file}`,
        async (prepared) => gateway.createSession({ command: prepared.command, timing: NO_DELAYS }),
        {
          shell: true,
          tty: false,
          timeoutMs: SCRIPT_TIMEOUT_MS,
          outputLimitBytes: 256 * 1024,
          terminalSize: null,
        },
      );
    // Both sides are measured warm: the first session in a process pays for JIT compilation of
    // the whole client (see the e2e bench's cold figure), which would favour whichever runs second.
    await runAttached();
    let job = await start(ports, directory, `cat ${source.file}`);
    // Let the job copy its output first: the figure is the drain, not the job.
    while (statSync(path.join(job.directory, 'out')).size < source.bytes)
      await new Promise((r) => setTimeout(r, 50));
    let polls = 0;
    const drainStarted = process.hrtime.bigint();
    for (;;) {
      polls += 1;
      const outcome = await pollJob(job, ports);
      job = outcome.job;
      if (outcome.done) break;
    }
    const drainSeconds = Number(process.hrtime.bigint() - drainStarted) / 1e9;
    if (job.offset !== source.bytes) throw new Error(`drained ${job.offset} of ${source.bytes} bytes`);

    const attachedStarted = process.hrtime.bigint();
    const attached = await runAttached();
    const attachedSeconds = Number(process.hrtime.bigint() - attachedStarted) / 1e9;
    if (attached.outputBytes !== source.bytes)
      throw new Error(`attached: ${attached.outputBytes} of ${source.bytes} bytes`);
    return {
      bytes: source.bytes,
      polls,
      detachedMegabytesPerSecond: source.bytes / 1e6 / drainSeconds,
      attachedMegabytesPerSecond: source.bytes / 1e6 / attachedSeconds,
    };
  } finally {
    await gateway.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
