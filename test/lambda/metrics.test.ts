import {
  METRICS_NAMESPACE,
  MetricDimension,
  publishRunMetrics,
  RunMetric,
  runMetricRecords,
  UNKNOWN_DIMENSION,
} from '../../lambda/metrics';

interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

const parse = (records: string[]): Emf[] => records.map((r) => JSON.parse(r) as Emf);
const names = (emf: Emf): string[] =>
  (emf._aws.CloudWatchMetrics[0]?.Metrics ?? []).map((m) => m.Name).sort();

describe('run metrics (EMF)', () => {
  it('records a successful run with every measurement, dimensioned by cluster and service only', () => {
    const [emf, ...rest] = parse(
      runMetricRecords(
        {
          cluster: 'prod',
          ecsService: 'web',
          exitCode: 0,
          outputBytes: 1234,
          sessionStartMs: 1100,
          reconnects: 1,
          executeCommandRetries: 2,
        },
        { durationMs: 2500 },
      ),
    );
    expect(rest).toEqual([]);
    const directive = emf?._aws.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive?.Dimensions).toEqual([['service', MetricDimension.Cluster, MetricDimension.EcsService]]);
    expect(names(emf as Emf)).toEqual(Object.values(RunMetric).sort());
    expect(emf).toMatchObject({
      Cluster: 'prod',
      EcsService: 'web',
      Runs: 1,
      Failures: 0,
      NonZeroExitCodes: 0,
      DurationMs: 2500,
      OutputBytes: 1234,
      SessionStartMs: 1100,
      Reconnects: 1,
      ExecuteCommandRetries: 2,
    });
    expect(directive?.Metrics).toContainEqual({ Name: 'DurationMs', Unit: 'Milliseconds' });
    expect(directive?.Metrics).toContainEqual({ Name: 'OutputBytes', Unit: 'Bytes' });
  });

  it('adds Failures by error name for a failed run, and leaves out what was never measured', () => {
    const [run, byError] = parse(runMetricRecords({}, { durationMs: 3, errorName: 'InvalidInput' }));
    expect(run).toMatchObject({
      Cluster: UNKNOWN_DIMENSION,
      EcsService: UNKNOWN_DIMENSION,
      Runs: 1,
      Failures: 1,
    });
    expect(names(run as Emf)).toEqual(['DurationMs', 'Failures', 'Runs']);
    expect(byError?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', MetricDimension.Cluster, MetricDimension.EcsService, MetricDimension.ErrorName],
    ]);
    expect(byError).toMatchObject({ ErrorName: 'InvalidInput', Failures: 1 });
  });

  it('counts a non-zero exit code even when the run did not fail on it', () => {
    const [run] = parse(runMetricRecords({ cluster: 'c', exitCode: 3 }, { durationMs: 1 }));
    expect(run).toMatchObject({ NonZeroExitCodes: 1, Failures: 0 });
  });

  it('writes one line per record, and never lets a metrics problem fail the run', () => {
    const lines: string[] = [];
    publishRunMetrics({ cluster: 'c' }, { durationMs: 1, errorName: 'NonZeroExit' }, (l) => lines.push(l));
    expect(lines).toHaveLength(2);
    const problems: unknown[] = [];
    publishRunMetrics(
      { cluster: 'c' },
      { durationMs: 1 },
      () => {
        throw new Error('stdout closed');
      },
      (err) => problems.push(err),
    );
    expect(problems).toHaveLength(1);
  });
});
