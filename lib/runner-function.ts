import * as path from 'node:path';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { RUNNER_RUNTIME, runnerBundlingOptions } from './bundling';

export const RUNNER_SERVICE_NAME = 'ecs-exec-runner';

export interface RunnerFunctionOptions {
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment: Record<string, string>;
  readonly statements: readonly iam.PolicyStatement[];
  readonly bundleAwsSdk: boolean;
  readonly retention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One of the runner's functions: bundled with esbuild like the others, its own log group and an
 * explicit role holding only that log group and the statements given (no managed policy).
 */
export function createRunnerFunction(
  scope: Construct,
  id: string,
  options: RunnerFunctionOptions,
): nodejs.NodejsFunction {
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
  return new nodejs.NodejsFunction(scope, id, {
    entry: options.entry,
    handler: 'handler',
    projectRoot: path.join(__dirname, '..'),
    depsLockFilePath: path.join(__dirname, '..', 'package-lock.json'),
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
      NODE_OPTIONS: '--enable-source-maps',
    },
    bundling: runnerBundlingOptions({ bundleAwsSdk: options.bundleAwsSdk }),
  });
}
