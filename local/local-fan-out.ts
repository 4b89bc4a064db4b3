/**
 * The pieces the local environment needs to run the synthesized fan-out state machine: its
 * executor (the local Distributed Map over the fake S3, the summary's aws-sdk calls to the fake
 * Step Functions), and a gate that lets handler invocations of the same function overlap, as Lambda
 * runs concurrent invocations in separate instances, while keeping functions with different
 * environments apart (this process has one process.env).
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LocalExecutionResult, LocalLambdaInvoker } from '../lib/local/definition';
import type { DistributedMapIo } from '../lib/local/distributed-map';
import type { StateMachineRegistry } from './fake-aws';

/*
 * Loaded on first use with require(), like the local environment's other CDK-side modules (a
 * plain `invoke` never needs them).
 */
type DefinitionModule = typeof import('../lib/local/definition');
type AwsSdkIntegrationModule = typeof import('../lib/local/aws-sdk-integration');

export interface LocalFanOutOptions {
  /** The fake Step Functions: the executions and map runs it answers for. */
  readonly stateMachines: StateMachineRegistry;
  readonly stateMachineArn: string;
  /** The synthesized fan-out definition (intrinsics resolved). */
  readonly definition: () => Promise<StateMachineDefinition>;
  /** Invokes a function of the template as Lambda would. */
  readonly invoke: LocalLambdaInvoker;
}

/**
 * Registers the fan-out state machine in the fake Step Functions (so StartExecution runs it) and
 * returns the function that runs one execution of it in this process.
 */
export function registerLocalFanOut(
  options: LocalFanOutOptions,
): (input: unknown, executionName: string) => Promise<LocalExecutionResult> {
  const io = sdkDistributedMapIo();
  const execute = async (input: unknown, executionName: string): Promise<LocalExecutionResult> => {
    const { runStateMachineLocally } = require('../lib/local/definition') as DefinitionModule;
    const { sdkIntegration } = require('../lib/local/aws-sdk-integration') as AwsSdkIntegrationModule;
    return runStateMachineLocally(await options.definition(), input, options.invoke, {
      executionName,
      stateMachineArn: options.stateMachineArn,
      distributedMap: { io, observer: options.stateMachines.mapRuns },
      awsSdkIntegration: sdkIntegration(),
    });
  };
  options.stateMachines.register(options.stateMachineArn, async (run) => {
    const result = await execute(run.input, run.name);
    return result.status === 'SUCCEEDED'
      ? { status: 'SUCCEEDED', output: result.output }
      : { status: 'FAILED', error: result.error, cause: result.cause };
  });
  return execute;
}

/** ItemReader and ResultWriter over an S3 client configured from the environment. */
export function sdkDistributedMapIo(): DistributedMapIo {
  let client: S3Client | undefined;
  const s3 = (): S3Client => {
    client ??= new S3Client({});
    return client;
  };
  return {
    async getObject(bucket, key) {
      const object = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await object.Body?.transformToString('utf8')) ?? '';
    },
    async putObject(bucket, key, body) {
      await s3().send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }),
      );
    },
  };
}

/** Sets `env` in process.env; returns the undo. */
export function overlayEnv(env: Readonly<Record<string, string>>): () => void {
  const saved = new Map(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * Runs work with an environment overlaid on process.env. Calls with the same environment run
 * together; a call with another one waits until none is running, then overlays its own.
 */
export class EnvironmentGate {
  private current: string | undefined;
  private active = 0;
  private restore: (() => void) | undefined;
  private waiters: Array<() => void> = [];

  async run<T>(env: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
    const key = JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    while (this.active > 0 && this.current !== key) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.active === 0) {
      this.current = key;
      this.restore = overlayEnv(env);
    }
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
      if (this.active === 0) {
        this.restore?.();
        this.restore = undefined;
        this.current = undefined;
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      }
    }
  }
}
