/**
 * Client CPU at the real agent's pace, compared with the official session-manager-plugin's figure
 * measured against the real agent (real-agent-findings.md: 1.90 s of CPU for 10 MiB of output).
 */
import { type AgentServer, benchEndToEnd, type EndToEndFigures } from './e2e';

const MIB = 1024 * 1024;
/** The plugin's CPU for 10 MiB at the real agent's pace (real-agent-findings.md). */
export const PLUGIN_CPU_SECONDS_PER_MIB = 1.9 / 10;
/** An unpaced session first, so the measured one runs on warm JIT as a warm Lambda does. */
const WARM_UP_BYTES = 2 * MIB;

export interface PacedFigures extends EndToEndFigures {
  readonly cpuSecondsPerMib: number;
  /** Our CPU per MiB divided by the plugin's. */
  readonly ratioToPlugin: number;
}

export async function benchPacedCpu(server: AgentServer, bytes: number): Promise<PacedFigures> {
  await benchEndToEnd(server, WARM_UP_BYTES);
  const figures = await benchEndToEnd(server, bytes, { pacing: 'real-agent' });
  const cpuSecondsPerMib = figures.clientCpuSeconds / (bytes / MIB);
  return { ...figures, cpuSecondsPerMib, ratioToPlugin: cpuSecondsPerMib / PLUGIN_CPU_SECONDS_PER_MIB };
}

/** Prints the figures with `line(name, value, target)`; `quick` runs a small size only. */
export async function reportPacedCpu(
  server: AgentServer,
  quick: boolean,
  line: (name: string, value: string, target: string) => void,
): Promise<void> {
  const label = quick ? '256 KiB (quick)' : '10 MiB';
  const paced = await benchPacedCpu(server, quick ? 256 * 1024 : 10 * MIB);
  line(
    `real agent pace: ${label}, wall time (${paced.megabytesPerSecond.toFixed(2)} MB/s)`,
    `${paced.seconds.toFixed(1)} s`,
    '(info)',
  );
  line(
    `real agent pace: ${label}, client CPU (${paced.clientSystemCpuSeconds.toFixed(2)} s in the kernel)`,
    `${paced.clientCpuSeconds.toFixed(2)} s`,
    '(info)',
  );
  line(
    'real agent pace: client CPU per MiB / the plugin’s (1.90 s per 10 MiB)',
    `${paced.ratioToPlugin.toFixed(2)}x`,
    '<= 1.0',
  );
}
