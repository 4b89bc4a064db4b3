import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { RETRYABLE_ERROR_NAMES } from '../lambda/contract';
import { DetachedInput, detachedDefinition } from './detached-workflow';

/** Transient errors of the Lambda service itself (Step Functions best practice, plus throttling). */
export const LAMBDA_SERVICE_ERRORS: readonly string[] = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** State names of the "run one command" state machine (stable: tests and tools refer to them). */
export const RunCommandStates = {
  AddExecutionName: 'AddExecutionName',
  Route: 'Route',
  RunCommand: 'RunCommand',
  CommandFailed: 'CommandFailed',
} as const;

/** How the state machines invoke the exec Lambda. */
export interface ExecInvokeOptions {
  /** Task timeout: a bit more than the function's own timeout, so the function reports first. */
  readonly taskTimeout: Duration;
}

export interface RunCommandOptions extends ExecInvokeOptions {
  /** This state machine (by name): the detached path continues in child executions of it. */
  readonly self: sfn.IStateMachine;
  /** A `timeoutSeconds` above this takes the detached path (what one invocation can hold). */
  readonly maxAttachedSeconds: number;
}

/**
 * Invokes the exec Lambda with the state input as the event; the state result is the handler's
 * result object. Retries the Lambda service's transient errors and `AgentNotReady` with
 * jittered back-off; everything else is left to the caller's Catch.
 */
export function execInvokeTask(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  payload: sfn.TaskInput,
  options: ExecInvokeOptions,
): tasks.LambdaInvoke {
  const invoke = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payload,
    // The integration's envelope is {StatusCode, Payload, ...}: keep only the handler's result.
    outputPath: '$.Payload',
    retryOnServiceExceptions: false,
    taskTimeout: sfn.Timeout.duration(options.taskTimeout),
  });
  invoke.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS],
    interval: Duration.seconds(2),
    maxAttempts: 6,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  invoke.addRetry({
    // The exec agent may still be starting; the Lambda already retried for a while.
    errors: [...RETRYABLE_ERROR_NAMES],
    interval: Duration.seconds(10),
    maxAttempts: 4,
    backoffRate: 2,
    maxDelay: Duration.minutes(1),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return invoke;
}

/**
 * AddExecutionName → Route → RunCommand (retries) → result, or the detached path
 * (detached-workflow.ts); any other failure → CommandFailed, which keeps the Lambda's error name
 * and cause.
 */
export function runCommandDefinition(
  scope: Construct,
  fn: lambda.IFunction,
  options: RunCommandOptions,
): sfn.IChainable {
  const addExecutionName = new sfn.Pass(scope, RunCommandStates.AddExecutionName, {
    comment: 'Keep the input as the event; add the execution name for the logs.',
    parameters: {
      event: sfn.JsonPath.entirePayload,
      context: { executionName: sfn.JsonPath.executionName },
    },
  });
  const run = execInvokeTask(
    scope,
    RunCommandStates.RunCommand,
    fn,
    sfn.TaskInput.fromJsonPathAt(
      sfn.JsonPath.jsonMerge(sfn.JsonPath.objectAt('$.event'), sfn.JsonPath.objectAt('$.context')),
    ),
    options,
  );
  const failed = new sfn.Fail(scope, RunCommandStates.CommandFailed, {
    comment: 'The Lambda error name (e.g. NonZeroExit) and its cause, unchanged.',
    errorPath: sfn.JsonPath.stringAt('$.Error'),
    causePath: sfn.JsonPath.stringAt('$.Cause'),
  });
  run.addCatch(failed, { errors: [sfn.Errors.ALL] });
  const detached = detachedDefinition(scope, { ...options, fn, failed });
  const route = new sfn.Choice(scope, RunCommandStates.Route, {
    comment: 'Detached jobs (detach: true, or a timeout one invocation cannot hold) are started and polled.',
  })
    .when(sfn.Condition.isPresent(`$.event.${DetachedInput.ContinueJob}`), detached.resume)
    .when(sfn.Condition.isPresent(`$.event.${DetachedInput.CancelJob}`), detached.cancel)
    .when(
      sfn.Condition.or(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.event.detach'),
          sfn.Condition.booleanEquals('$.event.detach', true),
        ),
        sfn.Condition.and(
          sfn.Condition.isPresent('$.event.timeoutSeconds'),
          sfn.Condition.isNumeric('$.event.timeoutSeconds'),
          sfn.Condition.numberGreaterThan('$.event.timeoutSeconds', options.maxAttachedSeconds),
        ),
      ),
      detached.start,
    )
    .otherwise(run);
  return addExecutionName.next(route);
}
