/**
 * The names of the exec Lambda's run metrics, shared by the Lambda (metrics.ts) and the CDK
 * dashboard (lib/monitoring.ts). No imports: the construct loads it at synth.
 */
export const METRICS_NAMESPACE = 'EcsExecRunner';
/** Metric names: the CloudWatch alarms and the dashboard (lib/) read the same constants. */
export const RunMetric = {
  Runs: 'Runs',
  /** Also emitted with the ErrorName dimension, once per failed run. */
  Failures: 'Failures',
  /** Runs whose command exited with a code other than 0 (whether or not that failed the run). */
  NonZeroExitCodes: 'NonZeroExitCodes',
  DurationMs: 'DurationMs',
  OutputBytes: 'OutputBytes',
  /** From the ExecuteCommand call to the first byte of output. */
  SessionStartMs: 'SessionStartMs',
  /** Data-channel reconnects (ssm:ResumeSession). */
  Reconnects: 'Reconnects',
  /** ExecuteCommand calls retried while the agent was not ready. */
  ExecuteCommandRetries: 'ExecuteCommandRetries',
} as const;
export const MetricDimension = {
  Cluster: 'Cluster',
  EcsService: 'EcsService',
  ErrorName: 'ErrorName',
} as const;
