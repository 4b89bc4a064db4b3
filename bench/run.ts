/** `npm run bench`: prints the performance figures; targets are in the README, not in tests. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchBundle } from './bundle';
import { benchCodec } from './codec';
import { AgentServer, benchEndToEnd } from './e2e';
import { benchPacedCpu } from './paced';
import { benchTransfer, type TransferCase, type TransferReport } from './transfer';

const MIB = 1024 * 1024;
const BENCH_DIR = join(__dirname, '..', '.bench');
/** BENCH_QUICK=1 runs every benchmark on small sizes (the README test uses it to exercise `npm run bench`). */
const QUICK = process.env.BENCH_QUICK === '1';
const E2E_BYTES = QUICK ? MIB : 10 * MIB;
const E2E_LABEL = QUICK ? '1 MiB (quick)' : '10 MiB';
const MEMORY_BYTES = QUICK ? 5_000_000 : 200_000_000;
const MEMORY_LABEL = QUICK ? '5 MB (quick)' : '200 MB';
const PACED_BYTES = QUICK ? 256 * 1024 : 10 * MIB;
const PACED_LABEL = QUICK ? '256 KiB (quick)' : '10 MiB';
/** `seq 1 1500000` is the 10.9 MB the real-agent measurements used (real-agent-findings.md). */
const SEQ_COUNT = QUICK ? '2000' : '1500000';
const RANDOM_BYTES = QUICK ? '20000' : '5000000';
const TRANSFER_CASES: readonly (TransferCase & { readonly targets: Readonly<Record<string, string>> })[] = [
  {
    name: `seq 1 ${SEQ_COUNT}`,
    command: `seq 1 ${SEQ_COUNT}`,
    local: ['seq', '1', SEQ_COUNT],
    paths: ['plain', 'zstd', 'xz', 'gzip', 'auto'],
    targets: { zstd: '<= 0.15 (zstd or xz)', xz: '<= 0.15 (zstd or xz)', gzip: '<= 0.45' },
  },
  {
    // A file, not a pipe from /dev/urandom: every path must carry the same bytes.
    name: `${RANDOM_BYTES} random bytes`,
    command: `cat ${randomFile(Number(RANDOM_BYTES))}`,
    local: ['cat', randomFile(Number(RANDOM_BYTES))],
    paths: ['plain', 'auto'],
    targets: { auto: '<= 1.05' },
  },
];

/** A file of random bytes under .bench, made once per size. */
function randomFile(bytes: number): string {
  const file = join(BENCH_DIR, `random-${bytes}.bin`);
  if (!existsSync(file)) {
    mkdirSync(BENCH_DIR, { recursive: true });
    writeFileSync(file, randomBytes(bytes));
  }
  return file;
}

function printTransfer(testCase: (typeof TRANSFER_CASES)[number], report: TransferReport): void {
  const what = `transfer: ${testCase.name} (${(report.bytes / 1e6).toFixed(report.bytes < 1e6 ? 3 : 1)} MB)`;
  for (const figures of report.figures) {
    const ran = figures.ran === undefined || figures.ran === figures.path ? '' : ` -> ${figures.ran}`;
    const exact = figures.exact === undefined ? '' : figures.exact ? ', exact' : ', NOT EXACT';
    line(
      `${what}, ${figures.path}${ran}: time (client CPU ${figures.clientCpuSeconds.toFixed(2)} s${exact})`,
      `${figures.seconds.toFixed(2)} s`,
      '(info)',
    );
    if (figures.ratioToPlain !== undefined)
      line(
        `${what}, ${figures.path}: time / plain`,
        `${figures.ratioToPlain.toFixed(2)}x`,
        testCase.targets[figures.path] ?? '(info)',
      );
  }
  if (report.note !== undefined) console.log(`${what}: ${report.note}`);
}

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
    for (const bundleAwsSdk of [false, true]) {
      const bundle = await benchBundle(bundleAwsSdk);
      const what = `handler bundle, AWS SDK ${bundle.sdk}`;
      line(
        `${what}: size`,
        `${(bundle.bytes / 1024).toFixed(1)} KiB`,
        bundleAwsSdk ? '(info)' : '<= 150 KiB',
      );
      line(`${what}: cold import`, `${bundle.coldImportMs.toFixed(0)} ms`, '<= 150 ms');
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
  if (!only || only === 'paced' || only === 'transfer') {
    // Against the double with the real agent's pacing: 1 s before the first read, 1 KiB per frame, >= 1 ms apart.
    const server = await AgentServer.start();
    try {
      if (!only || only === 'paced') {
        const paced = await benchPacedCpu(server, PACED_BYTES);
        line(
          `real agent pace: ${PACED_LABEL}, wall time (${paced.megabytesPerSecond.toFixed(2)} MB/s)`,
          `${paced.seconds.toFixed(1)} s`,
          '(info)',
        );
        line(
          `real agent pace: ${PACED_LABEL}, client CPU (${paced.clientSystemCpuSeconds.toFixed(2)} s in the kernel)`,
          `${paced.clientCpuSeconds.toFixed(2)} s`,
          '(info)',
        );
        line(
          'real agent pace: client CPU per MiB / the plugin’s (1.90 s per 10 MiB)',
          `${paced.ratioToPlugin.toFixed(2)}x`,
          '<= 1.0',
        );
      }
      if (!only || only === 'transfer') {
        for (const testCase of TRANSFER_CASES)
          printTransfer(testCase, await benchTransfer(server, testCase, QUICK));
      }
    } finally {
      await server.stop();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
