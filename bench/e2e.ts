import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { runSession } from '../lambda/ssm/run';
import type { SessionEndpoint } from '../lambda/ssm/types';
import type { AgentServerRequest, Pacing, ScriptSession } from './agent-server';

export interface EndToEndFigures {
  readonly bytes: number;
  readonly seconds: number;
  readonly megabytesPerSecond: number;
  readonly clientCpuSeconds: number;
  /** The part of `clientCpuSeconds` spent in the kernel (socket reads and writes, timers). */
  readonly clientSystemCpuSeconds: number;
  /** CPU the agent double's process spent meanwhile (it shares the machine with the client). */
  readonly agentCpuSeconds: number;
  readonly peakRssMb: number;
}

const AGENT_SERVER_ENTRY = join(__dirname, 'agent-server.ts');
/** Next to the bundle benchmark's output, inside the project so that node_modules resolve. */
const AGENT_SERVER_BUNDLE = join(__dirname, '..', '.bench', 'agent-server.js');

/**
 * Bundles the agent server (our sources only; packages stay in node_modules). Under tsx every read
 * of a named import is a getter call on the exporting module, which costs the double measurable
 * CPU per frame; a bundle references the functions directly. The client (this process) is
 * unaffected: it runs from source under tsx, as before.
 */
async function bundleAgentServer(): Promise<string> {
  await build({
    entryPoints: [AGENT_SERVER_ENTRY],
    outfile: AGENT_SERVER_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'error',
  });
  return AGENT_SERVER_BUNDLE;
}

/** The agent double in a child process; the parent is only the client. */
export class AgentServer {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly replies: AsyncIterator<string>,
  ) {}

  static async start(): Promise<AgentServer> {
    // BENCH_AGENT_NODE_OPTIONS lets one profile the double, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
    const nodeOptions = (process.env.BENCH_AGENT_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
    // BENCH_AGENT_TSX=1 runs the double's sources through tsx instead of the bundle, for comparison.
    const entry =
      process.env.BENCH_AGENT_TSX === '1'
        ? ['--import', 'tsx', AGENT_SERVER_ENTRY]
        : [await bundleAgentServer()];
    const child = spawn(process.execPath, [...nodeOptions, ...entry], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.pipe(process.stderr);
    return new AgentServer(child, createInterface({ input: child.stdout })[Symbol.asyncIterator]());
  }

  /** A session whose script prints exactly `bytes` of output. */
  session(bytes: number, pacing: Pacing = 'unpaced'): Promise<ScriptSession> {
    return this.request<ScriptSession>({ kind: 'script', bytes, pacing });
  }

  /** A session that runs `command` (an ExecuteCommand string) on a pty, every timing the real agent's. */
  commandSession(command: string): Promise<SessionEndpoint> {
    return this.request<SessionEndpoint>({ kind: 'command', command });
  }

  /** User + system CPU seconds the agent server has used so far. */
  async cpuSeconds(): Promise<number> {
    const usage = await this.request<NodeJS.CpuUsage>({ kind: 'cpu' });
    return (usage.user + usage.system) / 1e6;
  }

  private async request<T>(message: AgentServerRequest): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    const reply = await this.replies.next();
    if (reply.done) throw new Error('the agent server exited');
    return JSON.parse(reply.value) as T;
  }

  async stop(): Promise<void> {
    this.child.stdin.end();
    await Promise.race([once(this.child, 'exit'), new Promise((resolve) => setTimeout(resolve, 3000))]);
    this.child.kill('SIGKILL');
  }
}

/** Client throughput, CPU and peak RSS for `bytes` of output through the default bounded sink. */
export async function benchEndToEnd(
  server: AgentServer,
  bytes: number,
  options: { readonly pacing?: Pacing; readonly outputLimitBytes?: number } = {},
): Promise<EndToEndFigures> {
  const outputLimitBytes = options.outputLimitBytes ?? 256 * 1024;
  const { endpoint, outputBytes } = await server.session(bytes, options.pacing);
  const agentCpuBefore = await server.cpuSeconds();
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await runSession(endpoint, { timeoutMs: 600_000, outputLimitBytes, terminalSize: null });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const agentCpuSeconds = (await server.cpuSeconds()) - agentCpuBefore;
  if (result.outputBytes !== outputBytes)
    throw new Error(`expected ${outputBytes} bytes, got ${result.outputBytes}`);
  return {
    bytes,
    seconds,
    megabytesPerSecond: bytes / 1e6 / seconds,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    clientSystemCpuSeconds: cpu.system / 1e6,
    agentCpuSeconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}
