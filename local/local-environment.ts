/**
 * Everything needed to run the real exec Lambda with no AWS account: the fake AWS endpoint (ECS,
 * KMS, SSM, S3, Step Functions, CloudFormation) with its message-gateway double, whose agent runs
 * commands on this machine in a pty; the SDK reaches it only through the standard endpoint
 * environment variables. On top of it:
 *
 * - `invoke(event)`: the handler, called as Lambda calls it (a context with 15 minutes left);
 * - `runStateMachine(input)`: the synthesized "run one command" state machine of the demo stack,
 *   run locally (aws-local-stepfunctions) with its Task bound to the handler and the function's
 *   synthesized environment, its clusters being the local world's;
 * - `runFanOut(input)`: the synthesized fan-out state machine, its Distributed Map run by the local
 *   equivalent (lib/local/distributed-map.ts) over the fake S3, its summary steps answered by the
 *   fake Step Functions;
 * - both state machines registered in the fake Step Functions (StartExecution etc.), and the
 *   demo stack's outputs in the fake CloudFormation, so `ecs-exec run --stack EcsExecRunnerDemo`
 *   (with or without `--fan-out`) works against `fake.env`.
 *
 * The stack is synthesized on first use (no Docker, no network: bundling is skipped), so a plain
 * `invoke` never pays for loading aws-cdk-lib.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Context } from 'aws-lambda';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { lambdaErrorCause } from '../cli/failure';
import { DEFAULT_STACK_NAME } from '../cli/stack-names';
import { ExecEnv } from '../lambda/contract';
import { DETACHED_JOB_FIELD } from '../lambda/detach/detach-contract';
import { FanOutEnv } from '../lambda/fan-out/fan-out-contract';
import type { CfnTemplate, LocalExecutionResult } from '../lib/local/definition';
import {
  clusterArn,
  DEFAULT_WORLD_IDS,
  type ExecutionExecutor,
  type ExecutionHistoryRecorder,
  FAST_SESSION_DEFAULTS,
  type FakeAws,
  type FakeStackOutput,
  kmsKeyArn,
  startFakeAws,
} from './fake-aws';
import { EnvironmentGate, overlayEnv, registerLocalFanOut } from './local-fan-out';

/** The stack name `bin/app.ts` deploys, so the same `--stack` (or none) works here and against AWS. */
export const LOCAL_STACK_NAME = DEFAULT_STACK_NAME;
/** Logical-id prefix of that state machine in the synthesized template. */
const RUN_COMMAND_LOGICAL_ID_PREFIX = 'RunnerRunCommandStateMachine';
const FAN_OUT_LOGICAL_ID_PREFIX = 'RunnerFanOutStateMachine';
/** Name of the local state machine (a deployed one gets `<logicalId>-<random>` from CloudFormation). */
export const LOCAL_RUN_COMMAND_STATE_MACHINE_NAME = `${LOCAL_STACK_NAME}-RunCommand`;
/** Name of the local fan-out state machine. */
export const LOCAL_FAN_OUT_STATE_MACHINE_NAME = `${LOCAL_STACK_NAME}-FanOut`;
/** Lambda's longest run time: what `invoke` leaves the handler, like a function with a 15 min timeout. */
export const LAMBDA_MAX_TIMEOUT_MS = 15 * 60_000;
const LOCAL_FUNCTION_NAME = 'ecs-exec-runner-local';
const LOCAL_MEMORY_MB = '512';
const MS_PER_SECOND = 1000;
/** How long close() waits for executions and invocations still running after the endpoint went away. */
const CLOSE_DRAIN_MS = 5_000;
/** Environment the synthesized function sets that means nothing in this process. */
const IGNORED_FUNCTION_ENV: readonly string[] = [
  // The fake has no bucket or table of these (logical-id) names; large outputs are returned head + tail.
  ExecEnv.OutputBucket,
  ExecEnv.IdempotencyTable,
  // The runtime's flags; this process already runs.
  'NODE_OPTIONS',
];

/**
 * Services whose endpoint the environment may already name (`AWS_ENDPOINT_URL_<ID>`): their calls
 * go there (LocalStack, another ECS Exec stand-in), the embedded endpoint serves the rest.
 */
export const EXTERNAL_ENDPOINT_SERVICES = ['ECS', 'SSM', 'KMS'] as const;
export type ExternalEndpointService = (typeof EXTERNAL_ENDPOINT_SERVICES)[number];

/** The per-service endpoints set in `env` for the services that may live elsewhere. */
export function externalEndpoints(
  env: NodeJS.ProcessEnv = process.env,
): Partial<Record<ExternalEndpointService, string>> {
  const found: Partial<Record<ExternalEndpointService, string>> = {};
  for (const id of EXTERNAL_ENDPOINT_SERVICES) {
    const value = env[`AWS_ENDPOINT_URL_${id}`]?.trim();
    if (value) found[id] = value;
  }
  return found;
}

export interface LocalEnvironmentOptions {
  /** Port of the fake AWS endpoint. @default 0 (any free port) */
  readonly port?: number;
  /**
   * Agent timings for tests (first read after 10 ms instead of 1 s, quick resends). @default false:
   * the real agent's timings, so a local run shows real latencies.
   */
  readonly fastAgent?: boolean;
  /**
   * Services served by another endpoint instead of the embedded one.
   * @default externalEndpoints(process.env): the AWS_ENDPOINT_URL_{ECS,SSM,KMS} already set
   */
  readonly endpoints?: Partial<Record<ExternalEndpointService, string>>;
}

export type HandlerResult = Awaited<ReturnType<HandlerModule['handler']>>;

export interface LocalEnvironment {
  readonly fake: FakeAws;
  /** The CloudFormation stack name the fake answers DescribeStacks for. */
  readonly stackName: string;
  /** ARN of the "run one command" state machine registered in the fake Step Functions. */
  readonly runCommandStateMachineArn: string;
  /** Services that go to another endpoint (from AWS_ENDPOINT_URL_<ID>), with it. */
  readonly externalEndpoints: Partial<Record<ExternalEndpointService, string>>;
  /** ARN of the fan-out state machine registered in the fake Step Functions (its synthesized name). */
  readonly fanOutStateMachineArn: string;
  /** Calls the real handler with `event`, as Lambda would (calls may overlap, as in separate instances). */
  invoke(event: unknown): Promise<HandlerResult>;
  /** Runs the synthesized "run one command" state machine with `input`. */
  runStateMachine(
    input: unknown,
    options?: { readonly executionName?: string },
  ): Promise<LocalExecutionResult>;
  /**
   * Runs the synthesized fan-out state machine with `input` (an event naming a service), its
   * Distributed Map run locally (lib/local/distributed-map.ts) and its summary steps answered by
   * the fake Step Functions.
   */
  runFanOut(input: unknown, options?: { readonly executionName?: string }): Promise<LocalExecutionResult>;
  /**
   * Stops every command and session, closes the endpoint, restores process.env. Idempotent. Then
   * waits up to `drainMs` (default 5 s) for executions and invocations still running to fail
   * (they do at once: their sockets are gone), so no work outlives the call; a process about to
   * exit passes 0.
   */
  close(options?: { readonly drainMs?: number }): Promise<void>;
}

/** What the synthesized demo stack gives the local runs. */
interface SynthesizedRunner {
  readonly definition: StateMachineDefinition;
  readonly fanOutDefinition: StateMachineDefinition;
  readonly definitionText: string;
  readonly template: CfnTemplate;
  readonly outputs: FakeStackOutput[];
}

interface TemplateWithOutputs extends CfnTemplate {
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Description?: string }>;
}

/*
 * Modules loaded on first use with require(): in a CommonJS module, import() of a relative .ts path
 * goes through Node's ESM loader, which runs TypeScript only when tsx's ESM hooks are installed too.
 */
type HandlerModule = typeof import('../lambda/handler');
type DefinitionModule = typeof import('../lib/local/definition');
type ListTasksModule = typeof import('../lambda/fan-out/list-service-tasks');
type ListTasksEvent = Parameters<ListTasksModule['handler']>[0];
const loadDefinitions = (): DefinitionModule => require('../lib/local/definition') as DefinitionModule;

/**
 * One local environment per process, ever: the handler creates its SDK clients once and keeps them
 * (with the endpoint they resolved) for the life of the process, so a second endpoint would not be
 * reached. Each jest test file has its own module registry, hence its own handler.
 */
let started = false;

/**
 * Starts the fake endpoint, applies its environment to this process (unsetting AWS_PROFILE and
 * AWS_SESSION_TOKEN) and registers the local state machine and stack. Throws the listen error
 * (`code: 'EADDRINUSE'`) when `port` is taken.
 */
export async function startLocalEnvironment(
  options: LocalEnvironmentOptions = {},
): Promise<LocalEnvironment> {
  if (started) {
    throw new Error(
      'a local environment was already started in this process (the handler keeps its SDK clients and their endpoint)',
    );
  }
  started = true;
  // Read before the fake's environment replaces them.
  const external = options.endpoints ?? externalEndpoints(process.env);
  let fake: FakeAws;
  try {
    fake = await startFakeAws({
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.fastAgent ? { sessionDefaults: FAST_SESSION_DEFAULTS } : {}),
    });
  } catch (err) {
    // Nothing reached the handler: a retry (e.g. on another port) is fine.
    started = false;
    throw err;
  }
  const restoreEnv = fake.applyEnv();
  for (const [id, endpoint] of Object.entries(external)) process.env[`AWS_ENDPOINT_URL_${id}`] = endpoint;
  // Another ECS has other clusters: the function may target any (IAM would still apply in AWS).
  const clusterScope: Record<string, string> =
    external.ECS !== undefined ? { [ExecEnv.AllowedClusters]: '' } : {};
  const world = fake.world;
  const clusterArns = [
    clusterArn(world, DEFAULT_WORLD_IDS.cluster),
    clusterArn(world, DEFAULT_WORLD_IDS.kmsCluster),
  ];
  const stateMachineArn = `arn:aws:states:${world.region}:${world.account}:stateMachine:${LOCAL_RUN_COMMAND_STATE_MACHINE_NAME}`;
  const fanOutArn = `arn:aws:states:${world.region}:${world.account}:stateMachine:${LOCAL_FAN_OUT_STATE_MACHINE_NAME}`;
  /** The environment the CDK construct gives the function, for `invoke` (which synthesizes nothing). */
  const invokeEnv: Record<string, string> = {
    [ExecEnv.DefaultCluster]: clusterArns[0] as string,
    [ExecEnv.AllowedClusters]: clusterArns.join(','),
    [ExecEnv.DefaultService]: DEFAULT_WORLD_IDS.service,
    ...clusterScope,
  };

  let handlerModule: HandlerModule | undefined;
  // Loaded after applyEnv: the Logger reads its settings, and the clients their endpoint, from it.
  const loadHandler = (): HandlerModule => {
    handlerModule ??= require('../lambda/handler') as HandlerModule;
    return handlerModule;
  };
  const loadListTasks = (): ListTasksModule =>
    require('../lambda/fan-out/list-service-tasks') as ListTasksModule;

  // The handler reads its settings from process.env, which one process shares: invocations of the
  // same function overlap (Lambda runs them in separate instances), others wait their turn.
  const gate = new EnvironmentGate();
  const pending = new Set<Promise<unknown>>();
  const callHandler = (
    event: unknown,
    env: Readonly<Record<string, string>>,
    timeoutMs: number,
    kind: FunctionKind = 'exec',
  ): Promise<HandlerResult> => {
    const context = lambdaContext(world, timeoutMs);
    const result = gate.run(env, async () =>
      kind === 'listTasks'
        ? ((await loadListTasks().handler(event as ListTasksEvent)) as unknown as HandlerResult)
        : loadHandler().handler(event, context),
    );
    pending.add(result);
    const forget = (): void => {
      pending.delete(result);
    };
    result.then(forget, forget);
    return result;
  };

  let synthesized: Promise<SynthesizedRunner> | undefined;
  const synth = (): Promise<SynthesizedRunner> => {
    synthesized ??= synthesizeRunner(world, clusterArns, stateMachineArn, fanOutArn);
    return synthesized;
  };

  const execute = async (
    input: unknown,
    executionName: string,
    history?: ExecutionHistoryRecorder,
    signal?: AbortSignal,
  ): Promise<LocalExecutionResult> => {
    const runner = await synth();
    const { runStateMachineLocally, lambdaInvokeStateNames } = loadDefinitions();
    const observer = new HistoryObserver(
      runner.definition,
      lambdaInvokeStateNames(runner.definition),
      world.region,
      history,
    );
    observer.started(input);
    const result = await runStateMachineLocally(
      runner.definition,
      input,
      async (functionArn, payload) => {
        const fn = functionOf(runner.template, functionArn);
        observer.scheduled(functionArn, payload);
        try {
          const env = { ...withDetachedOutputBucket(payload, fn.env), ...clusterScope };
          const output = await callHandler(payload, env, fn.timeoutMs);
          observer.succeeded(output);
          return output;
        } catch (err) {
          observer.failed(err);
          throw err;
        }
      },
      { executionName, ...(signal !== undefined ? { signal } : {}) },
    );
    observer.ended(result);
    return result;
  };

  const executor: ExecutionExecutor = async (run) => {
    const result = await execute(run.input, run.name, run.history, run.signal);
    return result.status === 'SUCCEEDED'
      ? { status: 'SUCCEEDED', output: result.output }
      : { status: 'FAILED', error: result.error, cause: result.cause };
  };
  fake.stateMachines.register(stateMachineArn, executor);

  const executeFanOut = registerLocalFanOut({
    stateMachines: fake.stateMachines,
    stateMachineArn: fanOutArn,
    definition: async () => (await synth()).fanOutDefinition,
    invoke: async (functionArn, payload) => {
      const fn = functionOf((await synth()).template, functionArn);
      return callHandler(payload, { ...fn.env, ...clusterScope }, fn.timeoutMs, fn.kind);
    },
  });
  fake.stacks.put({
    stackName: LOCAL_STACK_NAME,
    description: 'ecs-exec-runner: the demo stack, synthesized and run on this machine',
    outputs: async () => (await synth()).outputs,
  });

  let closing: Promise<void> | undefined;
  const close = (closeOptions: { readonly drainMs?: number } = {}): Promise<void> => {
    closing ??= (async () => {
      // Closing the endpoint kills every command and socket, so what still runs fails fast.
      await fake.close();
      const drainMs = closeOptions.drainMs ?? CLOSE_DRAIN_MS;
      if (drainMs > 0) await withTimeout(Promise.all([fake.stateMachines.settled(), ...pending]), drainMs);
      restoreEnv();
    })();
    return closing;
  };

  return {
    fake,
    stackName: LOCAL_STACK_NAME,
    runCommandStateMachineArn: stateMachineArn,
    externalEndpoints: external,
    fanOutStateMachineArn: fanOutArn,
    invoke: (event) => callHandler(event, invokeEnv, LAMBDA_MAX_TIMEOUT_MS),
    runStateMachine: (input, runOptions = {}) =>
      execute(input, runOptions.executionName ?? `local-${randomUUID()}`),
    runFanOut: (input, runOptions = {}) =>
      executeFanOut(input, runOptions.executionName ?? `local-${randomUUID()}`),
    close,
  };
}

/**
 * Detached jobs need an output bucket (their output is collected there); the fake S3 has every
 * bucket, so their steps get a local one. Attached runs keep none: large outputs come back head + tail.
 */
export const LOCAL_OUTPUT_BUCKET = 'ecs-exec-runner-local-output';

function withDetachedOutputBucket(
  payload: unknown,
  env: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  const detached = payload !== null && typeof payload === 'object' && DETACHED_JOB_FIELD in payload;
  return detached ? { ...env, [ExecEnv.OutputBucket]: LOCAL_OUTPUT_BUCKET } : env;
}

async function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** A context as the Lambda runtime builds it, with `timeoutMs` left. */
export function lambdaContext(world: { region: string; account: string }, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: LOCAL_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${world.region}:${world.account}:function:${LOCAL_FUNCTION_NAME}`,
    memoryLimitInMB: LOCAL_MEMORY_MB,
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${LOCAL_FUNCTION_NAME}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    // The runtime's legacy callbacks; the handler returns a promise.
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Which handler a function of the template runs: the exec Lambda, or the fan-out's task lister. */
type FunctionKind = 'exec' | 'listTasks';

/** The function a Task's resolved FunctionName names: its environment and timeout from the template. */
function functionOf(
  template: CfnTemplate,
  functionArn: string,
): { readonly env: Record<string, string>; readonly timeoutMs: number; readonly kind: FunctionKind } {
  const logicalId = functionArn.split(':function:')[1] ?? '';
  const resource = template.Resources[logicalId];
  if (resource === undefined || resource.Type !== 'AWS::Lambda::Function') {
    throw new Error(`the state machine invokes ${functionArn}, which is not a function of the template`);
  }
  const props = resource.Properties ?? {};
  const [, partition, , region, account] = functionArn.split(':');
  const variables = loadDefinitions().resolveIntrinsics(
    (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
    { ...(partition ? { partition } : {}), ...(region ? { region } : {}), ...(account ? { account } : {}) },
  ) as Record<string, unknown>;
  const env: Record<string, string> = {};
  // The fan-out's listing function writes the task list its Distributed Map reads: it keeps the bucket.
  const kind: FunctionKind = FanOutEnv.DefaultMaxConcurrency in variables ? 'listTasks' : 'exec';
  const ignored =
    kind === 'listTasks'
      ? IGNORED_FUNCTION_ENV.filter((name) => name !== ExecEnv.OutputBucket)
      : IGNORED_FUNCTION_ENV;
  for (const [name, value] of Object.entries(variables)) {
    if (!ignored.includes(name) && typeof value === 'string') env[name] = value;
  }
  const timeoutSeconds =
    typeof props.Timeout === 'number' ? props.Timeout : LAMBDA_MAX_TIMEOUT_MS / MS_PER_SECOND;
  return { env, timeoutMs: timeoutSeconds * MS_PER_SECOND, kind };
}

/**
 * Synthesizes the demo stack as `cdk synth` would for existing clusters (cdk.json's feature flags,
 * bundling skipped), aimed at the local world's two clusters and KMS key.
 */
async function synthesizeRunner(
  world: { region: string; account: string },
  clusterArns: readonly string[],
  stateMachineArn: string,
  fanOutArn: string,
): Promise<SynthesizedRunner> {
  const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { EcsExecRunnerDemoStack } =
    require('../lib/ecs-exec-runner-demo-stack') as typeof import('../lib/ecs-exec-runner-demo-stack');
  const definitions = loadDefinitions();
  const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({
    // The CloudFormation validator adds seconds and checks nothing a local run needs.
    builtinCloudFormationValidation: false,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new EcsExecRunnerDemoStack(app, LOCAL_STACK_NAME, {
    config: {
      existingClusterArns: clusterArns,
      execKmsKeyArn: kmsKeyArn(world, DEFAULT_WORLD_IDS.kmsKeyUuid),
      defaultService: DEFAULT_WORLD_IDS.service,
    },
  });
  // The fan-out workflow uses APIs aws-cdk-lib marks deprecated; their warnings would reach the user.
  const restore = overlayEnv(process.env.JSII_DEPRECATED === undefined ? { JSII_DEPRECATED: 'quiet' } : {});
  let template: TemplateWithOutputs;
  try {
    template = app.synth().getStackByName(stack.stackName).template as TemplateWithOutputs;
  } finally {
    restore();
  }
  const env = { region: world.region, account: world.account };
  const definition = definitions.definitionFromTemplate(template, RUN_COMMAND_LOGICAL_ID_PREFIX, env);
  const fanOutDefinition = definitions.definitionFromTemplate(template, FAN_OUT_LOGICAL_ID_PREFIX, env);
  const stateMachineIds = new Set(definitions.stateMachineLogicalIds(template));
  const outputs: FakeStackOutput[] = Object.entries(template.Outputs ?? {}).map(([key, output]) => {
    const ref = (output.Value as { Ref?: unknown } | null)?.Ref;
    let value: unknown;
    if (typeof ref === 'string' && stateMachineIds.has(ref)) {
      // A state machine's Ref is its ARN: the local ones are executable here.
      value = ref.startsWith(RUN_COMMAND_LOGICAL_ID_PREFIX)
        ? stateMachineArn
        : ref.startsWith(FAN_OUT_LOGICAL_ID_PREFIX)
          ? fanOutArn
          : `arn:aws:states:${world.region}:${world.account}:stateMachine:${ref}`;
    } else {
      value = definitions.resolveIntrinsics(output.Value, env);
    }
    return {
      OutputKey: key,
      OutputValue: String(value),
      ...(output.Description !== undefined ? { Description: output.Description } : {}),
    };
  });
  return { definition, fanOutDefinition, definitionText: JSON.stringify(definition), template, outputs };
}

const LAMBDA_RESOURCE = { resourceType: 'lambda', resource: 'invoke' } as const;
/** The status the Lambda invoke integration reports for a synchronous call that returned. */
const LAMBDA_INVOKE_STATUS_OK = 200;

/**
 * Writes a Step Functions history for one local run of the "run one command" state machine from
 * what can be observed: the input, each Lambda invocation (parameters, result or error) and the
 * end. Retries show as a new TaskScheduled after a TaskFailed, as in Step Functions. Data that is
 * not observed (a Pass state's output) is left out rather than reconstructed.
 */
class HistoryObserver {
  private readonly passName: string | undefined;
  private readonly taskName: string | undefined;
  private readonly catchTarget: string | undefined;
  private readonly taskTimeoutSeconds: number | undefined;
  private taskEntered = false;
  private lastFailure: { readonly error: string; readonly cause: string } | undefined;

  constructor(
    definition: StateMachineDefinition,
    lambdaStates: readonly string[],
    private readonly region: string,
    private readonly history: ExecutionHistoryRecorder | undefined,
  ) {
    const states = definition.States as unknown as Record<string, Record<string, unknown>>;
    const start = states[definition.StartAt];
    this.passName = start?.Type === 'Pass' ? definition.StartAt : undefined;
    this.taskName = lambdaStates[0];
    const task = this.taskName === undefined ? undefined : states[this.taskName];
    const catchers = task?.Catch as ReadonlyArray<{ readonly Next?: string }> | undefined;
    this.catchTarget = catchers?.[0]?.Next;
    this.taskTimeoutSeconds = typeof task?.TimeoutSeconds === 'number' ? task.TimeoutSeconds : undefined;
  }

  started(input: unknown): void {
    if (this.passName === undefined) return;
    this.add('PassStateEntered', {
      name: this.passName,
      input: JSON.stringify(input),
      inputDetails: { truncated: false },
    });
    this.add('PassStateExited', { name: this.passName });
  }

  scheduled(functionArn: string, payload: unknown): void {
    if (!this.taskEntered && this.taskName !== undefined) {
      this.taskEntered = true;
      this.add('TaskStateEntered', { name: this.taskName });
    }
    this.add('TaskScheduled', {
      ...LAMBDA_RESOURCE,
      region: this.region,
      parameters: JSON.stringify({ FunctionName: functionArn, Payload: payload }),
      ...(this.taskTimeoutSeconds !== undefined ? { timeoutInSeconds: this.taskTimeoutSeconds } : {}),
    });
    this.add('TaskStarted', { ...LAMBDA_RESOURCE });
  }

  succeeded(output: unknown): void {
    this.lastFailure = undefined;
    const envelope = {
      StatusCode: LAMBDA_INVOKE_STATUS_OK,
      ExecutedVersion: '$LATEST',
      Payload: output ?? null,
    };
    this.add('TaskSucceeded', {
      ...LAMBDA_RESOURCE,
      output: JSON.stringify(envelope),
      outputDetails: { truncated: false },
    });
  }

  failed(err: unknown): void {
    // The cause Step Functions shows for a Lambda error: the runtime's error envelope.
    const { error, cause } = lambdaErrorCause(err);
    this.lastFailure = { error, cause };
    this.add('TaskFailed', { ...LAMBDA_RESOURCE, error, cause });
  }

  ended(result: LocalExecutionResult): void {
    if (this.taskName === undefined || !this.taskEntered) return;
    if (result.status === 'SUCCEEDED') {
      this.add('TaskStateExited', {
        name: this.taskName,
        output: JSON.stringify(result.output),
        outputDetails: { truncated: false },
      });
      return;
    }
    if (this.lastFailure !== undefined && this.catchTarget !== undefined) {
      const caught = JSON.stringify({ Error: this.lastFailure.error, Cause: this.lastFailure.cause });
      this.add('TaskStateExited', {
        name: this.taskName,
        output: caught,
        outputDetails: { truncated: false },
      });
      this.add('FailStateEntered', {
        name: this.catchTarget,
        input: caught,
        inputDetails: { truncated: false },
      });
    }
  }

  private add(type: string, details: Record<string, unknown>): void {
    this.history?.add(type, details);
  }
}
