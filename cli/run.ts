/**
 * `ecs-exec run`: start the "run one command" state machine with an exec event, wait for the end
 * with DescribeExecution, print the command's output and exit with its exit code.
 */
import { randomBytes } from 'node:crypto';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecEvent, ExecResult } from '../lambda/contract';
import { buildExecEvent, buildFanOutInput, type EventOptions } from './event';
import { CliError, RunExitCode, usageError } from './execution-exit-codes';
import { ExitCode } from './exit-codes';
import { describeFailure, formatFailure } from './failure';
import { isTasksFailed, type ObjectReader, parseFanOutSummary, printFanOutResults } from './fan-out';
import { followDetached } from './follow';
import { fetchHistory, formatTimeline } from './history';
import type { OutputStream } from './output-stream';
import { Spinner } from './spinner';
import { stateMachineArnFromStack } from './stack';
import { DEFAULT_STACK_NAME, FAN_OUT_OUTPUT_KEY, RUN_COMMAND_OUTPUT_KEY } from './stack-names';

/**
 * DescribeExecution back-off: the first look after 0.5 s, then 1.5 times longer each time, up to
 * one every 5 s. A run takes a few seconds (the agent alone waits 1 s before its first read);
 * doubling would make a 3.6 s run wait until 7.5 s, this reports it at 4.1 s, and a long one
 * still costs one cheap call per 5 s.
 */
export const POLL_INITIAL_DELAY_MS = 500;
export const POLL_MAX_DELAY_MS = 5_000;
const POLL_BACKOFF_FACTOR = 1.5;
const MS_PER_SECOND = 1000;
/** Step Functions execution names: 1–80 of letters, digits, `-` and `_` (here). */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const NAME_RANDOM_BYTES = 6;
const JSON_INDENT = 2;

export type { OutputStream } from './output-stream';

export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
}

export interface RunOptions extends EventOptions {
  readonly stateMachine?: string;
  readonly stack?: string;
  /** Execution name. @default generated (ecs-exec-<time>-<random>) */
  readonly name?: string;
  /** false: print the execution ARN and return at once. */
  readonly wait: boolean;
  /** Print the execution's timeline to stderr at the end. */
  readonly history: boolean;
  /** Print the raw result (or failure) as JSON instead of the output. */
  readonly json: boolean;
  /** Stop waiting after this many seconds (the execution goes on). @default no limit */
  readonly pollMaxSeconds?: number;
  /** Run on every task of the service through the fan-out state machine; print a block per task. */
  readonly fanOut?: boolean;
  /** `--fan-out` only: tasks run at once (as typed). @default the state machine's default */
  readonly maxConcurrency?: string;
}

export interface RunDeps {
  readonly sfn: SFNClient;
  /** Created only for --detach, to print the job's output as it arrives. */
  readonly s3?: () => S3Client;
  /** Created only for --stack (or the default stack). */
  readonly cloudFormation: () => CloudFormationClient;
  readonly io: CliIo;
  /** Aborted on Ctrl-C / SIGTERM, with the signal name as the reason. */
  readonly signal?: AbortSignal;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now?: () => number;
  readonly executionName?: () => string;
  /** `--fan-out` reads the per-task results from S3 with this (created on first use). */
  readonly readObject?: () => ObjectReader;
}

type Execution = DescribeExecutionCommandOutput;

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The delays between DescribeExecution calls: 0.5, 0.75, 1.125, 1.688, 2.531, 3.797, 5, 5, … seconds. */
export function nextPollDelay(previousMs: number | undefined): number {
  return previousMs === undefined
    ? POLL_INITIAL_DELAY_MS
    : Math.min(Math.round(previousMs * POLL_BACKOFF_FACTOR), POLL_MAX_DELAY_MS);
}

/** A unique, valid execution name: sortable by time, random enough never to collide. */
export function generateExecutionName(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `ecs-exec-${stamp}-${randomBytes(NAME_RANDOM_BYTES).toString('hex')}`;
}

export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** Runs `ecs-exec run`; returns the process exit code. */
export async function runCommand(options: RunOptions, deps: RunDeps): Promise<number> {
  const { io } = deps;
  if (options.maxConcurrency !== undefined && !options.fanOut) {
    throw usageError('--max-concurrency needs --fan-out');
  }
  const event = options.fanOut ? buildFanOutInput(options) : buildExecEvent(options);
  if (!options.wait && options.history) {
    throw usageError('--history needs the execution to end; with --no-wait use `ecs-exec history ARN` later');
  }
  if (options.stateMachine !== undefined && options.stack !== undefined) {
    throw usageError('give --state-machine or --stack, not both');
  }
  if (options.name !== undefined && !EXECUTION_NAME.test(options.name)) {
    throw usageError(`--name must be 1-80 letters, digits, "-" or "_", got "${options.name}"`);
  }
  const stateMachineArn =
    options.stateMachine ??
    (await stateMachineArnFromStack(
      deps.cloudFormation(),
      options.stack ?? DEFAULT_STACK_NAME,
      options.fanOut ? FAN_OUT_OUTPUT_KEY : RUN_COMMAND_OUTPUT_KEY,
    ));

  const executionArn = await start(stateMachineArn, event, options.name, deps);
  if (!options.wait) {
    io.stdout.write(`${executionArn}\n`);
    return ExitCode.Success;
  }

  const execution =
    options.detach && deps.s3 !== undefined && !options.json
      ? await followDetached(executionArn, {
          sfn: deps.sfn,
          s3: deps.s3(),
          stdout: io.stdout,
          sleep: deps.sleep ?? sleep,
          ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
        })
      : await waitForEnd(executionArn, options, deps);
  if (execution === undefined) {
    const reason = deps.signal?.reason;
    const stop = options.detach
      ? `ecs-exec cancel ${executionArn}`
      : `aws stepfunctions stop-execution --execution-arn ${executionArn}`;
    io.stderr.write(`interrupted; the execution goes on: ${executionArn}\n  stop it with: ${stop}\n`);
    return reason === 'SIGTERM' ? RunExitCode.Terminated : RunExitCode.Interrupted;
  }
  // A followed job's output is already printed, chunk by chunk.
  const streamed = options.detach === true && deps.s3 !== undefined;
  const code = options.fanOut
    ? await reportFanOut(execution, options, deps)
    : report(execution, { ...options, streamed }, io);
  if (options.history && execution.status !== 'RUNNING') {
    io.stderr.write(formatTimeline(await fetchHistory(deps.sfn, executionArn)));
  }
  return code;
}

/** Waits for an execution someone else started (e.g. a cancel) and reports it like `run`. */
export async function waitForExecution(executionArn: string, deps: RunDeps): Promise<number> {
  const options: RunOptions = { command: ['(cancel)'], wait: true, history: false, json: false };
  const execution = await waitForEnd(executionArn, options, deps);
  if (execution === undefined) {
    return deps.signal?.reason === 'SIGTERM' ? RunExitCode.Terminated : RunExitCode.Interrupted;
  }
  return report(execution, options, deps.io);
}

/**
 * StartExecution, always with a name. Without one, Step Functions makes up a new name per request,
 * so an SDK retry after a lost answer would start the command twice; with one, the retry of a
 * standard workflow returns the execution the first attempt created (same name and input while it
 * runs), or ExecutionAlreadyExists once it has ended, which is adopted when it is ours.
 */
async function start(
  stateMachineArn: string,
  event: ExecEvent & { readonly maxConcurrency?: number },
  givenName: string | undefined,
  deps: RunDeps,
): Promise<string> {
  const name = givenName ?? (deps.executionName ?? generateExecutionName)();
  const input = JSON.stringify(event);
  try {
    const started = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input }));
    if (started.executionArn === undefined) throw new Error('StartExecution returned no executionArn');
    return started.executionArn;
  } catch (err) {
    if (!(err instanceof Error) || err.name !== 'ExecutionAlreadyExists') throw err;
    const retried = ((err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1;
    const executionArn = executionArnOf(stateMachineArn, name);
    if (givenName === undefined || retried) {
      const existing = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (existing.input === input) return executionArn;
    }
    throw usageError(`an execution named ${name} already exists (${executionArn}); choose another --name`);
  }
}

/** Polls until the execution ends; undefined when interrupted, the RUNNING answer at --poll-max-seconds. */
async function waitForEnd(
  executionArn: string,
  options: RunOptions,
  deps: RunDeps,
): Promise<Execution | undefined> {
  const now = deps.now ?? Date.now;
  const pause = deps.sleep ?? sleep;
  const deadline =
    options.pollMaxSeconds === undefined ? undefined : now() + options.pollMaxSeconds * MS_PER_SECOND;
  const spinner = new Spinner(deps.io.stderr, executionArn.split(':').pop() ?? executionArn, now);
  spinner.start();
  try {
    let delay: number | undefined;
    for (;;) {
      delay = nextPollDelay(delay);
      const left = deadline === undefined ? delay : Math.max(0, Math.min(delay, deadline - now()));
      await pause(left, deps.signal);
      if (deps.signal?.aborted) return undefined;
      const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (deps.signal?.aborted) return undefined;
      spinner.update(execution.status ?? '');
      if (execution.status !== 'RUNNING' && execution.status !== 'PENDING_REDRIVE') return execution;
      if (deadline !== undefined && now() >= deadline) return execution;
    }
  } finally {
    spinner.stop();
  }
}

function isExecResult(value: unknown): value is ExecResult {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { output?: unknown }).output === 'string' &&
    'exitCode' in value
  );
}

const pretty = (value: unknown): string => `${JSON.stringify(value, null, JSON_INDENT)}\n`;

/**
 * `--fan-out`: once the execution has ended with its summary (its output, or the cause of
 * TasksFailed), one block per task from the S3 results on stdout (or all of it as JSON with
 * --json), the counts on stderr; exit 0 only when every task succeeded. Any other end (the listing
 * failed, a timeout) is reported as for a single run.
 */
async function reportFanOut(execution: Execution, options: RunOptions, deps: RunDeps): Promise<number> {
  const summaryText =
    execution.status === 'SUCCEEDED'
      ? execution.output
      : execution.status === 'FAILED' && isTasksFailed(execution.error)
        ? execution.cause
        : undefined;
  const summary = parseFanOutSummary(summaryText);
  if (summary === undefined || deps.readObject === undefined) return report(execution, options, deps.io);
  const code = await printFanOutResults(summary, deps.readObject(), deps.io, {
    json: options.json,
    execution: { executionArn: execution.executionArn, status: execution.status },
  });
  deps.io.stderr.write(`execution: ${execution.executionArn ?? ''}\n`);
  return code;
}

/** Prints the end of the execution; returns the exit code. */
function report(
  execution: Execution,
  options: RunOptions & { readonly streamed?: boolean },
  io: CliIo,
): number {
  const arn = execution.executionArn ?? '';
  switch (execution.status) {
    case 'SUCCEEDED': {
      let result: unknown;
      try {
        result = JSON.parse(execution.output ?? 'null');
      } catch {
        throw new CliError(`the execution's output is not JSON: ${arn}`, ExitCode.Unexpected);
      }
      if (options.json) {
        io.stdout.write(pretty(result));
      } else if (isExecResult(result)) {
        // Exactly what the command printed: no newline added, none taken away.
        if (!options.streamed) io.stdout.write(result.output);
      } else {
        io.stdout.write(pretty(result));
      }
      if (isExecResult(result) && result.truncated && !options.streamed) {
        io.stderr.write(
          `note: the output (${result.outputBytes} bytes) was shortened to fit the Step Functions result${result.outputS3Uri ? `; all of it is in ${result.outputS3Uri}` : ''}\n`,
        );
      }
      return isExecResult(result) && typeof result.exitCode === 'number' ? result.exitCode : ExitCode.Success;
    }
    case 'FAILED': {
      const failure = describeFailure(execution.error, execution.cause);
      if (options.json) {
        io.stdout.write(
          pretty({
            executionArn: arn,
            status: execution.status,
            error: execution.error,
            cause: execution.cause,
          }),
        );
      }
      io.stderr.write(`${formatFailure(failure)}execution: ${arn}\n`);
      return failure.exitCode;
    }
    case 'TIMED_OUT':
    case 'ABORTED': {
      if (options.json) io.stdout.write(pretty({ executionArn: arn, status: execution.status }));
      const what = execution.status === 'TIMED_OUT' ? 'timed out (the state machine timeout)' : 'was stopped';
      io.stderr.write(`the execution ${what}: ${arn}\n`);
      return execution.status === 'TIMED_OUT' ? RunExitCode.ExecutionTimedOut : RunExitCode.ExecutionAborted;
    }
    case 'RUNNING':
    case 'PENDING_REDRIVE': {
      if (options.json) io.stdout.write(pretty({ executionArn: arn, status: execution.status }));
      io.stderr.write(`still running after --poll-max-seconds ${options.pollMaxSeconds}: ${arn}\n`);
      return RunExitCode.StillRunning;
    }
    default:
      io.stderr.write(`the execution ended with status ${execution.status}: ${arn}\n`);
      return ExitCode.Unexpected;
  }
}
