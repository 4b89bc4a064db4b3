/**
 * The transfer paths against the agent double at the real agent's pace: the same command through
 * `run()` with each `transfer` option, its wall time, the ratio to the plain path, the client's
 * CPU, and whether the output's SHA-256 is the command's own.
 *
 * The option arrived with the compressed output channel; a `run()` whose results carry no
 * `transfer` field predates it, and then only the plain path is measured.
 */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type RunCommandOptions, type RunResult, run } from '../lambda/ssm/run';
import type { AgentServer } from './e2e';

export type TransferPath = 'plain' | 'auto' | 'zstd' | 'xz' | 'gzip';

/** What the compressed output channel adds to run()'s options and results. */
interface TransferOptions {
  readonly transfer: TransferPath;
}
interface TransferResult {
  readonly transfer?: string;
  readonly outputSha256?: string;
}

export interface TransferCase {
  readonly name: string;
  /** The command, as the user would pass it to run(). */
  readonly command: string;
  /** The same command run here, for its exact bytes. */
  readonly local: readonly [string, ...string[]];
  readonly paths: readonly TransferPath[];
}

export interface TransferFigures {
  readonly path: TransferPath;
  /** The path the result says ran; undefined before the compressed channel existed. */
  readonly ran: string | undefined;
  readonly seconds: number;
  readonly clientCpuSeconds: number;
  /** Seconds divided by the plain path's; undefined for the plain path itself. */
  readonly ratioToPlain: number | undefined;
  /** outputSha256 equals the local command's; undefined when the result has no outputSha256. */
  readonly exact: boolean | undefined;
}

export interface TransferReport {
  readonly bytes: number;
  readonly figures: readonly TransferFigures[];
  /** Set when the compressed paths were skipped, saying why. */
  readonly note?: string;
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
  path: TransferPath,
  expectedSha256: string,
): Promise<Omit<TransferFigures, 'ratioToPlain'>> {
  const options = { ...RUN_OPTIONS, transfer: path } satisfies RunCommandOptions & TransferOptions;
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result: RunResult & TransferResult = await run(
    testCase.command,
    (prepared) => server.commandSession(prepared.command),
    options,
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  if (result.exitCode !== 0) throw new Error(`${testCase.name} over ${path}: exit code ${result.exitCode}`);
  return {
    path,
    ran: result.transfer,
    seconds,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    exact: result.outputSha256 === undefined ? undefined : result.outputSha256 === expectedSha256,
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
  if (plain.ran === undefined) {
    return {
      bytes: bytes.length,
      figures: [withRatio(plain)],
      note: 'run() has no `transfer` option yet (results carry no `transfer`): compressed paths skipped',
    };
  }
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
