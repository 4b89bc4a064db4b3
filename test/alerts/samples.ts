/**
 * `Step Functions Execution Status Change` events as EventBridge delivers them (the documented
 * shape: input/output as JSON strings, dates in epoch ms, error/cause null unless FAILED), for the
 * runner's two state machines.
 */
import type { ExecutionStatusChangeEvent } from '../../lambda/alerts/format';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const RUN_COMMAND = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:RunnerRunCommandStateMachineE1A2B3C4`;
const FAN_OUT = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:DemoRunnerFanOut`;
const TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/0123456789abcdef0123456789abcdef`;

function statusChange(
  stateMachineArn: string,
  name: string,
  detail: Partial<ExecutionStatusChangeEvent['detail']> & { status: string },
): ExecutionStatusChangeEvent & Record<string, unknown> {
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  return {
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: ACCOUNT,
    time: '2026-12-07T03:00:09Z',
    region: REGION,
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn,
      name,
      startDate: 1796612400123,
      stopDate: 1796612409456,
      input: null,
      output: null,
      error: null,
      cause: null,
      ...detail,
    },
  };
}

/** The cause the CommandFailed Fail state passes on: the Lambda runtime's envelope of the JSON message. */
const nonZeroExitCause = JSON.stringify({
  errorType: 'NonZeroExit',
  errorMessage: JSON.stringify({
    message: 'the command exited with code 3',
    exitCode: 3,
    cluster: 'prod',
    taskArn: TASK_ARN,
    container: 'app',
    sessionId: 'ecs-execute-command-0a1b2c3d4e5f',
    outputBytes: 1234,
    outputTail: `${Array.from({ length: 30 }, (_, i) => `migrating batch ${i + 1}`).join('\n')}\nERROR: disk full\n`,
  }),
  trace: [],
});

export const scheduledNonZeroExit = statusChange(RUN_COMMAND, '9f5e6c1a-1b2c-4d5e-8f90-a1b2c3d4e5f6', {
  status: 'FAILED',
  input: JSON.stringify({
    command: 'bin/rails db:migrate\nbin/rails cache:clear',
    cluster: 'prod',
    service: 'web',
    scheduleName: 'nightly-migrate',
  }),
  error: 'NonZeroExit',
  cause: nonZeroExitCause,
});

export const timedOut = statusChange(RUN_COMMAND, 'manual-run-42', {
  status: 'TIMED_OUT',
  input: JSON.stringify({ command: 'sleep 7200', task: TASK_ARN, cluster: 'prod' }),
});

export const aborted = statusChange(RUN_COMMAND, 'manual-run-43', {
  status: 'ABORTED',
  input: JSON.stringify({ command: 'df -h', service: 'web' }),
});

export const fanOutTasksFailed = statusChange(FAN_OUT, 'fan-out-7', {
  status: 'FAILED',
  input: JSON.stringify({ command: 'hostname', service: 'web', maxConcurrency: 10 }),
  error: 'TasksFailed',
  cause: JSON.stringify({
    total: 300,
    succeeded: 299,
    failed: 1,
    failedTasks: [{ taskArn: TASK_ARN, error: 'NonZeroExit' }],
    resultsLocation: 's3://outputs/exec-output/fan-out/results/fan-out-7/',
  }),
});

export const runtimeError = statusChange(RUN_COMMAND, 'broken-input', {
  status: 'FAILED',
  input: JSON.stringify({ command: '😀 ünïcödé', service: 'web' }),
  error: 'States.Runtime',
  cause: `An error occurred while executing the state 'AddExecutionName'. ${'x'.repeat(5000)}`,
});
