import { Arn, ArnFormat, Aws, Duration, FeatureFlags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as cxapi from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import {
  FAN_OUT_RESULTS_FOLDER,
  FAN_OUT_TASKS_FOLDER,
  FanOutErrorName,
} from '../lambda/fan-out/fan-out-contract';
import { type ExecInvokeOptions, execInvokeTask, LAMBDA_SERVICE_ERRORS } from './run-command-workflow';

/** State names of the "run on every task of a service" state machine. */
export const FanOutStates = {
  ListServiceTasks: 'ListServiceTasks',
  RunOnEachTask: 'RunOnEachTask',
  RunOnTask: 'RunOnTask',
  CountResults: 'CountResults',
  Summarize: 'Summarize',
  AnyTaskFailed: 'AnyTaskFailed',
  ListFailedTasks: 'ListFailedTasks',
  DescribeFailedTasks: 'DescribeFailedTasks',
  DescribeFailedTask: 'DescribeFailedTask',
  FailedTask: 'FailedTask',
  FormatFailureCause: 'FormatFailureCause',
  TasksFailed: 'TasksFailed',
  AllTasksSucceeded: 'AllTasksSucceeded',
  FanOutFailed: 'FanOutFailed',
} as const;

export { FanOutErrorName } from '../lambda/fan-out/fan-out-contract';

/** The failure summary names at most this many failed tasks (the S3 results hold all of them). */
export const FAILED_TASKS_REPORTED = 20;

/** Step Functions API calls of the summary answer in well under a second. */
const SDK_CALL_TIMEOUT = sfn.Timeout.duration(Duration.minutes(1));

export interface FanOutDefinitionProps extends ExecInvokeOptions {
  readonly execFunction: lambda.IFunction;
  readonly listFunction: lambda.IFunction;
  readonly outputBucket: s3.IBucket;
  readonly outputPrefix: string;
  /** The state machine's name, fixed at synth so its map-run ARNs can be granted without a cycle. */
  readonly stateMachineName: string;
}

/** Map-run and child-execution ARNs of the fan-out's Distributed Map. */
export function fanOutRunArns(stateMachineName: string): {
  readonly stateMachine: string;
  readonly mapRuns: string;
  readonly childExecutions: string;
} {
  const arn = (resource: string, resourceName: string): string =>
    Arn.format({
      partition: Aws.PARTITION,
      service: 'states',
      region: Aws.REGION,
      account: Aws.ACCOUNT_ID,
      resource,
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  return {
    stateMachine: arn('stateMachine', stateMachineName),
    mapRuns: arn('mapRun', `${stateMachineName}/${FanOutStates.RunOnEachTask}:*`),
    childExecutions: arn('execution', `${stateMachineName}/${FanOutStates.RunOnEachTask}:*`),
  };
}

/** Reads the task list the listing function wrote; may read only the task-list folder. */
class TaskListReader extends sfn.S3JsonItemReader {
  constructor(
    bucket: s3.IBucket,
    private readonly readable: string,
  ) {
    super({ bucket, key: sfn.JsonPath.stringAt('$.listing.key') });
  }
  override providePolicyStatements(): iam.PolicyStatement[] {
    return [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.readable] })];
  }
}

const resultWriterActions = [
  's3:PutObject',
  's3:GetObject',
  's3:ListMultipartUploadParts',
  's3:AbortMultipartUpload',
];

/** The writers' only permission: write (and abort uploads) in the results folder. */
function resultWriterStatements(writable: string): iam.PolicyStatement[] {
  return [new iam.PolicyStatement({ actions: resultWriterActions, resources: [writable] })];
}

/** Writes every child execution's input and output to S3; may write only the results folder. */
class ResultsWriter extends sfn.ResultWriterV2 {
  constructor(
    bucket: s3.IBucket,
    prefix: string,
    private readonly writable: string,
  ) {
    super({ bucket, prefix });
  }
  override providePolicyStatements(): iam.PolicyStatement[] {
    return resultWriterStatements(this.writable);
  }
}

/**
 * The same writer for apps without the `useDistributedMapResultWriterV2` feature flag, where
 * DistributedMap renders only the first-generation `resultWriter` (without one, every child's
 * output would land in the state payload, which a large service would overflow).
 */
class ResultsWriterV1 extends sfn.ResultWriter {
  constructor(
    bucket: s3.IBucket,
    prefix: string,
    private readonly writable: string,
  ) {
    super({ bucket, prefix });
  }
  override providePolicyStatements(): iam.PolicyStatement[] {
    return resultWriterStatements(this.writable);
  }
}

/**
 * ListServiceTasks (Lambda: every RUNNING task → S3) → RunOnEachTask (Distributed Map over that
 * list, MaxConcurrency from the input, every result to S3, failures tolerated so that one task
 * cannot hide the others) → CountResults (DescribeMapRun) → Summarize → AnyTaskFailed?
 *   no  → AllTasksSucceeded (the summary)
 *   yes → ListFailedTasks → DescribeFailedTasks (first N: task ARN + error) → TasksFailed.
 */
export function fanOutDefinition(scope: Construct, props: FanOutDefinitionProps): sfn.IChainable {
  const arns = fanOutRunArns(props.stateMachineName);
  const tasksKeys = props.outputBucket.arnForObjects(`${props.outputPrefix}${FAN_OUT_TASKS_FOLDER}*`);
  const resultsPrefix = `${props.outputPrefix}${FAN_OUT_RESULTS_FOLDER}`;
  const resultsKeys = props.outputBucket.arnForObjects(`${resultsPrefix}/*`);

  const fanOutFailed = new sfn.Fail(scope, FanOutStates.FanOutFailed, {
    comment: 'Listing the tasks or running the map failed: error name and cause unchanged.',
    errorPath: sfn.JsonPath.stringAt('$.Error'),
    causePath: sfn.JsonPath.stringAt('$.Cause'),
  });

  const list = new tasks.LambdaInvoke(scope, FanOutStates.ListServiceTasks, {
    lambdaFunction: props.listFunction,
    payload: sfn.TaskInput.fromObject({
      input: sfn.JsonPath.entirePayload,
      executionName: sfn.JsonPath.executionName,
    }),
    resultSelector: {
      bucket: sfn.JsonPath.stringAt('$.Payload.bucket'),
      key: sfn.JsonPath.stringAt('$.Payload.key'),
      taskCount: sfn.JsonPath.numberAt('$.Payload.taskCount'),
      maxConcurrency: sfn.JsonPath.numberAt('$.Payload.maxConcurrency'),
      cluster: sfn.JsonPath.stringAt('$.Payload.cluster'),
      service: sfn.JsonPath.stringAt('$.Payload.service'),
    },
    resultPath: '$.listing',
    retryOnServiceExceptions: false,
    taskTimeout: sfn.Timeout.duration(Duration.minutes(5)),
  });
  list.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS],
    interval: Duration.seconds(2),
    maxAttempts: 6,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  list.addCatch(fanOutFailed, { errors: [sfn.Errors.ALL] });

  const runOnEachTask = new sfn.DistributedMap(scope, FanOutStates.RunOnEachTask, {
    comment: 'One child execution per task; each item is a complete exec event.',
    label: FanOutStates.RunOnEachTask,
    itemReader: new TaskListReader(props.outputBucket, tasksKeys),
    maxConcurrencyPath: sfn.JsonPath.stringAt('$.listing.maxConcurrency'),
    toleratedFailurePercentage: 100,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    ...(FeatureFlags.of(scope).isEnabled(cxapi.STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2)
      ? { resultWriterV2: new ResultsWriter(props.outputBucket, resultsPrefix, resultsKeys) }
      : { resultWriter: new ResultsWriterV1(props.outputBucket, resultsPrefix, resultsKeys) }),
    resultPath: '$.map',
  });
  runOnEachTask.itemProcessor(
    execInvokeTask(
      scope,
      FanOutStates.RunOnTask,
      props.execFunction,
      sfn.TaskInput.fromJsonPathAt('$'),
      props,
    ),
  );
  runOnEachTask.addCatch(fanOutFailed, { errors: [sfn.Errors.ALL] });

  const countResults = new tasks.CallAwsService(scope, FanOutStates.CountResults, {
    service: 'sfn',
    action: 'describeMapRun',
    iamAction: 'states:DescribeMapRun',
    taskTimeout: SDK_CALL_TIMEOUT,
    iamResources: [arns.mapRuns],
    parameters: { MapRunArn: sfn.JsonPath.stringAt('$.map.MapRunArn') },
    resultSelector: {
      total: sfn.JsonPath.numberAt('$.ItemCounts.Total'),
      succeeded: sfn.JsonPath.numberAt('$.ItemCounts.Succeeded'),
      failed: sfn.JsonPath.numberAt('$.ItemCounts.Failed'),
      timedOut: sfn.JsonPath.numberAt('$.ItemCounts.TimedOut'),
      aborted: sfn.JsonPath.numberAt('$.ItemCounts.Aborted'),
    },
    resultPath: '$.counts',
  });
  countResults.addRetry({
    errors: [sfn.Errors.TASKS_FAILED],
    maxAttempts: 3,
    jitterStrategy: sfn.JitterType.FULL,
  });

  const summarize = new sfn.Pass(scope, FanOutStates.Summarize, {
    parameters: {
      cluster: sfn.JsonPath.stringAt('$.listing.cluster'),
      service: sfn.JsonPath.stringAt('$.listing.service'),
      total: sfn.JsonPath.numberAt('$.counts.total'),
      succeeded: sfn.JsonPath.numberAt('$.counts.succeeded'),
      failed: sfn.JsonPath.numberAt('$.counts.failed'),
      timedOut: sfn.JsonPath.numberAt('$.counts.timedOut'),
      aborted: sfn.JsonPath.numberAt('$.counts.aborted'),
      mapRunArn: sfn.JsonPath.stringAt('$.map.MapRunArn'),
      results: sfn.JsonPath.objectAt('$.map.ResultWriterDetails'),
    },
    resultPath: '$.summary',
  });

  const listFailed = new tasks.CallAwsService(scope, FanOutStates.ListFailedTasks, {
    service: 'sfn',
    action: 'listExecutions',
    iamAction: 'states:ListExecutions',
    taskTimeout: SDK_CALL_TIMEOUT,
    // ListExecutions filtered by map run: grant both the map run and the state machine resource types.
    iamResources: [arns.mapRuns, arns.stateMachine],
    parameters: {
      MapRunArn: sfn.JsonPath.stringAt('$.summary.mapRunArn'),
      StatusFilter: 'FAILED',
      MaxResults: FAILED_TASKS_REPORTED,
    },
    resultSelector: { executions: sfn.JsonPath.listAt('$.Executions') },
    resultPath: '$.failedExecutions',
  });
  listFailed.addRetry({
    errors: [sfn.Errors.TASKS_FAILED],
    maxAttempts: 3,
    jitterStrategy: sfn.JitterType.FULL,
  });

  const describeFailed = new tasks.CallAwsService(scope, FanOutStates.DescribeFailedTask, {
    service: 'sfn',
    action: 'describeExecution',
    iamAction: 'states:DescribeExecution',
    taskTimeout: SDK_CALL_TIMEOUT,
    iamResources: [arns.childExecutions],
    parameters: { ExecutionArn: sfn.JsonPath.stringAt('$.executionArn') },
    resultSelector: {
      event: sfn.JsonPath.stringToJson(sfn.JsonPath.stringAt('$.Input')),
      error: sfn.JsonPath.stringAt('$.Error'),
    },
  });
  describeFailed.addRetry({
    errors: [sfn.Errors.TASKS_FAILED],
    maxAttempts: 3,
    jitterStrategy: sfn.JitterType.FULL,
  });
  const failedTask = new sfn.Pass(scope, FanOutStates.FailedTask, {
    parameters: {
      taskArn: sfn.JsonPath.stringAt('$.event.task'),
      error: sfn.JsonPath.stringAt('$.error'),
    },
  });
  const describeFailedTasks = new sfn.Map(scope, FanOutStates.DescribeFailedTasks, {
    comment: `The first ${FAILED_TASKS_REPORTED} failed tasks with their error names; all causes are in the S3 results.`,
    itemsPath: '$.failedExecutions.executions',
    itemSelector: { executionArn: sfn.JsonPath.stringAt('$$.Map.Item.Value.ExecutionArn') },
    maxConcurrency: 5,
    resultPath: '$.summary.failedTasks',
  });
  describeFailedTasks.itemProcessor(describeFailed.next(failedTask));

  const formatCause = new sfn.Pass(scope, FanOutStates.FormatFailureCause, {
    inputPath: '$.summary',
    parameters: { cause: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$')) },
  });
  const tasksFailed = new sfn.Fail(scope, FanOutStates.TasksFailed, {
    comment: 'At least one task failed; the cause is the summary (counts, failed tasks, results location).',
    error: FanOutErrorName.TasksFailed,
    causePath: sfn.JsonPath.stringAt('$.cause'),
  });
  const succeeded = new sfn.Succeed(scope, FanOutStates.AllTasksSucceeded, { outputPath: '$.summary' });

  const anyFailed = new sfn.Choice(scope, FanOutStates.AnyTaskFailed)
    .when(
      sfn.Condition.or(
        sfn.Condition.numberGreaterThan('$.summary.failed', 0),
        sfn.Condition.numberGreaterThan('$.summary.timedOut', 0),
        sfn.Condition.numberGreaterThan('$.summary.aborted', 0),
      ),
      listFailed.next(describeFailedTasks).next(formatCause).next(tasksFailed),
    )
    .otherwise(succeeded);

  return list.next(runOnEachTask).next(countResults).next(summarize).next(anyFailed);
}
