/**
 * Runs the agent double in its own process so that the benchmark process measures only the
 * client's CPU and memory. Reads one JSON line {bytes, chunkBytes} per session request on stdin and
 * answers with the session endpoint as one JSON line.
 */
import { createInterface } from 'node:readline';
import { MessageGatewayDouble } from '../local/agent-double';

const ONE_MIB = 1024 * 1024;

async function main(): Promise<void> {
  const gateway = await MessageGatewayDouble.start();
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const { bytes } = JSON.parse(line) as { bytes: number };
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
    const endpoint = gateway.createSession({
      script: steps,
      rawScript: true,
      timing: { initialReadDelayMs: 0, interChunkDelayMs: 0, closeAckWaitMs: 2000 },
    });
    process.stdout.write(`${JSON.stringify(endpoint)}\n`);
  }
  await gateway.close();
}

void main();
