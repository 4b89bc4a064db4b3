/**
 * The integration test as a CDK app: the demo stack (a Fargate service with ECS Exec on, KMS-encrypted
 * sessions, and the runner) as the test case, and assertions that run real commands through the
 * run-one state machine. Deploying the assertion stack runs the assertions as custom resources, so a
 * failed assertion fails the deploy (scripts/integ.ts deploys, then destroys both stacks).
 *
 * Shared by the entry point (integ.runner.ts, what `npm run integ` deploys) and the offline snapshot
 * test (runner-integ-app.test.ts).
 */
import { ExpectedResult, type IApiCall, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { type App, Duration, RemovalPolicies, Stack } from 'aws-cdk-lib';
import { ExecErrorName } from '../../lambda/contract';
import { EcsExecRunnerDemoStack } from '../../lib/ecs-exec-runner-demo-stack';

export const INTEG_STACK_NAME = 'EcsExecRunnerInteg';
export const INTEG_TEST_NAME = 'EcsExecRunnerIntegTest';
export const ASSERTION_STACK_NAME = 'EcsExecRunnerIntegAssertions';

/** Output on both streams (the pty merges them) and arithmetic, so the shell really ran it. */
export const SUCCESS_COMMAND = 'echo "integ $((6 * 7))"; echo "to stderr" >&2';
export const SUCCESS_OUTPUT_PATTERN = 'integ 42\\s+to stderr';
export const FAILING_EXIT_CODE = 3;
export const FAILING_COMMAND = `echo "about to fail"; exit ${FAILING_EXIT_CODE}`;

/**
 * The first run may meet an agent that is still starting (AgentNotReady, retried by the state
 * machine); the waiter polls the execution until it ends, within this bound.
 */
export const ASSERTION_TOTAL_TIMEOUT = Duration.minutes(10);
export const ASSERTION_INTERVAL = Duration.seconds(15);
const COMMAND_TIMEOUT_SECONDS = 120;

export interface RunnerIntegApp {
  readonly testStack: EcsExecRunnerDemoStack;
  readonly integ: IntegTest;
  /** The stack holding the assertions (IntegTest's DeployAssert stack). */
  readonly assertionStack: Stack;
}

export function buildRunnerIntegApp(app: App): RunnerIntegApp {
  const testStack = new EcsExecRunnerDemoStack(app, INTEG_STACK_NAME);
  // Nothing of a test run may outlive it: the KMS key, logs and buckets go with `cdk destroy`.
  RemovalPolicies.of(testStack).destroy();
  const demo = testStack.demo;
  if (!demo) throw new Error('the integration test needs the demo cluster (no existing clusters)');

  const assertionStack = new Stack(app, ASSERTION_STACK_NAME);
  const integ = new IntegTest(app, INTEG_TEST_NAME, { testCases: [testStack], assertionStack });
  const stateMachineArn = testStack.runner.runCommandStateMachine.stateMachineArn;
  const waitUntilEnded = { totalTimeout: ASSERTION_TOTAL_TIMEOUT, interval: ASSERTION_INTERVAL };

  // Every session on the demo cluster is KMS-encrypted (the cluster requires it), so a run that
  // succeeds there proves the KMS handshake; this pins that the cluster really requires it.
  const clusterRequiresKms = integ.assertions
    .awsApiCall('ECS', 'describeClusters', {
      clusters: [demo.cluster.clusterArn],
      include: ['CONFIGURATIONS'],
    })
    .expect(
      ExpectedResult.objectLike({
        clusters: [
          Match.objectLike({
            configuration: Match.objectLike({
              // ECS may answer with the key's ARN or its id: both contain the id.
              executeCommandConfiguration: Match.objectLike({
                kmsKeyId: Match.stringLikeRegexp(demo.execKey.keyId),
              }),
            }),
          }),
        ],
      }),
    )
    // Also for a one-shot check: only assertions behind a waiter fail the deploy when they fail
    // (the others report through the stack's AssertionResults outputs, which scripts/integ.ts reads).
    .waitForAssertions({ totalTimeout: Duration.minutes(1), interval: ASSERTION_INTERVAL });

  /** Starts the run-one state machine with `command`; polls the execution until it matches `ended`. */
  const runExpecting = (command: string, ended: Record<string, unknown>): [IApiCall, IApiCall] => {
    const start = integ.assertions.awsApiCall('StepFunctions', 'startExecution', {
      stateMachineArn,
      input: JSON.stringify({ command, timeoutSeconds: COMMAND_TIMEOUT_SECONDS }),
    });
    const describe = integ.assertions
      .awsApiCall('StepFunctions', 'describeExecution', { executionArn: start.getAttString('executionArn') })
      .expect(ExpectedResult.objectLike(ended))
      .waitForAssertions(waitUntilEnded);
    return [start, describe];
  };

  const [startSuccess, successEnded] = runExpecting(SUCCESS_COMMAND, {
    status: 'SUCCEEDED',
    output: Match.serializedJson({
      exitCode: 0,
      output: Match.stringLikeRegexp(SUCCESS_OUTPUT_PATTERN),
      truncated: false,
    }),
  });
  const [startFailing, failingEnded] = runExpecting(FAILING_COMMAND, {
    status: 'FAILED',
    error: ExecErrorName.NonZeroExit,
    cause: Match.stringLikeRegexp(`exited with code ${FAILING_EXIT_CODE}`),
  });

  // In order: the first run absorbs the agent's start-up, the failing run then meets a ready agent.
  clusterRequiresKms.next(startSuccess).next(successEnded).next(startFailing).next(failingEnded);

  return { testStack, integ, assertionStack };
}
