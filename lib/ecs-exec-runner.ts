import { Duration, Names, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExecEnv } from '../lambda/contract';
import { FAN_OUT_TASKS_FOLDER, FanOutEnv } from '../lambda/fan-out/fan-out-contract';
import { RUNNER_HANDLER, RUNNER_RUNTIME, type RunnerLambdaName, runnerLambdaCode } from './bundling';
import { doctorStatements } from './doctor-permissions';
import {
  DEFAULT_FAN_OUT_MAX_CONCURRENCY,
  DEFAULT_OUTPUT_PREFIX,
  type EcsExecRunnerProps,
  scheduleConstructId,
  validateRunnerProps,
} from './ecs-exec-runner-props';
import { fanOutDefinition } from './fan-out-workflow';
import { runCommandDefinition } from './run-command-workflow';
import { acknowledgeRunnerFindings } from './runner-nag-acknowledgements';
import { execRunnerStatements, listTasksStatement } from './runner-permissions';
import { type ScheduleConfig, ScheduleTarget } from './schedules';

export type { EcsExecRunnerProps } from './ecs-exec-runner-props';

/** Time the state machine gives the Lambda beyond its own timeout before declaring the task timed out. */
const TASK_TIMEOUT_MARGIN = Duration.minutes(1);
const SERVICE_NAME = 'ecs-exec-runner';

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
      environment: { ...defaults, [ExecEnv.IdempotencyTable]: this.idempotencyTable.tableName },
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
    this.runCommandStateMachine = new sfn.StateMachine(this, 'RunCommandStateMachine', {
      comment: 'Runs one command in one ECS task through ECS Exec; the output is the exec result.',
      definitionBody: sfn.DefinitionBody.fromChainable(
        runCommandDefinition(new Construct(this, 'RunCommand'), this.function, invokeOptions),
      ),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.runCommandTimeout ?? Duration.hours(1),
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
    acknowledgeRunnerFindings(this, props, fanOutName);
  }

  private createFunction(
    id: string,
    options: {
      readonly code: RunnerLambdaName;
      readonly description: string;
      readonly timeout: Duration;
      readonly memorySize: number;
      readonly environment: Record<string, string>;
      readonly statements: readonly iam.PolicyStatement[];
      readonly retention: logs.RetentionDays;
      readonly removalPolicy: RemovalPolicy;
    },
  ): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: options.retention,
      removalPolicy: options.removalPolicy,
    });
    // An explicit role: only this function's log group and the statements given, no managed policy.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${options.description} (role)`,
    });
    logGroup.grantWrite(role);
    for (const statement of options.statements) role.addToPrincipalPolicy(statement);
    return new lambda.Function(this, id, {
      code: runnerLambdaCode(options.code),
      handler: RUNNER_HANDLER,
      runtime: RUNNER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: options.description,
      timeout: options.timeout,
      memorySize: options.memorySize,
      role,
      logGroup,
      environment: {
        ...options.environment,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      },
    });
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
        input: scheduler.ScheduleTargetInput.fromObject(config.event),
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
