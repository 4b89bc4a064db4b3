import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EcsExecRunner, type EcsExecRunnerProps } from '../../lib/ecs-exec-runner';
import {
  type CfnTemplate,
  definitionFromTemplate,
  type LocalAwsEnv,
  resolveIntrinsics,
} from '../../lib/local/definition';

export const CLUSTER_A = 'arn:aws:ecs:eu-west-1:111122223333:cluster/prod';
export const CLUSTER_B = 'arn:aws:ecs:eu-west-1:111122223333:cluster/batch';
export const EXEC_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` does. */
export const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/**
 * A fresh app with cdk.json's feature flags, without the built-in CloudFormation validator (about
 * 2 s per synth) and, unless `bundle` is set, without bundling the Lambda code (esbuild runs once,
 * in the test that checks the bundle).
 */
export function fastApp(
  options: { readonly bundle?: boolean; readonly context?: Record<string, unknown> } = {},
): App {
  return new App({
    builtinCloudFormationValidation: false,
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
}

export interface RunnerFixture {
  readonly app: App;
  readonly stack: Stack;
  readonly runner: EcsExecRunner;
  readonly template: Template;
  readonly json: CfnTemplate;
}

/** A stack holding only the runner, aimed at imported clusters (no VPC, no lookups). */
export function runnerStack(
  props: Partial<EcsExecRunnerProps> & {
    readonly clusterArns?: readonly string[];
    readonly keyArn?: string;
    readonly app?: App;
  } = {},
): RunnerFixture {
  const app = props.app ?? fastApp();
  const stack = new Stack(app, 'RunnerTest');
  const { clusterArns = [CLUSTER_A], keyArn, app: _app, ...rest } = props;
  const clusters = clusterArns.map((arn, i) => ecs.Cluster.fromClusterArn(stack, `Cluster${i}`, arn));
  const runner = new EcsExecRunner(stack, 'Runner', {
    clusters,
    ...(keyArn ? { execKmsKey: kms.Key.fromKeyArn(stack, 'Key', keyArn) } : {}),
    ...rest,
  });
  const template = Template.fromStack(stack);
  return { app, stack, runner, template, json: template.toJSON() as CfnTemplate };
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, unknown>;
  readonly Principal?: unknown;
}

/** Every statement of every IAM policy (standalone and inline), with the policy's logical id. */
export function iamStatements(
  json: CfnTemplate,
): Array<{ readonly policy: string; readonly statement: Statement }> {
  const out: Array<{ policy: string; statement: Statement }> = [];
  for (const [id, resource] of Object.entries(json.Resources)) {
    const props = resource.Properties ?? {};
    const documents: unknown[] = [];
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      documents.push(props.PolicyDocument);
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const inline of (props.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []) {
        documents.push(inline.PolicyDocument);
      }
    }
    for (const document of documents) {
      for (const statement of (document as { Statement: Statement[] }).Statement) {
        out.push({ policy: id, statement });
      }
    }
  }
  return out;
}

export const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

export const resourcesOf = (statement: Statement): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

/** The statements of the policies whose logical id starts with `prefix`. */
export function statementsOf(json: CfnTemplate, prefix: string): Statement[] {
  return iamStatements(json)
    .filter((entry) => entry.policy.startsWith(prefix))
    .map((entry) => entry.statement);
}

/** The statements that allow `action`. */
export function statementsAllowing(
  json: CfnTemplate,
  action: string,
): Array<{ policy: string; statement: Statement }> {
  return iamStatements(json).filter(({ statement }) => actionsOf(statement).includes(action));
}

/** A state machine's definition, intrinsics resolved (see lib/local/definition.ts). */
export function definitionOf(
  json: CfnTemplate,
  logicalIdPrefix: string,
): Record<string, unknown> & {
  States: Record<string, Record<string, unknown>>;
} {
  return definitionFromTemplate(json, logicalIdPrefix) as unknown as Record<string, unknown> & {
    States: Record<string, Record<string, unknown>>;
  };
}

/** asl-validator ships no type declarations. */
export type AslValidator = (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

/** The exec function of a runner template: its logical id and its environment, intrinsics resolved. */
export function runnerFunctionEnvironment(
  json: CfnTemplate,
  env: LocalAwsEnv,
): { readonly logicalId: string; readonly environment: Record<string, string> } {
  const found = Object.entries(json.Resources).find(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && /^RunnerFunction[0-9A-F]{8}$/.test(id),
  );
  if (found === undefined) throw new Error('the template has no runner function');
  const [logicalId, fn] = found;
  const variables =
    (fn.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
  return { logicalId, environment: resolveIntrinsics(variables, env) as Record<string, string> };
}
