/**
 * The transfer paths against the agent double at the real agent's pace: the same command through
 * `run()` with each `transfer` option, its wall time, the ratio to the plain path, the client's
 * CPU, and whether the output's SHA-256 is the command's own.
 */

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunCommandOptions, run } from '../lambda/ssm/run';
import type { Transfer, TransferRequest } from '../lambda/ssm/transfer/modes';
import type { AgentServer } from './e2e';

export interface TransferCase {
  readonly name: string;
  /** The command, as the user would pass it to run(). */
  readonly command: string;
  /** The same command run here, for its exact bytes. */
  readonly local: readonly [string, ...string[]];
  readonly paths: readonly TransferRequest[];
}

export interface TransferFigures {
  readonly path: TransferRequest;
  /** The path the result says ran. */
  readonly ran: Transfer;
  readonly seconds: number;
  readonly clientCpuSeconds: number;
  /** Seconds divided by the plain path's; undefined for the plain path itself. */
  readonly ratioToPlain: number | undefined;
  /** outputSha256 equals the local command's. */
  readonly exact: boolean;
}

export interface TransferReport {
  readonly bytes: number;
  readonly figures: readonly TransferFigures[];
}

const RUN_OPTIONS: RunCommandOptions = {
  tty: false,
  timeoutMs: 600_000,
  noProgressTimeoutMs: 600_000,
  outputLimitBytes: 64 * 1024,
};

async function runPath(
  server: AgentServer,
  testCase: TransferCase,
  path: TransferRequest,
  expectedSha256: string,
): Promise<Omit<TransferFigures, 'ratioToPlain'>> {
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await run(testCase.command, (prepared) => server.commandSession(prepared.command), {
    ...RUN_OPTIONS,
    transfer: path,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  if (result.exitCode !== 0) throw new Error(`${testCase.name} over ${path}: exit code ${result.exitCode}`);
  return {
    path,
    ran: result.transfer,
    seconds,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    exact: result.outputSha256 === expectedSha256,
  };
}

/**
 * Runs `testCase` over each of its paths, plain first. `concurrently` (quick mode) runs them side
 * by side: the figures then say nothing, but every path is exercised in about one session's time.
 */
export async function benchTransfer(
  server: AgentServer,
  testCase: TransferCase,
  concurrently = false,
): Promise<TransferReport> {
  const [program, ...args] = testCase.local;
  const bytes = execFileSync(program, args, { maxBuffer: 1024 * 1024 * 1024 });
  const expectedSha256 = createHash('sha256').update(bytes).digest('hex');
  const plain = await runPath(server, testCase, 'plain', expectedSha256);
  const withRatio = (figures: Omit<TransferFigures, 'ratioToPlain'>): TransferFigures => ({
    ...figures,
    ratioToPlain: figures.path === 'plain' ? undefined : figures.seconds / plain.seconds,
  });
  const others = testCase.paths.filter((path) => path !== 'plain');
  const figures: Omit<TransferFigures, 'ratioToPlain'>[] = [];
  if (concurrently) {
    figures.push(
      ...(await Promise.all(others.map((path) => runPath(server, testCase, path, expectedSha256)))),
    );
  } else {
    for (const path of others) figures.push(await runPath(server, testCase, path, expectedSha256));
  }
  return { bytes: bytes.length, figures: [plain, ...figures].map(withRatio) };
}

/** Inside the project, next to the other benchmarks' output (.gitignored). */
const BENCH_DIR = join(__dirname, '..', '.bench');

/** A file of random bytes under .bench, made once per size. */
function randomFile(bytes: number): string {
  const file = join(BENCH_DIR, `random-${bytes}.bin`);
  if (!existsSync(file)) {
    mkdirSync(BENCH_DIR, { recursive: true });
    writeFileSync(file, randomBytes(bytes));
  }
  return file;
}

type ReportedCase = TransferCase & {
  readonly targets: Readonly<Partial<Record<TransferRequest, string>>>;
};

/** The cases: 10 MB of `seq` output over every path, 5 MB of random bytes plain and auto. */
function transferCases(quick: boolean): readonly ReportedCase[] {
  // `seq 1 1500000` is the 10.9 MB the real-agent measurements used (real-agent-findings.md).
  const count = quick ? '2000' : '1500000';
  const random = randomFile(quick ? 20_000 : 5_000_000);
  const zstdOrXz = '<= 0.15 (zstd or xz)';
  return [
    {
      name: `seq 1 ${count}`,
      command: `seq 1 ${count}`,
      local: ['seq', '1', count],
      paths: ['plain', 'zstd', 'xz', 'gzip', 'auto'],
      targets: { zstd: zstdOrXz, xz: zstdOrXz, gzip: '<= 0.45' },
    },
    {
      // A file, not a pipe from /dev/urandom: every path must carry the same bytes.
      name: 'random bytes',
      command: `cat ${random}`,
      local: ['cat', random],
      paths: ['plain', 'auto'],
      targets: { auto: '<= 1.05' },
    },
  ];
}

function printReport(
  testCase: ReportedCase,
  report: TransferReport,
  line: (name: string, value: string, target: string) => void,
): void {
  const what = `transfer: ${testCase.name} (${(report.bytes / 1e6).toFixed(report.bytes < 1e6 ? 3 : 1)} MB)`;
  for (const figures of report.figures) {
    const ran = figures.ran === figures.path ? '' : ` -> ${figures.ran}`;
    const exact = figures.exact ? ', exact' : ', NOT EXACT';
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
}

/**
 * Runs and prints every case with `line(name, value, target)`. `quick` uses small sizes and runs
 * the paths side by side, to exercise them in about one session's time.
 */
export async function reportTransfer(
  server: AgentServer,
  quick: boolean,
  line: (name: string, value: string, target: string) => void,
): Promise<void> {
  for (const testCase of transferCases(quick))
    printReport(testCase, await benchTransfer(server, testCase, quick), line);
}
