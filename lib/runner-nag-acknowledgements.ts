import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { FAN_OUT_RESULTS_FOLDER, FAN_OUT_TASKS_FOLDER } from '../lambda/fan-out/fan-out-contract';
import { doctorWildcards } from './doctor-permissions';
import type { EcsExecRunnerProps } from './ecs-exec-runner-props';
import { FanOutStates, fanOutRunArns } from './fan-out-workflow';
import { acknowledgeWildcardResources, WildcardReason } from './nag-acknowledgements';
import { clusterScopedArn, ecsExecSessionsArn } from './runner-permissions';

/** The runner's resources whose findings are acknowledged (the construct passes itself). */
export interface RunnerNagSubject extends IConstruct {
  readonly function: lambda.IFunction;
  readonly listTasksFunction: lambda.IFunction;
  readonly runCommandStateMachine: sfn.IStateMachine;
  readonly fanOutStateMachine: sfn.IStateMachine;
  readonly outputBucket: s3.IBucket;
  readonly outputPrefix: string;
  readonly scheduleDeadLetterQueue?: sqs.IQueue;
}

/**
 * cdk-nag findings that are the design, each acknowledged for exactly one resource with the
 * reason it is as narrow as IAM allows.
 */
export function acknowledgeRunnerFindings(
  runner: RunnerNagSubject,
  props: EcsExecRunnerProps,
  fanOutName: string,
  runCommandName: string,
): void {
  const { clusters } = props;
  const listTasks = clusters.map((c) => ({
    resource: clusterScopedArn(c, 'container-instance', `${c.clusterName}/*`),
    reason: WildcardReason.ListTasksOnContainerInstances,
  }));
  acknowledgeWildcardResources(runner.function.role as iam.IRole, [
    ...clusters.map((c) => ({
      resource: clusterScopedArn(c, 'task', `${c.clusterName}/*`),
      reason: WildcardReason.TasksOfCluster,
    })),
    ...listTasks,
    {
      resource: ecsExecSessionsArn(),
      reason: WildcardReason.EcsExecSessions,
    },
    {
      resource: runner.outputBucket.arnForObjects(`${runner.outputPrefix}*`),
      reason:
        'Output object keys are made per command; the function may write (PutObject, AbortMultipartUpload) only under the output prefix.',
    },
    ...doctorWildcards(clusters),
  ]);
  acknowledgeWildcardResources(runner.listTasksFunction.role as iam.IRole, [
    ...listTasks,
    {
      resource: runner.outputBucket.arnForObjects(`${runner.outputPrefix}${FAN_OUT_TASKS_FOLDER}*`),
      reason: 'One task list per execution; the function may only put objects in the task-list folder.',
    },
  ]);
  acknowledgeWildcardResources(runner.runCommandStateMachine, [
    { resource: `${runner.function.functionArn}:*`, reason: WildcardReason.LambdaVersions },
    { resource: '*', reason: WildcardReason.VendedLogsAndXRay },
    {
      // CDK's startExecution.sync policy: describe/stop the child executions this machine starts.
      resource: Stack.of(runner).formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${runCommandName}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      reason:
        "A detached job continues in child executions of this same state machine (continue-as-new); their names are made at run time, so the ARN ends in a wildcard under this machine's name.",
    },
  ]);
  const fanOut = runner.fanOutStateMachine;
  const runArns = fanOutRunArns(fanOutName);
  // Resources of CDK's DistributedMapPolicy (child executions of this state machine).
  const ownExecutions = Stack.of(runner).formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: Arn.split(fanOut.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  acknowledgeWildcardResources(fanOut, [
    { resource: `${runner.function.functionArn}:*`, reason: WildcardReason.LambdaVersions },
    { resource: `${runner.listTasksFunction.functionArn}:*`, reason: WildcardReason.LambdaVersions },
    { resource: '*', reason: WildcardReason.VendedLogsAndXRay },
    {
      resource: runner.outputBucket.arnForObjects(`${runner.outputPrefix}${FAN_OUT_TASKS_FOLDER}*`),
      reason:
        'The Distributed Map ItemReader reads the task list of its execution; reads are limited to the task-list folder.',
    },
    {
      resource: runner.outputBucket.arnForObjects(`${runner.outputPrefix}${FAN_OUT_RESULTS_FOLDER}/*`),
      reason:
        'The Distributed Map ResultWriter writes one folder per map run; writes are limited to the results folder.',
    },
    {
      resource: runArns.mapRuns,
      reason:
        "Map run ids are made per run; DescribeMapRun/ListExecutions reach only the map runs of this state machine's RunOnEachTask state.",
    },
    {
      resource: runArns.childExecutions,
      reason:
        "Child execution ids are made per item; DescribeExecution reaches only the children of this state machine's RunOnEachTask state.",
    },
    {
      resource: `${ownExecutions}:*`,
      reason:
        'CDK DistributedMap grant: DescribeExecution/StopExecution on the executions of this state machine only.',
    },
    {
      resource: `${ownExecutions}/${FanOutStates.RunOnEachTask}:*`,
      reason:
        'CDK DistributedMap grant: RedriveExecution on the map-run executions of this state machine only.',
    },
  ]);
  if (!props.serverAccessLogsBucket) {
    Validations.of(runner.outputBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the runner writes here (role-scoped to its prefix, TLS-only, no public access); set serverAccessLogsBucket or use CloudTrail S3 data events for an access log.',
    });
  }
  if (runner.scheduleDeadLetterQueue) {
    Validations.of(runner.scheduleDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the EventBridge Scheduler schedules.',
    });
  }
}
