import { Duration, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  DefaultDashboardFactory,
  type ErrorCountThreshold,
  MonitoringFacade,
  SingleWidgetDashboardSegment,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, MetricDimension, RunMetric } from '../lambda/metrics';

/** The `monitoring` prop of the runner. */
export interface RunnerMonitoringProps {
  /**
   * Alarms on failed, timed-out and aborted executions of each state machine and on errors of the
   * functions; they notify the alerts topic when there is one.
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * A CloudWatch dashboard: executions, function errors and the run metrics (EMF).
   * @default true
   */
  readonly dashboard?: boolean;
}

export interface RunnerMonitoringConstructProps extends RunnerMonitoringProps {
  /** Human-readable name → state machine. */
  readonly stateMachines: Readonly<Record<string, sfn.IStateMachine>>;
  /** Human-readable name → function. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Where alarms go. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/** Any one bad execution or function error is worth a look: alarm on the first. */
const ANY_ERROR: Record<string, ErrorCountThreshold> = {
  Critical: { maxErrorCount: 0, datapointsToAlarm: 1, evaluationPeriods: 1 },
};
const RUN_METRICS_PERIOD = Duration.minutes(5);
const DIMENSION_SCHEMA = `{${METRICS_NAMESPACE},service,${MetricDimension.Cluster},${MetricDimension.EcsService}}`;

/**
 * Alarms and a dashboard through cdk-monitoring-constructs (`monitorStepFunction`,
 * `monitorLambdaFunction`), plus graphs of the exec Lambda's own run metrics.
 */
export class RunnerMonitoring extends Construct {
  readonly facade: MonitoringFacade;

  constructor(scope: Construct, id: string, props: RunnerMonitoringConstructProps) {
    super(scope, id);
    const alarms = props.alarms ?? true;
    const dashboard = props.dashboard ?? true;
    const prefix = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.facade = new MonitoringFacade(this, 'Facade', {
      alarmFactoryDefaults: {
        alarmNamePrefix: prefix,
        actionsEnabled: true,
        ...(props.alarmTopic
          ? { action: new SnsAlarmActionStrategy({ onAlarmTopic: props.alarmTopic }) }
          : {}),
      },
      metricFactoryDefaults: {},
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: prefix,
        createDashboard: dashboard,
      }),
    });
    const onAlarm = <T>(value: T): T | undefined => (alarms ? value : undefined);
    for (const [name, stateMachine] of Object.entries(props.stateMachines)) {
      this.facade.monitorStepFunction({
        stateMachine,
        humanReadableName: name,
        alarmFriendlyName: name.replace(/[^A-Za-z0-9]/g, ''),
        ...(alarms
          ? {
              addFailedExecutionCountAlarm: ANY_ERROR,
              addTimedOutExecutionCountAlarm: ANY_ERROR,
              addAbortedExecutionCountAlarm: ANY_ERROR,
            }
          : {}),
      });
    }
    for (const [name, lambdaFunction] of Object.entries(props.functions)) {
      const addFaultCountAlarm = onAlarm(ANY_ERROR);
      this.facade.monitorLambdaFunction({
        lambdaFunction,
        humanReadableName: name,
        alarmFriendlyName: name.replace(/[^A-Za-z0-9]/g, ''),
        ...(addFaultCountAlarm ? { addFaultCountAlarm } : {}),
      });
    }
    if (dashboard) this.addRunMetricWidgets();
  }

  /** The EMF metrics summed over every cluster and service. */
  private addRunMetricWidgets(): void {
    const total = (metric: string, statistic: string, label: string): cloudwatch.MathExpression =>
      new cloudwatch.MathExpression({
        expression: `SUM(SEARCH('${DIMENSION_SCHEMA} MetricName="${metric}"', '${statistic}', ${RUN_METRICS_PERIOD.toSeconds()}))`,
        label,
        period: RUN_METRICS_PERIOD,
        usingMetrics: {},
      });
    const highest = (metric: string, label: string): cloudwatch.MathExpression =>
      new cloudwatch.MathExpression({
        expression: `MAX(SEARCH('${DIMENSION_SCHEMA} MetricName="${metric}"', 'p90', ${RUN_METRICS_PERIOD.toSeconds()}))`,
        label,
        period: RUN_METRICS_PERIOD,
        usingMetrics: {},
      });
    this.facade.addLargeHeader("Commands run (the exec Lambda's metrics, all clusters and services)");
    this.facade.addSegment(
      new SingleWidgetDashboardSegment(
        new cloudwatch.GraphWidget({
          title: 'Runs, failures, non-zero exit codes',
          width: 12,
          left: [
            total(RunMetric.Runs, 'Sum', 'Runs'),
            total(RunMetric.Failures, 'Sum', 'Failures'),
            total(RunMetric.NonZeroExitCodes, 'Sum', 'Non-zero exit codes'),
          ],
        }),
      ),
    );
    this.facade.addSegment(
      new SingleWidgetDashboardSegment(
        new cloudwatch.GraphWidget({
          title: 'Duration and session start (p90, ms)',
          width: 12,
          left: [
            highest(RunMetric.DurationMs, 'Duration'),
            highest(RunMetric.SessionStartMs, 'ExecuteCommand to first byte'),
          ],
        }),
      ),
    );
  }
}
