import { Duration, Names, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExecEnv } from '../lambda/contract';
import { LAMBDA_SAFETY_MARGIN_MS } from '../lambda/detach/detach-contract';
import { FAN_OUT_TASKS_FOLDER, FanOutEnv } from '../lambda/fan-out/fan-out-contract';
import { RunnerAlerts } from './alerts';
import { doctorStatements } from './doctor-permissions';
import {
  DEFAULT_FAN_OUT_MAX_CONCURRENCY,
  DEFAULT_OUTPUT_PREFIX,
  type EcsExecRunnerProps,
  scheduleConstructId,
  validateRunnerProps,
} from './ecs-exec-runner-props';
import { fanOutDefinition } from './fan-out-workflow';
import { RunnerMonitoring } from './monitoring';
import { runCommandDefinition } from './run-command-workflow';
import { createRunnerFunction, type RunnerFunctionOptions } from './runner-function';
import { acknowledgeRunnerFindings } from './runner-nag-acknowledgements';
import { execRunnerStatements, listTasksStatement } from './runner-permissions';
import { type ScheduleConfig, ScheduleTarget } from './schedules';

export type { EcsExecRunnerProps } from './ecs-exec-runner-props';

/** Time the state machine gives the Lambda beyond its own timeout before declaring the task timed out. */
const TASK_TIMEOUT_MARGIN = Duration.minutes(1);
/** Long enough for a detached job's 7 days (plus its last polls); attached runs end far sooner. */
const DEFAULT_RUN_COMMAND_TIMEOUT = Duration.days(8);

/**
 * Runs commands in running ECS tasks through ECS Exec: the exec Lambda, its least-privilege role,
 * a "run one command" and a "run on every task of a service" state machine, the output bucket,
 * the idempotency table, and EventBridge Scheduler schedules that start the state machines.
 */
export class EcsExecRunner extends Construct {
  /** The exec Lambda; grant it `SendTaskSuccess`/`SendTaskFailure` on state machines that use `taskToken`. */
  readonly function: lambda.Function;
  /** Lists a service's RUNNING tasks for the fan-out. */
  readonly listTasksFunction: lambda.Function;
  /** Input: an exec event. Output: the handler's result. */
  readonly runCommandStateMachine: sfn.StateMachine;
  /** Input: an exec event with `service` (and optionally `maxConcurrency`). Output: a summary. */
  readonly fanOutStateMachine: sfn.StateMachine;
  readonly outputBucket: s3.Bucket;
  readonly outputPrefix: string;
  readonly idempotencyTable: dynamodb.Table;
  readonly schedules: readonly scheduler.Schedule[];
  /** Receives schedule events Scheduler could not deliver (only when there are schedules). */
  readonly scheduleDeadLetterQueue?: sqs.Queue;
  /** Failed-execution alerts: the topic, the EventBridge rule and the formatter function (unless `alerts: false`). */
  readonly alerts?: RunnerAlerts;
  /** Alarms and dashboard (unless `monitoring: false`). */
  readonly monitoring?: RunnerMonitoring;

  constructor(scope: Construct, id: string, props: EcsExecRunnerProps) {
    super(scope, id);
    validateRunnerProps(this, props);
    const schedules = props.schedules ?? [];
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const timeout = props.timeout ?? Duration.minutes(15);
    const clusters = props.clusters;
    const defaultCluster = clusters[0] as ecs.ICluster;
    this.outputPrefix = props.outputPrefix ?? DEFAULT_OUTPUT_PREFIX;

    this.outputBucket = new s3.Bucket(this, 'OutputBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [
        {
          id: 'ExpireOutputs',
          expiration: props.outputExpiration ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      ...(props.serverAccessLogsBucket
        ? {
            serverAccessLogsBucket: props.serverAccessLogsBucket,
            serverAccessLogsPrefix: 'ecs-exec-runner-output/',
          }
        : {}),
      removalPolicy,
    });

    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      // Powertools idempotency defaults: key "id", expiry in "expiration".
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });

    const defaults: Record<string, string> = {
      [ExecEnv.DefaultCluster]: defaultCluster.clusterArn,
      [ExecEnv.AllowedClusters]: clusters.map((c) => c.clusterArn).join(','),
      ...(props.defaultService ? { [ExecEnv.DefaultService]: props.defaultService } : {}),
      ...(props.defaultContainer ? { [ExecEnv.DefaultContainer]: props.defaultContainer } : {}),
      [ExecEnv.OutputBucket]: this.outputBucket.bucketName,
      [ExecEnv.OutputPrefix]: this.outputPrefix,
    };

    this.function = this.createFunction('Function', {
      code: 'exec',
      description:
        'Runs a command in a running ECS task through ECS Exec and returns its output and exit code',
      timeout,
      memorySize: props.memorySize ?? 512,
      environment: {
        ...defaults,
        [ExecEnv.IdempotencyTable]: this.idempotencyTable.tableName,
        ...(props.metrics === false ? { POWERTOOLS_METRICS_DISABLED: 'true' } : {}),
      },
      statements: [
        ...execRunnerStatements({
          clusters,
          ...(props.execKmsKey ? { execKmsKey: props.execKmsKey } : {}),
          outputBucket: this.outputBucket,
          outputPrefix: this.outputPrefix,
          idempotencyTable: this.idempotencyTable,
        }),
        ...doctorStatements({ clusters, ...(props.execKmsKey ? { execKmsKey: props.execKmsKey } : {}) }),
      ],
      retention,
      removalPolicy,
    });

    this.listTasksFunction = this.createFunction('ListTasksFunction', {
      code: 'list-service-tasks',
      description: "Lists a service's RUNNING tasks into S3 for the ECS Exec fan-out",
      timeout: Duration.minutes(2),
      memorySize: 256,
      environment: {
        ...defaults,
        [FanOutEnv.DefaultMaxConcurrency]: String(
          props.fanOutMaxConcurrency ?? DEFAULT_FAN_OUT_MAX_CONCURRENCY,
        ),
      },
      statements: [
        listTasksStatement(clusters),
        new iam.PolicyStatement({
          sid: 'WriteTaskListsUnderPrefix',
          actions: ['s3:PutObject'],
          resources: [this.outputBucket.arnForObjects(`${this.outputPrefix}${FAN_OUT_TASKS_FOLDER}*`)],
        }),
      ],
      retention,
      removalPolicy,
    });

    const invokeOptions = { taskTimeout: timeout.plus(TASK_TIMEOUT_MARGIN) };
    // Named at synth: the detached path starts child executions of itself (continue-as-new).
    const runCommandName = `${Names.uniqueResourceName(this, { maxLength: 72 })}RunCmd`;
    const runCommandScope = new Construct(this, 'RunCommand');
    this.runCommandStateMachine = new sfn.StateMachine(this, 'RunCommandStateMachine', {
      stateMachineName: runCommandName,
      comment: 'Runs one command in one ECS task through ECS Exec; the output is the exec result.',
      definitionBody: sfn.DefinitionBody.fromChainable(
        runCommandDefinition(runCommandScope, this.function, {
          ...invokeOptions,
          self: sfn.StateMachine.fromStateMachineName(runCommandScope, 'Self', runCommandName),
          maxAttachedSeconds: Math.max(1, timeout.toSeconds() - LAMBDA_SAFETY_MARGIN_MS / 1000),
        }),
      ),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.runCommandTimeout ?? DEFAULT_RUN_COMMAND_TIMEOUT,
      tracingEnabled: true,
      logs: this.stateMachineLogs('RunCommandStateMachineLogs', retention, removalPolicy),
    });

    const fanOutName =
      props.fanOutStateMachineName ?? `${Names.uniqueResourceName(this, { maxLength: 72 })}FanOut`;
    const fanOutScope = new Construct(this, 'FanOut');
    this.fanOutStateMachine = new sfn.StateMachine(this, 'FanOutStateMachine', {
      stateMachineName: fanOutName,
      comment:
        'Runs one command on every RUNNING task of an ECS service; fails with TasksFailed if any task failed.',
      definitionBody: sfn.DefinitionBody.fromChainable(
        fanOutDefinition(fanOutScope, {
          ...invokeOptions,
          execFunction: this.function,
          listFunction: this.listTasksFunction,
          outputBucket: this.outputBucket,
          outputPrefix: this.outputPrefix,
          stateMachineName: fanOutName,
        }),
      ),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.fanOutTimeout ?? Duration.hours(24),
      tracingEnabled: true,
      logs: this.stateMachineLogs('FanOutStateMachineLogs', retention, removalPolicy),
    });

    if (schedules.length > 0) {
      this.scheduleDeadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
    }
    this.schedules = this.createSchedules(schedules);
    this.alerts = this.createAlerts(props, retention, removalPolicy);
    this.monitoring = this.createMonitoring(props);
    acknowledgeRunnerFindings(this, props, fanOutName, runCommandName);
  }

  private createAlerts(
    props: EcsExecRunnerProps,
    retention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ): RunnerAlerts | undefined {
    if (props.alerts === false) return undefined;
    return new RunnerAlerts(this, 'Alerts', {
      ...props.alerts,
      stateMachines: [this.runCommandStateMachine, this.fanOutStateMachine],
      retention,
      removalPolicy,
    });
  }

  private createMonitoring(props: EcsExecRunnerProps): RunnerMonitoring | undefined {
    if (props.monitoring === false) return undefined;
    const alerts = this.alerts;
    return new RunnerMonitoring(this, 'Monitoring', {
      ...props.monitoring,
      stateMachines: { 'Run one command': this.runCommandStateMachine, 'Fan-out': this.fanOutStateMachine },
      functions: {
        'Exec function': this.function,
        'List tasks function': this.listTasksFunction,
        ...(alerts ? { 'Alerts function': alerts.function } : {}),
      },
      ...(alerts ? { alarmTopic: alerts.topic } : {}),
    });
  }

  private createFunction(id: string, options: RunnerFunctionOptions): lambda.Function {
    return createRunnerFunction(this, id, options);
  }

  private stateMachineLogs(
    id: string,
    retention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ): sfn.LogOptions {
    return {
      destination: new logs.LogGroup(this, id, { retention, removalPolicy }),
      level: sfn.LogLevel.ALL,
      // Outputs stay in the execution history and S3, not in a second place.
      includeExecutionData: false,
    };
  }

  private createSchedules(configs: readonly ScheduleConfig[]): scheduler.Schedule[] {
    if (configs.length === 0) return [];
    const group = new scheduler.ScheduleGroup(this, 'ScheduleGroup');
    const role = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Starts the ECS Exec runner state machines on schedule',
    });
    return configs.map((config) => {
      const stateMachine =
        (config.target ?? ScheduleTarget.RunCommand) === ScheduleTarget.FanOut
          ? this.fanOutStateMachine
          : this.runCommandStateMachine;
      const target = new targets.StepFunctionsStartExecution(stateMachine, {
        role,
        // The schedule's name travels in the input: the logs and the alerts tell scheduled runs apart.
        input: scheduler.ScheduleTargetInput.fromObject({ ...config.event, scheduleName: config.name }),
        retryAttempts: config.retryAttempts ?? 3,
        maxEventAge: Duration.seconds(config.maxEventAgeSeconds ?? 3600),
        ...(this.scheduleDeadLetterQueue ? { deadLetterQueue: this.scheduleDeadLetterQueue } : {}),
      });
      return new scheduler.Schedule(this, `Schedule${scheduleConstructId(config.name)}`, {
        scheduleName: config.name,
        scheduleGroup: group,
        schedule: scheduler.ScheduleExpression.expression(
          config.expression,
          TimeZone.of(config.timeZone ?? 'Etc/UTC'),
        ),
        target,
        enabled: config.enabled ?? true,
        ...(config.description ? { description: config.description } : {}),
      });
    });
  }
}
