/**
 * Runs the agent double in its own process so that the benchmark process measures only the
 * client's CPU and memory. Reads one JSON line per request on stdin and answers with one JSON line:
 * `{"bytes": n}` creates a session and answers with its endpoint; `{"cpu": true}` answers with this
 * process's `process.cpuUsage()` so the benchmark can report what the double itself costs.
 */
import { createInterface } from 'node:readline';
import { runSession } from '../lambda/ssm/run';
import type { SessionEndpoint } from '../lambda/ssm/types';
import { MessageGatewayDouble } from '../local/agent-double';

const ONE_MIB = 1024 * 1024;
/** BENCH_AGENT_WARM_UP_MIB overrides it; 0 turns the warm-up off. */
const DEFAULT_WARM_UP_MIB = 16;

/** A session that prints `bytes` of output with none of the agent's artificial delays. */
function benchSession(gateway: MessageGatewayDouble, bytes: number): SessionEndpoint {
  // A printable, line-structured payload, reused for every step so the double holds little memory.
  const block = Buffer.from(
    '0123456789abcdef'
      .repeat(ONE_MIB / 16 / 64)
      .concat('\n')
      .repeat(64),
  );
  const steps = [];
  for (let left = bytes; left > 0; left -= block.length)
    steps.push({ output: block.subarray(0, Math.min(left, block.length)) });
  return gateway.createSession({
    script: steps,
    rawScript: true,
    timing: { initialReadDelayMs: 0, interChunkDelayMs: 0, closeAckWaitMs: 2000 },
  });
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
  const result = await runSession(benchSession(gateway, bytes), {
    timeoutMs: 120_000,
    outputLimitBytes: 64 * 1024,
    terminalSize: null,
  });
  if (result.outputBytes !== bytes)
    throw new Error(`warm-up: expected ${bytes} bytes, got ${result.outputBytes}`);
}

async function main(): Promise<void> {
  const gateway = await MessageGatewayDouble.start();
  await warmUp(gateway);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const request = JSON.parse(line) as { bytes?: number; cpu?: boolean };
    if (request.cpu === true) {
      process.stdout.write(`${JSON.stringify(process.cpuUsage())}\n`);
      continue;
    }
    const endpoint = benchSession(gateway, request.bytes ?? 0);
    process.stdout.write(`${JSON.stringify(endpoint)}\n`);
  }
  await gateway.close();
}

void main();
