/**
 * `ecs-exec cancel <execution>`: stops a detached job and its execution. Stopping an execution by
 * hand would leave the job running in the container, so this
 *
 *   1. reads the job's latest state from the execution's history (following continue-as-new);
 *   2. stops the execution (StopExecution; its running child goes with it), so its polls end;
 *   3. starts a cancel execution of the same state machine, input `{"cancelJob": <job state>}`,
 *      which sends TERM to the job's process group, KILL after the grace, collects the remaining
 *      output and fails with CommandTimedOut ("cancelled"), exactly as a timeout does;
 *   4. waits for it and reports like `ecs-exec run`.
 */
import {
  DescribeExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DetachedInput } from '../lambda/detach/detach-contract';
import { CliError, usageError } from './execution-exit-codes';
import { ExitCode } from './exit-codes';
import { latestJobState } from './follow';

const CANCEL_SUFFIX = '-cancel';
/** Right after `run --detach --no-wait` the job may still be starting: wait this long for its state. */
const JOB_STATE_WAIT_MS = 60_000;
const JOB_STATE_POLL_MS = 1_000;
const MAX_EXECUTION_NAME_CHARS = 80;

export interface CancelResult {
  /** The execution that stops the job and collects its last output. */
  readonly cancelExecutionArn: string;
  readonly jobId: string;
}

/** Stops the execution and starts the one that cancels its job; returns the latter's ARN. */
export async function cancelDetached(
  sfn: SFNClient,
  executionArn: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<CancelResult> {
  const deadline = Date.now() + JOB_STATE_WAIT_MS;
  let execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  let job = await latestJobState(sfn, executionArn);
  while (job === undefined && execution.status === 'RUNNING' && Date.now() < deadline) {
    await sleep(JOB_STATE_POLL_MS);
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    job = await latestJobState(sfn, executionArn);
  }
  if (execution.status !== 'RUNNING') {
    throw usageError(
      `the execution is ${execution.status ?? 'in an unknown state'}, not RUNNING: ${executionArn}`,
    );
  }
  if (job === undefined) {
    throw usageError(
      `no detached job found in the execution's history (not a detached run, or not started yet): ${executionArn}`,
    );
  }
  await sfn.send(
    new StopExecutionCommand({
      executionArn,
      error: 'Cancelled',
      cause: `ecs-exec cancel: job ${job.jobId} is being stopped`,
    }),
  );
  const stateMachineArn = execution.stateMachineArn;
  if (stateMachineArn === undefined)
    throw new CliError('DescribeExecution gave no state machine ARN', ExitCode.Unexpected);
  const name = `${(execution.name ?? 'job').slice(0, MAX_EXECUTION_NAME_CHARS - CANCEL_SUFFIX.length)}${CANCEL_SUFFIX}`;
  const started = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      name,
      input: JSON.stringify({ [DetachedInput.CancelJob]: job }),
    }),
  );
  if (started.executionArn === undefined)
    throw new CliError('StartExecution returned no executionArn', ExitCode.Unexpected);
  return { cancelExecutionArn: started.executionArn, jobId: job.jobId };
}
