/**
 * The detached path of the "run one command" state machine: start the job (one exec session), then
 * Wait → Poll → Choice until it ends, with a small, constant-size state. Before the execution's
 * history could near Step Functions' 25,000-event limit it continues in a child execution of the
 * same state machine (`startExecution.sync:2`), whose result or error becomes this execution's, so
 * whoever started the first execution — the CLI, a schedule, a parent workflow — gets the job's
 * result from it, however many generations the job took.
 *
 * Inputs that enter here (the Route choice of run-command-workflow.ts):
 *   an exec event with `detach: true` (or a timeout one invocation cannot hold) → StartJob
 *   `{"continueJob": <job state>}` (a child execution)                          → WaitForPoll
 *   `{"cancelJob": <job state>}` (`ecs-exec cancel`)                             → CancelJob → polls
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { DETACHED_JOB_FIELD, DetachedInput, DetachedStep } from '../lambda/detach/detach-contract';
import { POLLS_PER_EXECUTION } from '../lambda/detach/job-state';
import { type ExecInvokeOptions, execInvokeTask } from './exec-invoke-task';

export { DetachedInput };

export const DetachedStates = {
  StartJob: 'StartJob',
  ResumeJob: 'ResumeJob',
  CancelJob: 'CancelJob',
  WaitForPoll: 'WaitForPoll',
  PollJob: 'PollJob',
  AfterPoll: 'AfterPoll',
  JobSucceeded: 'JobSucceeded',
  ContinueAsNew: 'ContinueAsNew',
  ChildFailureIsJson: 'ChildFailureIsJson',
  ReadChildFailure: 'ReadChildFailure',
  ChildErrorKnown: 'ChildErrorKnown',
  ChildFailed: 'ChildFailed',
  ContinueAsNewFailed: 'ContinueAsNewFailed',
} as const;

export interface DetachedWorkflowOptions extends ExecInvokeOptions {
  readonly fn: lambda.IFunction;
  /** This state machine, by name (a reference by ARN would be a dependency cycle). */
  readonly self: sfn.IStateMachine;
  /** Where any Lambda failure goes (keeps its error name and cause). */
  readonly failed: sfn.IChainable;
}

export interface DetachedEntryPoints {
  readonly start: sfn.IChainable;
  readonly resume: sfn.IChainable;
  readonly cancel: sfn.IChainable;
}

/**
 * Builds the detached states. Each entry point expects the Route's input `{event, context}`.
 */
export function detachedDefinition(scope: Construct, options: DetachedWorkflowOptions): DetachedEntryPoints {
  const step = (id: string, payload: Record<string, unknown>): tasks.LambdaInvoke => {
    const task = execInvokeTask(
      scope,
      id,
      options.fn,
      sfn.TaskInput.fromObject({ [DETACHED_JOB_FIELD]: payload }),
      options,
    );
    task.addCatch(options.failed, { errors: [sfn.Errors.ALL] });
    return task;
  };
  const start = step(DetachedStates.StartJob, {
    step: DetachedStep.Start,
    event: sfn.JsonPath.objectAt('$.event'),
    executionName: sfn.JsonPath.stringAt('$.context.executionName'),
  });
  const poll = step(DetachedStates.PollJob, {
    step: DetachedStep.Poll,
    job: sfn.JsonPath.objectAt('$.job'),
    executionName: sfn.JsonPath.executionName,
  });
  const cancel = step(DetachedStates.CancelJob, {
    step: DetachedStep.Cancel,
    job: sfn.JsonPath.objectAt(`$.event.${DetachedInput.CancelJob}`),
    executionName: sfn.JsonPath.executionName,
  });
  const resume = new sfn.Pass(scope, DetachedStates.ResumeJob, {
    comment: 'A child execution: carry on polling the job it was given.',
    parameters: { job: sfn.JsonPath.objectAt(`$.event.${DetachedInput.ContinueJob}`) },
  });
  const wait = new sfn.Wait(scope, DetachedStates.WaitForPoll, {
    time: sfn.WaitTime.secondsPath('$.job.waitSeconds'),
  });
  const succeeded = new sfn.Succeed(scope, DetachedStates.JobSucceeded, { outputPath: '$.result' });

  const continueAsNew = new tasks.StepFunctionsStartExecution(scope, DetachedStates.ContinueAsNew, {
    comment: `Every ${POLLS_PER_EXECUTION} polls: a child execution carries on; its result is this one's.`,
    stateMachine: options.self,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    input: sfn.TaskInput.fromObject({ [DetachedInput.ContinueJob]: sfn.JsonPath.objectAt('$.job') }),
    associateWithParent: true,
    outputPath: '$.Output',
  });
  continueAsNew.addRetry({
    errors: ['StepFunctions.ExecutionLimitExceededException', 'States.Timeout'],
    interval: Duration.seconds(5),
    maxAttempts: 3,
    backoffRate: 2,
  });
  // The child's error arrives as States.TaskFailed with the child's description as the cause:
  // fail with the child's own error name and cause, so Catch/Retry upstream see NonZeroExit etc.
  const failedAsIs = new sfn.Fail(scope, DetachedStates.ContinueAsNewFailed, {
    comment: 'The child execution could not start or be followed: its error as it is.',
    errorPath: sfn.JsonPath.stringAt('$.failure.Error'),
    causePath: sfn.JsonPath.stringAt('$.failure.Cause'),
  });
  const readChildFailure = new sfn.Pass(scope, DetachedStates.ReadChildFailure, {
    parameters: {
      failure: sfn.JsonPath.objectAt('$.failure'),
      child: sfn.JsonPath.stringToJson(sfn.JsonPath.stringAt('$.failure.Cause')),
    },
  });
  const childFailed = new sfn.Fail(scope, DetachedStates.ChildFailed, {
    comment: "The child execution's error name and cause, unchanged.",
    errorPath: sfn.JsonPath.stringAt('$.child.Error'),
    causePath: sfn.JsonPath.stringAt('$.child.Cause'),
  });
  const childErrorKnown = new sfn.Choice(scope, DetachedStates.ChildErrorKnown)
    .when(
      sfn.Condition.and(sfn.Condition.isPresent('$.child.Error'), sfn.Condition.isPresent('$.child.Cause')),
      childFailed,
    )
    .otherwise(failedAsIs);
  continueAsNew.addCatch(
    new sfn.Choice(scope, DetachedStates.ChildFailureIsJson)
      .when(sfn.Condition.stringMatches('$.failure.Cause', '{*'), readChildFailure.next(childErrorKnown))
      .otherwise(failedAsIs),
    { errors: [sfn.Errors.ALL], resultPath: '$.failure' },
  );

  const afterPoll = new sfn.Choice(scope, DetachedStates.AfterPoll)
    .when(sfn.Condition.booleanEquals('$.done', true), succeeded)
    .when(
      sfn.Condition.numberGreaterThanEquals('$.job.pollsThisExecution', POLLS_PER_EXECUTION),
      continueAsNew,
    )
    .when(sfn.Condition.booleanEquals('$.job.drain', true), poll)
    .otherwise(wait);
  wait.next(poll);
  poll.next(afterPoll);
  start.next(wait);
  resume.next(wait);
  cancel.next(afterPoll);
  return { start, resume, cancel };
}
