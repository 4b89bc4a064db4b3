/**
 * Runs a synthesized state machine definition on this machine: resolves the intrinsics of the
 * template's DefinitionString, then executes it with aws-local-stepfunctions, with every
 * `lambda:invoke` Task bound to a local function (e.g. the real handler).
 */
import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type AwsSdkIntegration, awsSdkResource } from './aws-sdk-integration';
import {
  type ChildOutcome,
  type DistributedMapOptions,
  rewriteDistributedMaps,
  runDistributedMap,
} from './distributed-map';

/** The pseudo parameters a resolved definition uses. */
export interface LocalAwsEnv {
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly account?: string;
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** A synthesized CloudFormation template (what `Template.toJSON()` or cdk.out holds). */
export interface CfnTemplate {
  readonly Resources: Record<string, TemplateResource>;
}

/**
 * Replaces Ref / Fn::GetAtt / Fn::Join / Fn::Select / Fn::Split with local values: pseudo
 * parameters from `env`, `Ref X` → "X", `GetAtt X.Arn` → a Lambda-style ARN named X (the
 * definitions here only take ARNs of functions), other attributes → "X.Attr".
 */
export function resolveIntrinsics(value: unknown, env: LocalAwsEnv = {}): unknown {
  const partition = env.partition ?? 'aws';
  const region = env.region ?? 'us-east-1';
  const account = env.account ?? '123456789012';
  const pseudo: Record<string, string> = {
    'AWS::Partition': partition,
    'AWS::Region': region,
    'AWS::AccountId': account,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'LocalStack',
  };
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (node === null || typeof node !== 'object') return node;
    const record = node as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1) {
      const key = keys[0] as string;
      const arg = record[key];
      switch (key) {
        case 'Ref':
          return pseudo[String(arg)] ?? String(arg);
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = arg as [string, string];
          return attribute === 'Arn'
            ? `arn:${partition}:lambda:${region}:${account}:function:${logicalId}`
            : `${logicalId}.${attribute}`;
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return parts.map((part) => String(resolve(part))).join(separator);
        }
        case 'Fn::Split': {
          const [separator, source] = arg as [string, unknown];
          return String(resolve(source)).split(separator);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, unknown];
          const items = resolve(list);
          if (!Array.isArray(items)) throw new Error('Fn::Select needs a list');
          return items[Number(index)];
        }
        case 'Fn::Sub':
          throw new Error('Fn::Sub is not supported in state machine definitions here');
      }
    }
    return Object.fromEntries(keys.map((k) => [k, resolve(record[k])]));
  };
  return resolve(value);
}

/** Logical ids of the template's state machines. */
export function stateMachineLogicalIds(template: CfnTemplate): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine')
    .map(([id]) => id);
}

/**
 * The resolved definition of one state machine of the template: the only one, or the one whose
 * logical id starts with `logicalIdPrefix` (e.g. "RunnerRunCommandStateMachine").
 */
export function definitionFromTemplate(
  template: CfnTemplate,
  logicalIdPrefix?: string,
  env?: LocalAwsEnv,
): StateMachineDefinition {
  const ids = stateMachineLogicalIds(template).filter((id) =>
    logicalIdPrefix === undefined ? true : id.startsWith(logicalIdPrefix),
  );
  if (ids.length !== 1) {
    throw new Error(
      `expected one state machine${logicalIdPrefix ? ` with a logical id starting "${logicalIdPrefix}"` : ''}, found ${ids.length}: ${stateMachineLogicalIds(template).join(', ')}`,
    );
  }
  const resource = template.Resources[ids[0] as string] as TemplateResource;
  const text = resolveIntrinsics(resource.Properties?.DefinitionString, env);
  if (typeof text !== 'string') throw new Error(`state machine ${ids[0]} has no DefinitionString`);
  return JSON.parse(text) as StateMachineDefinition;
}

/** The states (at any depth: Map item processors, iterators, Parallel branches) that `matches`, with their names. */
function statesWhere(
  definition: unknown,
  matches: (state: Record<string, unknown>) => boolean,
): Array<[name: string, state: Record<string, unknown>]> {
  const found: Array<[string, Record<string, unknown>]> = [];
  const visit = (machine: unknown): void => {
    if (machine === null || typeof machine !== 'object') return;
    const states = (machine as { States?: Record<string, unknown> }).States ?? {};
    for (const [name, state] of Object.entries(states)) {
      if (state === null || typeof state !== 'object') continue;
      const s = state as Record<string, unknown>;
      if (matches(s)) found.push([name, s]);
      visit(s.ItemProcessor);
      visit(s.Iterator);
      if (Array.isArray(s.Branches)) s.Branches.forEach(visit);
    }
  };
  visit(definition);
  return found;
}

/** Names of the states (at any depth) that `matches`. */
function stateNamesWhere(
  definition: unknown,
  matches: (state: Record<string, unknown>) => boolean,
): string[] {
  return statesWhere(definition, matches).map(([name]) => name);
}

/** Names of the Task states (at any depth) whose resource is the Lambda invoke integration. */
export function lambdaInvokeStateNames(definition: unknown): string[] {
  return stateNamesWhere(
    definition,
    (s) => s.Type === 'Task' && typeof s.Resource === 'string' && /:states:::lambda:invoke$/.test(s.Resource),
  );
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Calls the function `functionArn` with `payload` and returns its result, or throws its error. */
export type LocalLambdaInvoker = (functionArn: string, payload: unknown) => Promise<unknown>;

export interface RunLocallyOptions {
  /** `$$.Execution.Name`. @default 'local-<uuid>' */
  readonly executionName?: string;
  /** Overrides for other Task states (e.g. aws-sdk integrations), by state name. */
  readonly taskOverrides?: Readonly<Record<string, (input: JsonValue) => Promise<JsonValue> | JsonValue>>;
  /** Wait between retries, instead of the definition's back-off. @default 0 */
  readonly retryIntervalMs?: number;
  /** The state machine's ARN: `$$.Execution.Id` and map-run ARNs derive from it. @default …:stateMachine:local */
  readonly stateMachineArn?: string;
  /** Runs Distributed Map states (distributed-map.ts); a definition with one needs it. */
  readonly distributedMap?: DistributedMapOptions;
  /** Answers `aws-sdk:<service>:<action>` Task states that `taskOverrides` does not. */
  readonly awsSdkIntegration?: AwsSdkIntegration;
  /** Skip validating the definition (already validated: a Distributed Map's ItemProcessor, run per item). */
  readonly skipValidation?: boolean;
  /** Wait states pause this long instead of what the definition says. @default as defined */
  readonly waitMs?: number;
  /** Aborts the execution (StopExecution): it ends FAILED with error "States.Aborted". */
  readonly signal?: AbortSignal;
  /** Called when a `startExecution.sync` Task starts a child execution (run locally, same definition). */
  readonly onChildExecution?: (input: unknown) => void;
}

const DEFAULT_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:local';

export type LocalExecutionResult =
  | { readonly status: 'SUCCEEDED'; readonly output: unknown; readonly retries: readonly LocalRetry[] }
  | {
      readonly status: 'FAILED';
      readonly error: string;
      readonly cause: string;
      readonly retries: readonly LocalRetry[];
    };

/** One retry the execution made: which state, after which error. */
export interface LocalRetry {
  readonly state: string;
  readonly error: string;
}

/**
 * Runs `definition` with `input`. Each `lambda:invoke` Task calls `invokeLambda` with the
 * FunctionName and Payload the state resolved; its result becomes the integration's
 * `{StatusCode, Payload}` envelope, and its error becomes what Step Functions reports for a
 * Lambda error: the error's name, and `{"errorType","errorMessage","trace"}` as the cause.
 */
export async function runStateMachineLocally(
  definition: StateMachineDefinition,
  input: unknown,
  invokeLambda: LocalLambdaInvoker,
  options: RunLocallyOptions = {},
): Promise<LocalExecutionResult> {
  installPromiseWithResolvers();
  const lambdaStates = lambdaInvokeStateNames(definition);
  const handlers: Record<string, (input: JsonValue) => Promise<JsonValue> | JsonValue> = {};
  for (const name of lambdaStates) {
    handlers[name] = async (stateInput: JsonValue) => {
      const { FunctionName, Payload } = (stateInput ?? {}) as { FunctionName?: unknown; Payload?: unknown };
      try {
        const result = await invokeLambda(String(FunctionName), Payload);
        // Through JSON, as over the wire: undefined fields vanish, dates become strings.
        const payload = result === undefined ? null : (JSON.parse(JSON.stringify(result)) as JsonValue);
        return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: payload };
      } catch (err) {
        throw lambdaFunctionError(err);
      }
    };
  }
  const integration = options.awsSdkIntegration;
  if (integration !== undefined) {
    for (const [name, state] of statesWhere(definition, (s) => s.Type === 'Task')) {
      const call = awsSdkResource(state.Resource);
      if (call !== undefined)
        handlers[name] = (parameters) => integration(call.service, call.action, parameters);
    }
  }
  const executionName = options.executionName ?? `local-${randomUUID()}`;
  const stateMachineArn = options.stateMachineArn ?? DEFAULT_STATE_MACHINE_ARN;
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
  const { definition: runnable, handlers: mapHandlers } = rewriteDistributedMaps(
    definition as unknown as { [key: string]: JsonValue },
    (config, parameters) => {
      if (options.distributedMap === undefined) {
        throw new Error(`state "${config.stateName}" is a Distributed Map: pass options.distributedMap`);
      }
      const runChild = async (
        processor: { [key: string]: JsonValue },
        item: JsonValue,
        child: { readonly name: string; readonly stateMachineArn: string },
      ): Promise<ChildOutcome> => {
        const result = await runStateMachineLocally(
          processor as unknown as StateMachineDefinition,
          item,
          invokeLambda,
          {
            ...options,
            executionName: child.name,
            stateMachineArn: child.stateMachineArn,
            skipValidation: true,
          },
        );
        return result.status === 'SUCCEEDED'
          ? { status: 'SUCCEEDED', output: JSON.stringify(result.output ?? null) }
          : { status: 'FAILED', error: result.error, cause: result.cause };
      };
      return runDistributedMap(
        config,
        parameters,
        { executionArn, stateMachineArn, runChild },
        options.distributedMap,
      );
    },
  );
  // A child execution of this same state machine (continue-as-new), with the .sync:2 result shape.
  let children = 0;
  for (const name of childExecutionStateNames(definition)) {
    handlers[name] = async (stateInput: JsonValue) => {
      const { Input } = (stateInput ?? {}) as { Input?: unknown };
      options.onChildExecution?.(Input);
      children += 1;
      const child = await runStateMachineLocally(definition, Input, invokeLambda, {
        ...options,
        executionName: `${executionName}-${children}`,
      });
      if (child.status === 'SUCCEEDED') return { Status: 'SUCCEEDED', Output: child.output as JsonValue };
      const error = new Error(JSON.stringify({ Status: 'FAILED', Error: child.error, Cause: child.cause }));
      error.name = 'States.TaskFailed';
      throw error;
    };
  }
  Object.assign(handlers, mapHandlers, options.taskOverrides ?? {});
  const retryIntervals: Record<string, number> = {};
  for (const name of retryingStateNames(definition)) retryIntervals[name] = options.retryIntervalMs ?? 0;
  const waitTimes: Record<string, number> = {};
  if (options.waitMs !== undefined) {
    for (const name of stateNamesWhere(definition, (s) => s.Type === 'Wait'))
      waitTimes[name] = options.waitMs;
  }

  // The rewritten states' resource is not an AWS ARN the validator knows.
  const machine = new StateMachine(runnable as unknown as StateMachineDefinition, {
    validationOptions: options.skipValidation ? { noValidate: true } : { checkArn: false },
  });
  const execution = machine.run(input as JsonValue, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      retryIntervalOverrides: retryIntervals,
      waitTimeOverrides: waitTimes,
    },
    context: {
      Execution: { Name: executionName, Id: executionArn },
      StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').slice(6).join(':') },
    },
  });
  const abort = (): void => execution.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  if (options.signal?.aborted) abort();
  const retries: LocalRetry[] = [];
  const lastError = new Map<string, string>();
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateFailed') lastError.set(event.state.name, event.Error);
      if (event.type === 'StateRetried') {
        retries.push({ state: event.state.name, error: lastError.get(event.state.name) ?? 'unknown' });
      }
    }
  })();
  try {
    const output = await execution.result;
    await collect.catch(() => undefined);
    return { status: 'SUCCEEDED', output, retries };
  } catch (err) {
    await collect.catch(() => undefined);
    if (options.signal?.aborted)
      return { status: 'FAILED', error: 'States.Aborted', cause: 'stopped', retries };
    const failure = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    return {
      status: 'FAILED',
      error: failure instanceof Error ? failure.name : 'Unknown',
      cause: failure instanceof Error ? failure.message : String(failure),
      retries,
    };
  }
}

/** Names of the Task states that start an execution and wait for it (`states:startExecution.sync`). */
function childExecutionStateNames(definition: unknown): string[] {
  return stateNamesWhere(
    definition,
    (s) =>
      s.Type === 'Task' &&
      typeof s.Resource === 'string' &&
      /:states:::states:startExecution\.sync(:2)?$/.test(s.Resource),
  );
}

/** Names of the states with a Retry field, at any depth (for the retry-interval override). */
function retryingStateNames(definition: unknown): string[] {
  return stateNamesWhere(definition, (s) => s.Retry !== undefined);
}

/** What Step Functions sees when a Lambda function throws: the error type, and the runtime's JSON as the cause. */
function lambdaFunctionError(err: unknown): Error {
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  const error = new Error(JSON.stringify({ errorType: name, errorMessage: message, trace: [] }));
  error.name = name;
  return error;
}

/** aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks (Node >= 22 has it). */
function installPromiseWithResolvers(): void {
  type Resolvers = { promise: Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };
  const promiseStatic = Promise as unknown as { withResolvers?: () => Resolvers };
  if (typeof promiseStatic.withResolvers === 'function') return;
  promiseStatic.withResolvers = (): Resolvers => {
    let resolve: (v: unknown) => void = () => undefined;
    let reject: (e: unknown) => void = () => undefined;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
