import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, MetricDimension, RunMetric } from '../lambda/metric-names';

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

/** Alarms look at 5-minute sums and fire on the first bad one: any failure is worth a look. */
export const ALARM_PERIOD = Duration.minutes(5);
const WIDGET_WIDTH = 12;
const DIMENSION_SCHEMA = `{${METRICS_NAMESPACE},service,${MetricDimension.Cluster},${MetricDimension.EcsService}}`;

/** What an alarm watches: a state machine's executions ending one way, or a function's errors. */
interface Watched {
  readonly id: string;
  readonly what: string;
  readonly metric: cloudwatch.IMetric;
}

/**
 * Alarms and a dashboard in plain CDK (cdk-monitoring-constructs would add a dependency to a
 * package whose only one is `ws`): one alarm per state machine and end (failed, timed out,
 * aborted) and per function (errors), and graphs of the same plus the exec Lambda's run metrics.
 */
export class RunnerMonitoring extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RunnerMonitoringConstructProps) {
    super(scope, id);
    const stateMachines = Object.entries(props.stateMachines);
    const functions = Object.entries(props.functions);
    const sum = { period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM };
    const watched: Watched[] = [
      ...stateMachines.flatMap(([name, machine], i) => [
        {
          id: `StateMachine${i}Failed`,
          what: `${name}: executions failed`,
          metric: machine.metricFailed(sum),
        },
        {
          id: `StateMachine${i}TimedOut`,
          what: `${name}: executions timed out`,
          metric: machine.metricTimedOut(sum),
        },
        {
          id: `StateMachine${i}Aborted`,
          what: `${name}: executions aborted`,
          metric: machine.metricAborted(sum),
        },
      ]),
      ...functions.map(([name, fn], i) => ({
        id: `Function${i}Errors`,
        what: `${name}: errors (a failed command counts as one)`,
        metric: fn.metricErrors(sum),
      })),
    ];
    this.alarms = props.alarms === false ? [] : watched.map((w) => this.alarm(w, props.alarmTopic));
    if (props.dashboard !== false) {
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
        defaultInterval: Duration.days(1),
        widgets: [
          stateMachines.map(
            ([name, machine]) =>
              new cloudwatch.GraphWidget({
                title: `${name}: executions`,
                width: WIDGET_WIDTH,
                left: [
                  machine.metricStarted(sum),
                  machine.metricSucceeded(sum),
                  machine.metricFailed(sum),
                  machine.metricTimedOut(sum),
                  machine.metricAborted(sum),
                ],
              }),
          ),
          functions.map(
            ([name, fn]) =>
              new cloudwatch.GraphWidget({
                title: `${name}: invocations and errors`,
                width: WIDGET_WIDTH / 2,
                left: [fn.metricInvocations(sum), fn.metricErrors(sum), fn.metricThrottles(sum)],
              }),
          ),
          runMetricWidgets(),
          this.alarms.length > 0
            ? [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24 })]
            : [],
        ],
      });
    }
  }

  private alarm(watched: Watched, topic: sns.ITopic | undefined): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, watched.id, {
      alarmDescription: `ecs-exec-runner: ${watched.what} (any in ${ALARM_PERIOD.toMinutes()} minutes)`,
      metric: watched.metric,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (topic !== undefined) alarm.addAlarmAction(new actions.SnsAction(topic));
    return alarm;
  }
}

/** The exec Lambda's EMF metrics, summed (or the worst p90) over every cluster and service. */
function runMetricWidgets(): cloudwatch.IWidget[] {
  const seconds = ALARM_PERIOD.toSeconds();
  const search = (aggregate: string, metric: string, statistic: string, label: string) =>
    new cloudwatch.MathExpression({
      expression: `${aggregate}(SEARCH('${DIMENSION_SCHEMA} MetricName="${metric}"', '${statistic}', ${seconds}))`,
      label,
      period: ALARM_PERIOD,
      usingMetrics: {},
    });
  return [
    new cloudwatch.GraphWidget({
      title: 'Commands: runs, failures, non-zero exit codes (all clusters and services)',
      width: WIDGET_WIDTH,
      left: [
        search('SUM', RunMetric.Runs, 'Sum', 'Runs'),
        search('SUM', RunMetric.Failures, 'Sum', 'Failures'),
        search('SUM', RunMetric.NonZeroExitCodes, 'Sum', 'Non-zero exit codes'),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'Commands: duration and session start (p90, ms)',
      width: WIDGET_WIDTH,
      left: [
        search('MAX', RunMetric.DurationMs, 'p90', 'Duration'),
        search('MAX', RunMetric.SessionStartMs, 'p90', 'ExecuteCommand to first byte'),
      ],
    }),
  ];
}
