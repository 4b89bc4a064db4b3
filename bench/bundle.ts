/**
 * Lambda packaging, measured: each candidate of `LambdaPackaging` is built the way the package
 * builds it, then started in fresh node processes, round-robin, and timed from the spawn until
 * its first ExecuteCommand request reaches a local stand-in for the ECS API (the handler invoked
 * on a valid event; everything the runtime would do before the command starts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_ENTRY_FILE, HANDLER_ENTRY, type LambdaPackaging, lambdaBuildOptions } from '../lib/bundling';

/** Inside the project so that an external AWS SDK resolves from node_modules, as the runtime provides it. */
const OUT_DIR = join(__dirname, '..', '.bench', 'packaging');
export const PACKAGINGS: readonly LambdaPackaging[] = ['sdk-external', 'sdk-bundled', 'split'];
const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const CLUSTER = 'bench';
const TASK_ID = '0123456789abcdef0123456789abcdef';
const REGION = 'us-east-1';
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:111122223333:cluster/${CLUSTER}`;
const TASK_ARN = `arn:aws:ecs:${REGION}:111122223333:task/${CLUSTER}/${TASK_ID}`;
/** A child that never reaches ExecuteCommand is a broken build: fail instead of waiting. */
const CHILD_TIMEOUT_MS = 30_000;

export interface PackagingFigures {
  readonly packaging: LambdaPackaging;
  /** Every file of the bundle. */
  readonly totalBytes: number;
  /** What node reads before the handler runs: the entry file and its static imports. */
  readonly startupBytes: number;
  /** Median milliseconds from spawning node to the first ExecuteCommand request. */
  readonly coldStartMs: number;
}

/** Answers DescribeClusters/DescribeTasks like ECS does for a RUNNING exec-enabled task and reports ExecuteCommand. */
class EcsStandIn {
  private waiter: ((at: number) => void) | undefined;
  private readonly server = createServer((req, res) => this.answer(req, res));

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves with `performance.now()` at the moment the next ExecuteCommand request arrives. */
  nextExecuteCommand(): Promise<number> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const operation = String(req.headers['x-amz-target'] ?? '').replace(ECS_TARGET_PREFIX, '');
    req.resume();
    req.on('end', () => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (operation === 'ExecuteCommand') {
        this.waiter?.(performance.now());
        this.waiter = undefined;
        // Denied: the handler fails fast with ExecuteCommandDenied and the process exits.
        reply(400, { __type: 'AccessDeniedException', message: 'benchmark stand-in' });
      } else if (operation === 'DescribeClusters') {
        reply(200, {
          clusters: [{ clusterArn: CLUSTER_ARN, clusterName: CLUSTER, status: 'ACTIVE' }],
          failures: [],
        });
      } else if (operation === 'DescribeTasks') {
        reply(200, {
          tasks: [
            {
              taskArn: TASK_ARN,
              clusterArn: CLUSTER_ARN,
              lastStatus: 'RUNNING',
              enableExecuteCommand: true,
              containers: [
                {
                  name: 'app',
                  runtimeId: `${TASK_ID}-1`,
                  lastStatus: 'RUNNING',
                  managedAgents: [{ name: 'ExecuteCommandAgent', lastStatus: 'RUNNING' }],
                },
              ],
            },
          ],
          failures: [],
        });
      } else {
        reply(400, { __type: 'UnknownOperationException', message: operation });
      }
    });
  }
}

async function buildPackaging(packaging: LambdaPackaging): Promise<{ entry: string; metafile: Metafile }> {
  const outdir = join(OUT_DIR, packaging);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({ ...lambdaBuildOptions(HANDLER_ENTRY, outdir, packaging), metafile: true });
  return { entry: join(outdir, BUNDLE_ENTRY_FILE), metafile: result.metafile };
}

/** Bytes of `entry` and every output it imports statically (what loads before the handler runs). */
function startupBytes(metafile: Metafile, entry: string): number {
  const cwdRelative = (file: string): string => relative(process.cwd(), file);
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(cwdRelative(entry));
  return [...seen].reduce((sum, file) => sum + (metafile.outputs[file]?.bytes ?? 0), 0);
}

/** One fresh process: spawn → import the bundle → handler(valid event) → first ExecuteCommand. */
async function coldStart(ecs: EcsStandIn, endpoint: string, entry: string): Promise<number> {
  const script = [
    `const { handler } = await import(${JSON.stringify(pathToFileURL(entry).href)});`,
    `const context = { awsRequestId: 'bench', functionName: 'bench', getRemainingTimeInMillis: () => 900000 };`,
    `await handler({ command: 'true', cluster: '${CLUSTER}', task: '${TASK_ID}' }, context).catch((e) => { if (process.env.BENCH_DEBUG) console.error(e); });`,
  ].join('\n');
  const arrived = ecs.nextExecuteCommand();
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    // The SDK's NodeVersionSupportWarning on Node 20 would print once per start.
    stdio: ['ignore', 'ignore', process.env.BENCH_DEBUG ? 'inherit' : 'ignore'],
    env: {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'AKIDBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      AWS_LAMBDA_FUNCTION_NAME: 'bench',
      ...(process.env.BENCH_DEBUG ? { BENCH_DEBUG: '1' } : {}),
    },
  });
  const exited = once(child, 'exit');
  let timer: NodeJS.Timeout | undefined;
  try {
    const at = await Promise.race([
      arrived,
      exited.then(() => Promise.reject(new Error(`${entry} exited before calling ExecuteCommand`))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${entry}: no ExecuteCommand in time`)), CHILD_TIMEOUT_MS);
      }),
    ]);
    return at - started;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill();
    await exited.catch(() => undefined);
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** Builds every packaging, then starts them round-robin `rounds` times (so load drifts hit all alike). */
export async function benchPackaging(rounds: number): Promise<PackagingFigures[]> {
  const builds = await Promise.all(PACKAGINGS.map(buildPackaging));
  const ecs = new EcsStandIn();
  const endpoint = await ecs.start();
  const times: number[][] = PACKAGINGS.map(() => []);
  try {
    // One unmeasured start each: the first read of a file from disk is not a cold Lambda's cost.
    for (const { entry } of builds) await coldStart(ecs, endpoint, entry);
    for (let round = 0; round < rounds; round++) {
      for (const [i, { entry }] of builds.entries()) times[i]?.push(await coldStart(ecs, endpoint, entry));
    }
  } finally {
    await ecs.close();
  }
  return PACKAGINGS.map((packaging, i) => {
    const { entry, metafile } = builds[i] as (typeof builds)[number];
    return {
      packaging,
      totalBytes: Object.values(metafile.outputs).reduce((sum, output) => sum + output.bytes, 0),
      startupBytes: startupBytes(metafile, entry),
      coldStartMs: median(times[i] ?? []),
    };
  });
}
