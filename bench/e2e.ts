import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runSession } from '../lambda/ssm/run';
import type { SessionEndpoint } from '../lambda/ssm/types';

export interface EndToEndFigures {
  readonly bytes: number;
  readonly seconds: number;
  readonly megabytesPerSecond: number;
  readonly clientCpuSeconds: number;
  readonly peakRssMb: number;
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
    const child = spawn(
      process.execPath,
      [...nodeOptions, '--import', 'tsx', join(__dirname, 'agent-server.ts')],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    child.stderr.pipe(process.stderr);
    return new AgentServer(child, createInterface({ input: child.stdout })[Symbol.asyncIterator]());
  }

  async session(bytes: number): Promise<SessionEndpoint> {
    this.child.stdin.write(`${JSON.stringify({ bytes })}\n`);
    const reply = await this.replies.next();
    if (reply.done) throw new Error('the agent server exited');
    return JSON.parse(reply.value) as SessionEndpoint;
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
  outputLimitBytes = 256 * 1024,
): Promise<EndToEndFigures> {
  const endpoint = await server.session(bytes);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await runSession(endpoint, { timeoutMs: 600_000, outputLimitBytes, terminalSize: null });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  if (result.outputBytes !== bytes) throw new Error(`expected ${bytes} bytes, got ${result.outputBytes}`);
  return {
    bytes,
    seconds,
    megabytesPerSecond: bytes / 1e6 / seconds,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}
