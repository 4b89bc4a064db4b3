/**
 * The synthesized "run one command" state machine, run locally (aws-local-stepfunctions) with its
 * Lambda Task bound to the real handler, which talks to the fake AWS endpoint and the agent double.
 */
import type { Context } from 'aws-lambda';
import { ExecErrorName, type ExecResult } from '../../lambda/contract';
// The handler creates its SDK clients on first use, after the fake endpoint's env is applied.
import { handler } from '../../lambda/handler';
import {
  definitionFromTemplate,
  type LocalExecutionResult,
  runStateMachineLocally,
} from '../../lib/local/definition';
import { RunCommandStates } from '../../lib/run-command-workflow';
import { DEFAULT_ACCOUNT, DEFAULT_REGION, FAST_SESSION_DEFAULTS, startFakeAws } from '../../local/fake-aws';
import { runnerFunctionEnvironment, runnerStack } from './helpers';

type FakeAws = Awaited<ReturnType<typeof startFakeAws>>;

const CLUSTER_ARN = `arn:aws:ecs:${DEFAULT_REGION}:${DEFAULT_ACCOUNT}:cluster/local`;

let fake: FakeAws;
let restoreEnv: () => void;
let definition: ReturnType<typeof definitionFromTemplate>;
/** The deployed function's environment (intrinsics resolved): what the handler reads at run time. */
let functionEnv: Record<string, string>;
let functionLogicalId: string;
/** Every invocation the state machine made: the function ARN and the event. */
let invocations: Array<{ functionArn: string; event: Record<string, unknown> }>;

function lambdaContext(remainingMs = 120_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    functionName: 'ecs-exec-runner',
    awsRequestId: `req-${invocations.length}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as Context;
}

/** Invokes the real handler as Lambda would: with the function's environment, one event at a time. */
async function invokeLambda(functionArn: string, payload: unknown): Promise<unknown> {
  invocations.push({ functionArn, event: payload as Record<string, unknown> });
  const saved = Object.fromEntries(Object.keys(functionEnv).map((key) => [key, process.env[key]]));
  Object.assign(process.env, functionEnv);
  try {
    return await handler(payload, lambdaContext());
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

const run = (input: Record<string, unknown>, executionName: string): Promise<LocalExecutionResult> =>
  runStateMachineLocally(definition, input, invokeLambda, { executionName });

beforeAll(async () => {
  const { json } = runnerStack({ clusterArns: [CLUSTER_ARN], defaultService: 'web' });
  definition = definitionFromTemplate(json, 'RunnerRunCommandStateMachine', {
    region: DEFAULT_REGION,
    account: DEFAULT_ACCOUNT,
  });
  ({ logicalId: functionLogicalId, environment: functionEnv } = runnerFunctionEnvironment(json, {
    region: DEFAULT_REGION,
    account: DEFAULT_ACCOUNT,
  }));
  // The fake has no bucket or table by these (logical-id) names; the commands here never need them.
  delete functionEnv.OUTPUT_BUCKET;
  delete functionEnv.IDEMPOTENCY_TABLE;

  fake = await startFakeAws({ sessionDefaults: FAST_SESSION_DEFAULTS });
  restoreEnv = fake.applyEnv();
});

afterAll(async () => {
  restoreEnv();
  await fake.close();
});

beforeEach(() => {
  invocations = [];
  fake.faults.executeCommand = [];
});

describe('"run one command" state machine, run locally against the real handler', () => {
  it('returns the handler result as the execution output', async () => {
    const result = await run({ command: "printf 'hello\\nworld\\n'" }, 'local-success');

    expect(result.status).toBe('SUCCEEDED');
    const output = (result as { output: ExecResult }).output;
    expect(output).toMatchObject({
      exitCode: 0,
      output: 'hello\nworld\n',
      truncated: false,
      cluster: 'local',
      container: 'app',
    });
    expect(output.sessionId).toMatch(/^ecs-execute-command-/);
    // The Task called the function of the template, with the input plus the execution name.
    expect(invocations).toEqual([
      {
        functionArn: `arn:aws:lambda:${DEFAULT_REGION}:${DEFAULT_ACCOUNT}:function:${functionLogicalId}`,
        event: { command: "printf 'hello\\nworld\\n'", executionName: 'local-success' },
      },
    ]);
    expect(functionEnv).toMatchObject({ DEFAULT_CLUSTER: CLUSTER_ARN, DEFAULT_SERVICE: 'web' });
  });

  it('fails with NonZeroExit, keeping the Lambda error and its cause, without retrying', async () => {
    const result = await run({ command: "echo 'about to fail'; exit 3" }, 'local-nonzero');

    expect(result).toMatchObject({ status: 'FAILED', error: ExecErrorName.NonZeroExit, retries: [] });
    const cause = JSON.parse((result as { cause: string }).cause) as {
      errorType: string;
      errorMessage: string;
    };
    expect(cause.errorType).toBe(ExecErrorName.NonZeroExit);
    expect(JSON.parse(cause.errorMessage)).toMatchObject({ exitCode: 3, outputTail: 'about to fail\n' });
    expect(invocations).toHaveLength(1);
  });

  it('retries AgentNotReady, then returns the result of the next attempt', async () => {
    // One "agent not connected" answer; with 3 s for the command, the handler gives up at once.
    fake.faults.executeCommand = [{ error: 'TargetNotConnectedException', times: 1 }];

    const result = await run({ command: 'echo ready', timeoutSeconds: 3 }, 'local-retry');

    expect(result.retries).toEqual([
      { state: RunCommandStates.RunCommand, error: ExecErrorName.AgentNotReady },
    ]);
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { exitCode: 0, output: 'ready\n' } });
    expect(invocations).toHaveLength(2);
    expect(invocations[1]?.event).toEqual(invocations[0]?.event);
  });

  it('catches InvalidInput into CommandFailed without retrying or calling AWS', async () => {
    const callsBefore = fake.calls.length;
    const result = await run({ command: 'ls', unexpected: true }, 'local-invalid');

    expect(result).toMatchObject({ status: 'FAILED', error: ExecErrorName.InvalidInput, retries: [] });
    const envelope = JSON.parse((result as { cause: string }).cause) as { errorMessage: string };
    expect(JSON.parse(envelope.errorMessage).message).toMatch(/unknown field "unexpected"/);
    expect(fake.calls.length).toBe(callsBefore);
  });
});
