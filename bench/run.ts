/** `npm run bench`: prints the performance figures; targets are in the README, not in tests. */
import { SHIPPED_PACKAGING } from '../lib/bundling';
import { benchPackaging } from './bundle';
import { benchCodec } from './codec';
import { benchDrain, benchPollCost } from './detached';
import { AgentServer, benchEndToEnd } from './e2e';
import { benchFanOut } from './fan-out';
import { reportPacedCpu } from './paced';
import { reportTransfer } from './transfer';

const MIB = 1024 * 1024;
/** BENCH_QUICK=1 runs every benchmark on small sizes (the README test uses it to exercise `npm run bench`). */
const QUICK = process.env.BENCH_QUICK === '1';
const E2E_BYTES = QUICK ? MIB : 10 * MIB;
const E2E_LABEL = QUICK ? '1 MiB (quick)' : '10 MiB';
const MEMORY_BYTES = QUICK ? 5_000_000 : 200_000_000;
const MEMORY_LABEL = QUICK ? '5 MB (quick)' : '200 MB';
const DRAIN_BYTES = QUICK ? 5_000_000 : 100_000_000;
const DRAIN_LABEL = QUICK ? '5 MB (quick)' : '100 MB';
const POLL_SAMPLES = QUICK ? 1 : 5;
/** Fleet sizes and concurrencies of the fan-out bench (the suite's own case is 300 tasks, 10 at a time). */
const FAN_OUT_CASES = QUICK
  ? [{ tasks: 30, maxConcurrency: 10 }]
  : [
      { tasks: 300, maxConcurrency: 10 },
      { tasks: 1000, maxConcurrency: 10 },
      { tasks: 1000, maxConcurrency: 50 },
    ];
/** Fresh processes per packaging; the median is reported. */
const COLD_START_ROUNDS = 15;
/** The shipped Lambda packaging must start at least this much faster than the SDK-external single file. */
const COLD_START_TARGET_RATIO = 0.6;

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

function line(name: string, value: string, target: string): void {
  console.log(`${name.padEnd(58)} ${value.padStart(14)}   target ${target}`);
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'codec') {
    const codec = benchCodec(QUICK ? 20_000 : undefined);
    line(
      'codec: decode+validate+ack of 1 KiB frames',
      `${Math.round(codec.framesPerSecond)} /s`,
      '>= 100000 /s',
    );
  }
  if (!only || only === 'bundle') {
    const figures = await benchPackaging(QUICK ? 1 : COLD_START_ROUNDS);
    const today = figures.find((f) => f.packaging === 'sdk-external');
    for (const f of figures) {
      const what = `handler bundle, ${f.packaging}${f.packaging === SHIPPED_PACKAGING ? ' (shipped)' : ''}`;
      line(`${what}: size (at start)`, `${kib(f.totalBytes)} (${kib(f.startupBytes)})`, '(info)');
      const ratio = today ? f.coldStartMs / today.coldStartMs : 1;
      line(
        `${what}: cold start to ExecuteCommand`,
        `${f.coldStartMs.toFixed(0)} ms ${ratio.toFixed(2)}x`,
        f.packaging === SHIPPED_PACKAGING ? `<= ${COLD_START_TARGET_RATIO}x sdk-external` : '(info)',
      );
    }
  }
  if (!only || only === 'e2e' || only === 'memory') {
    const server = await AgentServer.start();
    try {
      // The first session in a process pays for JIT compilation (mostly inside ws); it is reported
      // for information, and the target applies to the next, warm session (a warm Lambda's case).
      const first = await benchEndToEnd(server, E2E_BYTES);
      if (!only || only === 'e2e') {
        line(
          `end to end: ${E2E_LABEL}, first session (cold JIT)`,
          `${first.megabytesPerSecond.toFixed(1)} MB/s`,
          '(info)',
        );
        const e2e = await benchEndToEnd(server, E2E_BYTES);
        line(
          `end to end: ${E2E_LABEL}, client throughput`,
          `${e2e.megabytesPerSecond.toFixed(1)} MB/s`,
          '>= 30 MB/s',
        );
        line(`end to end: ${E2E_LABEL}, client CPU`, `${e2e.clientCpuSeconds.toFixed(2)} s`, '<= 0.5 s');
        line(`end to end: ${E2E_LABEL}, agent double CPU`, `${e2e.agentCpuSeconds.toFixed(2)} s`, '(info)');
      }
      if (!only || only === 'memory') {
        const memory = await benchEndToEnd(server, MEMORY_BYTES);
        line(
          `memory: ${MEMORY_LABEL} through the 256 KiB default sink, peak RSS`,
          `${memory.peakRssMb.toFixed(0)} MB`,
          '<= 150 MB',
        );
        line(
          `memory: ${MEMORY_LABEL}, client throughput`,
          `${memory.megabytesPerSecond.toFixed(1)} MB/s`,
          '(info)',
        );
      }
    } finally {
      await server.stop();
    }
  }
  if (!only || only === 'detached') {
    const poll = await benchPollCost(POLL_SAMPLES);
    line(
      'detached: one poll, real agent timings (1 s first read)',
      `${poll.medianSeconds.toFixed(2)} s`,
      '<= 1.5 s',
    );
    const drain = await benchDrain(DRAIN_BYTES);
    line(
      `detached: drain ${DRAIN_LABEL} of seq output (${drain.polls} polls)`,
      `${drain.detachedMegabytesPerSecond.toFixed(1)} MB/s`,
      '>= attached',
    );
    line(
      `detached: the same output attached (one session)`,
      `${drain.attachedMegabytesPerSecond.toFixed(1)} MB/s`,
      '(info)',
    );
  }
  if (!only || only === 'paced' || only === 'transfer') {
    // The double with the real agent's pacing: 1 s before the first read, 1 KiB frames >= 1 ms apart.
    const server = await AgentServer.start();
    try {
      if (!only || only === 'paced') await reportPacedCpu(server, QUICK, line);
      if (!only || only === 'transfer') await reportTransfer(server, QUICK, line);
    } finally {
      await server.stop();
    }
  }
  if (!only || only === 'fan-out') {
    for (const figure of await benchFanOut(FAN_OUT_CASES)) {
      const what = `fan-out: ${figure.tasks} scripted tasks, ${figure.maxConcurrency} at a time`;
      line(`${what}, wall`, `${figure.seconds.toFixed(1)} s`, '(info)');
      line(`${what}, tasks/s`, figure.tasksPerSecond.toFixed(1), '(info)');
      line(`${what}, peak sessions`, String(figure.peakSessions), `= ${figure.maxConcurrency}`);
      line(`${what}, succeeded`, String(figure.succeeded), `= ${figure.tasks}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
