import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { DetachedInput, detachedDefinition } from './detached-workflow';
import { type ExecInvokeOptions, execInvokeTask } from './exec-invoke-task';

export { type ExecInvokeOptions, execInvokeTask, LAMBDA_SERVICE_ERRORS } from './exec-invoke-task';

/** State names of the "run one command" state machine (stable: tests and tools refer to them). */
export const RunCommandStates = {
  AddExecutionName: 'AddExecutionName',
  Route: 'Route',
  RunCommand: 'RunCommand',
  CommandFailed: 'CommandFailed',
} as const;

export interface RunCommandOptions extends ExecInvokeOptions {
  /** This state machine (by name): the detached path continues in child executions of it. */
  readonly self: sfn.IStateMachine;
  /** A `timeoutSeconds` above this takes the detached path (what one invocation can hold). */
  readonly maxAttachedSeconds: number;
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
