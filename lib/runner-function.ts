import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { RUNNER_HANDLER, RUNNER_RUNTIME, type RunnerLambdaName, runnerLambdaCode } from './bundling';

export const RUNNER_SERVICE_NAME = 'ecs-exec-runner';

export interface RunnerFunctionOptions {
  /** Which bundle of `RUNNER_LAMBDAS` (lib/bundling.ts). */
  readonly code: RunnerLambdaName;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment: Record<string, string>;
  readonly statements: readonly iam.PolicyStatement[];
  readonly retention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One of the runner's functions: its prebuilt (or locally bundled) code, its own log group and an
 * explicit role holding only that log group and the statements given (no managed policy).
 */
export function createRunnerFunction(
  scope: Construct,
  id: string,
  options: RunnerFunctionOptions,
): lambda.Function {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: options.retention,
    removalPolicy: options.removalPolicy,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `${options.description} (role)`,
  });
  logGroup.grantWrite(role);
  for (const statement of options.statements) role.addToPrincipalPolicy(statement);
  return new lambda.Function(scope, id, {
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
      POWERTOOLS_SERVICE_NAME: RUNNER_SERVICE_NAME,
    },
  });
}
