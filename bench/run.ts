/** `npm run bench`: prints the performance figures; targets are in the README, not in tests. */
import { benchBundle } from './bundle';
import { benchCodec } from './codec';
import { AgentServer, benchEndToEnd } from './e2e';

const MIB = 1024 * 1024;

function line(name: string, value: string, target: string): void {
  console.log(`${name.padEnd(58)} ${value.padStart(14)}   target ${target}`);
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'codec') {
    const codec = benchCodec();
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
      // The first session pays for JIT warm-up; a real Lambda's hot path is already compiled after that.
      await benchEndToEnd(server, 2 * MIB);
      if (!only || only === 'e2e') {
        const e2e = await benchEndToEnd(server, 10 * MIB);
        line(
          'end to end: 10 MiB, client throughput',
          `${e2e.megabytesPerSecond.toFixed(1)} MB/s`,
          '>= 30 MB/s',
        );
        line('end to end: 10 MiB, client CPU', `${e2e.clientCpuSeconds.toFixed(2)} s`, '<= 0.5 s');
      }
      if (!only || only === 'memory') {
        const memory = await benchEndToEnd(server, 200 * 1000 * 1000);
        line(
          'memory: 200 MB through the 256 KiB default sink, peak RSS',
          `${memory.peakRssMb.toFixed(0)} MB`,
          '<= 150 MB',
        );
        line('memory: 200 MB, client throughput', `${memory.megabytesPerSecond.toFixed(1)} MB/s`, '(info)');
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
