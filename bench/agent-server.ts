/**
 * Runs the agent double in its own process so that the benchmark process measures only the
 * client's CPU and memory. Reads one JSON line per request on stdin and answers with one JSON line
 * (see `AgentServerRequest`): a scripted session of `bytes` of output, unpaced or at the real
 * agent's pace; a session that runs a real command on a pty at the real agent's pace; or this
 * process's `process.cpuUsage()` so the benchmark can report what the double itself costs.
 */
import { createInterface } from 'node:readline';
import { runSession } from '../lambda/ssm/run';
import type { SessionEndpoint } from '../lambda/ssm/types';
import { MessageGatewayDouble, REAL_AGENT_PACING, UNPACED } from '../local/agent-double';

const ONE_MIB = 1024 * 1024;
/** BENCH_AGENT_WARM_UP_MIB overrides it; 0 turns the warm-up off. */
const DEFAULT_WARM_UP_MIB = 16;
/** Paced output: short lines, like `seq`'s, so the client's CRLF handling runs as often as in real use. */
const PACED_LINE = '0123456789abc\r\n';
/** Unpaced output: long LF-terminated lines, the client's fastest case. */
const UNPACED_LINE = `${'0123456789abcdef'.repeat(ONE_MIB / 16 / 64)}\n`;

export type Pacing = 'unpaced' | 'real-agent';

export type AgentServerRequest =
  | { readonly kind: 'script'; readonly bytes: number; readonly pacing: Pacing }
  | { readonly kind: 'command'; readonly command: string }
  | { readonly kind: 'cpu' };

/** About one MiB of printable lines; at the real agent's pace with the pty's CRLF, as the agent sends them. */
function block(pacing: Pacing): Buffer {
  const line = pacing === 'real-agent' ? PACED_LINE : UNPACED_LINE;
  return Buffer.from(line.repeat(Math.ceil(ONE_MIB / line.length)));
}

export interface ScriptSession {
  readonly endpoint: SessionEndpoint;
  /** What the client's output counts once it has turned CRLF into LF. */
  readonly outputBytes: number;
}

/** A session that prints exactly `bytes` of output, reusing one block so the double holds little memory. */
function scriptSession(gateway: MessageGatewayDouble, bytes: number, pacing: Pacing): ScriptSession {
  const output = block(pacing);
  const steps = [];
  let carriageReturns = 0;
  for (let left = bytes; left > 0; left -= output.length) {
    const step = output.subarray(0, Math.min(left, output.length));
    steps.push({ output: step });
    carriageReturns += countCrlf(step);
  }
  const endpoint = gateway.createSession({
    script: steps,
    rawScript: true,
    timing: { ...(pacing === 'real-agent' ? REAL_AGENT_PACING : UNPACED), closeAckWaitMs: 2000 },
  });
  return { endpoint, outputBytes: bytes - carriageReturns };
}

function countCrlf(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf('\r\n'); at !== -1; at = bytes.indexOf('\r\n', at + 2)) count++;
  return count;
}

/**
 * The real agent is compiled Go; the double is JavaScript whose first megabytes run before V8 has
 * optimised its per-frame path. So before serving the benchmark the double streams some output
 * to a client of its own, in this process: the benchmark's client (the parent process) starts
 * from the same state as before and pays for its own warm-up, but meets a double that is as fast
 * on its first frame as on its last.
 */
async function warmUp(gateway: MessageGatewayDouble): Promise<void> {
  const bytes = Number(process.env.BENCH_AGENT_WARM_UP_MIB ?? DEFAULT_WARM_UP_MIB) * ONE_MIB;
  if (!(bytes > 0)) return;
  const result = await runSession(scriptSession(gateway, bytes, 'unpaced').endpoint, {
    timeoutMs: 120_000,
    outputLimitBytes: 64 * 1024,
    terminalSize: null,
  });
  if (result.outputBytes !== bytes)
    throw new Error(`warm-up: expected ${bytes} bytes, got ${result.outputBytes}`);
}

function answer(gateway: MessageGatewayDouble, request: AgentServerRequest): unknown {
  switch (request.kind) {
    case 'cpu':
      return process.cpuUsage();
    case 'script':
      return scriptSession(gateway, request.bytes, request.pacing);
    case 'command':
      // Every timing the real agent's (the double's defaults), pacing included.
      return gateway.createSession({ command: request.command });
  }
}

async function main(): Promise<void> {
  const gateway = await MessageGatewayDouble.start();
  await warmUp(gateway);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    process.stdout.write(`${JSON.stringify(answer(gateway, JSON.parse(line) as AgentServerRequest))}\n`);
  }
  await gateway.close();
}

void main();
