import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { RETRYABLE_ERROR_NAMES } from '../lambda/contract';

/** Transient errors of the Lambda service itself (Step Functions best practice, plus throttling). */
export const LAMBDA_SERVICE_ERRORS: readonly string[] = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** How the state machines invoke the exec Lambda. */
export interface ExecInvokeOptions {
  /** Task timeout: a bit more than the function's own timeout, so the function reports first. */
  readonly taskTimeout: Duration;
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
