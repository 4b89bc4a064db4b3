/**
 * Reading a fan-out back (`ecs-exec run --fan-out`, `npm start -- --fan-out`): the summary the
 * fan-out state machine ends with (its output, or the cause of its TasksFailed error), then every
 * task's result from the files its Distributed Map's ResultWriter wrote to S3 (manifest.json, then
 * SUCCEEDED_n.json / FAILED_n.json), printed as one block per task: a header with the task id, the
 * task's output, and a footer with its exit code or error.
 */
import type { ExecResult } from '../lambda/contract';
import { FanOutErrorName } from '../lambda/fan-out/fan-out-contract';
import { RunExitCode } from './execution-exit-codes';
import { ExitCode } from './exit-codes';
import { describeFailure } from './failure';

/** The summary the fan-out state machine ends with (lib/fan-out-workflow.ts `Summarize`). */
export interface FanOutSummary {
  readonly cluster: string;
  readonly service: string;
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly aborted: number;
  readonly mapRunArn: string;
  /** Where the ResultWriter's manifest is. */
  readonly results: { readonly Bucket: string; readonly Key: string };
  /** The first failed tasks with their error names (only when some failed). */
  readonly failedTasks?: ReadonlyArray<{ readonly taskArn: string; readonly error: string }>;
}

/** One task's run, as its result record tells it. */
export interface TaskOutcome {
  readonly taskArn: string;
  readonly taskId: string;
  readonly status: string;
  /** null: no exit code (raw mode, or the command never finished). */
  readonly exitCode: number | null;
  /** The output as the result holds it; for a failure, the output tail its error carries. */
  readonly output: string;
  /** The error name and message of a failed run. */
  readonly error?: string;
  readonly message?: string;
  /** Where all of a long output is, when the result holds only its head and tail. */
  readonly outputS3Uri?: string;
}

/** Reads an S3 object as text. */
export type ObjectReader = (bucket: string, key: string) => Promise<string>;

interface ResultRecord {
  readonly Input?: string;
  readonly Status?: string;
  readonly Output?: string;
  readonly Error?: string;
  readonly Cause?: string;
}

interface ResultManifest {
  readonly ResultFiles?: Readonly<Record<string, ReadonlyArray<{ readonly Key?: string }>>>;
}

/** Result files that hold finished runs (PENDING lists items that never ran). */
const FINISHED_STATUSES = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether a failed execution ended with the fan-out's summary as its cause (some tasks failed). */
export const isTasksFailed = (error: string | undefined): boolean => error === FanOutErrorName.TasksFailed;

/** The summary in an execution's output or TasksFailed cause; undefined when it is not one. */
export function parseFanOutSummary(text: string | undefined): FanOutSummary | undefined {
  const value = parseJson(text) as Partial<FanOutSummary> | undefined;
  if (value === undefined || value === null || typeof value !== 'object') return undefined;
  const results = value.results as Partial<FanOutSummary['results']> | undefined;
  if (
    typeof value.total !== 'number' ||
    typeof results?.Bucket !== 'string' ||
    typeof results.Key !== 'string'
  ) {
    return undefined;
  }
  return value as FanOutSummary;
}

function outcomeOf(record: ResultRecord): TaskOutcome {
  const event = parseJson(record.Input) as { task?: unknown } | undefined;
  const taskArn = typeof event?.task === 'string' ? event.task : 'unknown';
  const taskId = taskArn.split('/').pop() ?? taskArn;
  const status = record.Status ?? 'UNKNOWN';
  if (status === 'SUCCEEDED') {
    const result = parseJson(record.Output) as Partial<ExecResult> | undefined;
    return {
      taskArn,
      taskId,
      status,
      exitCode: typeof result?.exitCode === 'number' ? result.exitCode : null,
      output: typeof result?.output === 'string' ? result.output : '',
      ...(typeof result?.outputS3Uri === 'string' ? { outputS3Uri: result.outputS3Uri } : {}),
    };
  }
  const failure = describeFailure(record.Error, record.Cause);
  return {
    taskArn,
    taskId,
    status,
    exitCode: failure.commandExitCode ?? null,
    output: failure.outputTail ?? '',
    error: failure.error,
    message: failure.message,
  };
}

/** Every finished task's outcome, from the manifest at `results`, ordered by task id. */
export async function readTaskOutcomes(
  read: ObjectReader,
  results: FanOutSummary['results'],
): Promise<TaskOutcome[]> {
  const manifest = parseJson(await read(results.Bucket, results.Key)) as ResultManifest | undefined;
  if (manifest?.ResultFiles === undefined) {
    throw new Error(`s3://${results.Bucket}/${results.Key} is not a Distributed Map result manifest`);
  }
  const outcomes: TaskOutcome[] = [];
  for (const status of FINISHED_STATUSES) {
    for (const file of manifest.ResultFiles[status] ?? []) {
      if (file.Key === undefined) continue;
      const records = parseJson(await read(results.Bucket, file.Key));
      if (!Array.isArray(records)) throw new Error(`s3://${results.Bucket}/${file.Key} is not a JSON array`);
      outcomes.push(...(records as ResultRecord[]).map(outcomeOf));
    }
  }
  return outcomes.sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
}

/** One task: `==> task <id> <==`, its output, then `<== exit code N` or `<== <Error>: <message>`. */
export function formatTaskBlock(outcome: TaskOutcome): string {
  const output =
    outcome.output === '' || outcome.output.endsWith('\n') ? outcome.output : `${outcome.output}\n`;
  const lines = [`==> task ${outcome.taskId} <==\n`, output];
  if (outcome.outputS3Uri !== undefined)
    lines.push(`(shortened; all of the output is in ${outcome.outputS3Uri})\n`);
  const exit = outcome.exitCode === null ? 'no exit code' : `exit code ${outcome.exitCode}`;
  if (outcome.error === undefined) {
    lines.push(`<== ${exit}\n`);
  } else if (outcome.exitCode !== null) {
    // NonZeroExit: the error carries the command's own code and the end of its output.
    lines.push(`<== ${exit} (${outcome.error}; the output above is its last part)\n`);
  } else {
    lines.push(`<== ${outcome.error}: ${outcome.message ?? ''}\n`);
  }
  return lines.join('');
}

/** The closing line: counts, failures by error, where the results are. */
export function formatFanOutFooter(summary: FanOutSummary, outcomes: readonly TaskOutcome[]): string {
  const byError = new Map<string, number>();
  for (const outcome of outcomes) {
    if (outcome.error !== undefined) byError.set(outcome.error, (byError.get(outcome.error) ?? 0) + 1);
  }
  const errors = [...byError].map(([error, count]) => `${error}: ${count}`).join(', ');
  const tasks = `${summary.total} task${summary.total === 1 ? '' : 's'} of ${summary.service}`;
  const parts = [tasks, `${summary.succeeded} succeeded`, `${summary.failed} failed`];
  if (summary.timedOut > 0) parts.push(`${summary.timedOut} timed out`);
  if (summary.aborted > 0) parts.push(`${summary.aborted} aborted`);
  return `fan-out: ${parts.join(', ')}${errors === '' ? '' : ` (${errors})`}\nresults: s3://${summary.results.Bucket}/${summary.results.Key}\n`;
}

/** 0 when every task succeeded, else RunExitCode.TasksFailed. */
export function fanOutExitCode(summary: FanOutSummary): number {
  return summary.failed + summary.timedOut + summary.aborted === 0
    ? ExitCode.Success
    : RunExitCode.TasksFailed;
}

interface Writer {
  write(text: string): unknown;
}

/**
 * Prints a fan-out's results: one block per task on stdout (or, with `json`, the summary and every
 * task as one JSON document), the counts and the results' location on stderr. Returns the exit code.
 */
export async function printFanOutResults(
  summary: FanOutSummary,
  read: ObjectReader,
  io: { readonly stdout: Writer; readonly stderr: Writer },
  options: { readonly json: boolean; readonly execution?: Readonly<Record<string, unknown>> },
): Promise<number> {
  const outcomes = await readTaskOutcomes(read, summary.results);
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ ...options.execution, summary, tasks: outcomes }, null, 2)}\n`);
  } else {
    for (const outcome of outcomes) io.stdout.write(formatTaskBlock(outcome));
  }
  io.stderr.write(formatFanOutFooter(summary, outcomes));
  return fanOutExitCode(summary);
}
