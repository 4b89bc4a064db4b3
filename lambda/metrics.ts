/**
 * One CloudWatch Embedded Metric Format record per run: Powertools Metrics builds it, and it goes
 * to stdout, where Lambda's log pipeline turns it into metrics (no PutMetricData call, no latency).
 * Dimensions stay low-cardinality: the cluster and the ECS service, never a task id or a command.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, MetricDimension, RunMetric } from './metric-names';

export { METRICS_NAMESPACE, MetricDimension, RunMetric } from './metric-names';

/** Stands for a dimension value that is not known (a run rejected before its target was found). */
export const UNKNOWN_DIMENSION = 'none';
/**
 * Set (to any value) where stdout carries something else, e.g. `npm start`: the EMF line then
 * goes to stderr behind this label instead.
 */
export const METRICS_TO_STDERR_ENV = 'ECS_EXEC_RUNNER_METRICS_TO_STDERR';
export const METRICS_STDERR_LABEL = 'metrics (EMF, as the Lambda emits them):';

/** What a run found out about itself, filled in as it goes; every part is optional. */
export interface RunObservation {
  cluster?: string;
  ecsService?: string;
  exitCode?: number | null;
  outputBytes?: number;
  sessionStartMs?: number;
  reconnects?: number;
  executeCommandRetries?: number;
}

export interface RunOutcome {
  readonly durationMs: number;
  /** The error name the run ended with (thrown or reported through the task token). */
  readonly errorName?: string;
}

export type MetricsWriter = (emfJson: string) => void;

const defaultWriter: MetricsWriter = (emfJson) => {
  if (process.env[METRICS_TO_STDERR_ENV] !== undefined) {
    process.stderr.write(`${METRICS_STDERR_LABEL} ${emfJson}\n`);
  } else {
    process.stdout.write(`${emfJson}\n`);
  }
};

/** The EMF records of one run: the run's metrics, then (failed runs) Failures by error name. */
export function runMetricRecords(observation: RunObservation, outcome: RunOutcome): string[] {
  const dimensions = {
    [MetricDimension.Cluster]: observation.cluster ?? UNKNOWN_DIMENSION,
    [MetricDimension.EcsService]: observation.ecsService ?? UNKNOWN_DIMENSION,
  };
  const metrics = newMetrics();
  // POWERTOOLS_METRICS_DISABLED (or POWERTOOLS_DEV) turns them off, as everywhere in Powertools.
  if (metrics.turnedOff) return [];
  metrics.addDimensions(dimensions);
  metrics.addMetric(RunMetric.Runs, MetricUnit.Count, 1);
  metrics.addMetric(RunMetric.Failures, MetricUnit.Count, outcome.errorName === undefined ? 0 : 1);
  metrics.addMetric(RunMetric.DurationMs, MetricUnit.Milliseconds, outcome.durationMs);
  const { exitCode, outputBytes, sessionStartMs, reconnects, executeCommandRetries } = observation;
  if (exitCode !== undefined && exitCode !== null) {
    metrics.addMetric(RunMetric.NonZeroExitCodes, MetricUnit.Count, exitCode === 0 ? 0 : 1);
  }
  if (outputBytes !== undefined) metrics.addMetric(RunMetric.OutputBytes, MetricUnit.Bytes, outputBytes);
  if (sessionStartMs !== undefined) {
    metrics.addMetric(RunMetric.SessionStartMs, MetricUnit.Milliseconds, sessionStartMs);
  }
  if (reconnects !== undefined) metrics.addMetric(RunMetric.Reconnects, MetricUnit.Count, reconnects);
  if (executeCommandRetries !== undefined) {
    metrics.addMetric(RunMetric.ExecuteCommandRetries, MetricUnit.Count, executeCommandRetries);
  }
  const records = [JSON.stringify(metrics.serializeMetrics())];
  if (outcome.errorName !== undefined) {
    const byError = newMetrics();
    byError.addDimensions({ ...dimensions, [MetricDimension.ErrorName]: outcome.errorName });
    byError.addMetric(RunMetric.Failures, MetricUnit.Count, 1);
    records.push(JSON.stringify(byError.serializeMetrics()));
  }
  return records;
}

/** Writes the run's EMF records; metrics never fail a run, so a problem here is only reported. */
export function publishRunMetrics(
  observation: RunObservation,
  outcome: RunOutcome,
  write: MetricsWriter = defaultWriter,
  onError: (err: unknown) => void = () => {},
): void {
  try {
    for (const record of runMetricRecords(observation, outcome)) write(record);
  } catch (err) {
    onError(err);
  }
}

/** Powertools' Metrics, with its "disabled" switch readable (it is protected). */
class RunMetrics extends Metrics {
  get turnedOff(): boolean {
    return this.isDisabled();
  }
}

function newMetrics(): RunMetrics {
  return new RunMetrics({
    namespace: METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'ecs-exec-runner',
  });
}
