/**
 * The fan-out state machine on a scripted fleet, run locally end to end (local Distributed Map,
 * real exec handler, agent double with fast timings): wall time, tasks per second, and the peak of
 * live sessions against the requested concurrency. The test suite runs the 300-task case; this
 * runs bigger fleets and concurrencies.
 */
import { performance } from 'node:perf_hooks';
import { addFleetService, DEFAULT_WORLD_IDS } from '../local/fake-aws';
import { startLocalEnvironment } from '../local/local-environment';

export interface FanOutFigure {
  readonly tasks: number;
  readonly maxConcurrency: number;
  readonly seconds: number;
  readonly tasksPerSecond: number;
  readonly peakSessions: number;
  readonly succeeded: number;
}

/** Runs `hostname` on fleets of each size at each concurrency (one local environment per process). */
export async function benchFanOut(
  cases: ReadonlyArray<{ readonly tasks: number; readonly maxConcurrency: number }>,
): Promise<FanOutFigure[]> {
  const savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const env = await startLocalEnvironment({ fastAgent: true });
  try {
    // Synthesizes the stack once, outside the measurements.
    await env.runFanOut({ command: 'true', service: DEFAULT_WORLD_IDS.service });
    const figures: FanOutFigure[] = [];
    for (const [index, { tasks, maxConcurrency }] of cases.entries()) {
      const service = `bench-fleet-${index}`;
      addFleetService(env.fake.world, DEFAULT_WORLD_IDS.cluster, service, tasks);
      env.fake.gateway.resetPeakLiveSessions();
      const started = performance.now();
      const result = await env.runFanOut({ command: 'hostname', service, maxConcurrency });
      const seconds = (performance.now() - started) / 1000;
      const summary = (result.status === 'SUCCEEDED' ? result.output : {}) as { succeeded?: number };
      figures.push({
        tasks,
        maxConcurrency,
        seconds,
        tasksPerSecond: tasks / seconds,
        peakSessions: env.fake.gateway.peakLiveSessions,
        succeeded: summary.succeeded ?? 0,
      });
    }
    return figures;
  } finally {
    await env.close();
    if (savedLogLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
  }
}
