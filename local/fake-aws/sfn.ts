/**
 * Step Functions (awsJson1_0, `X-Amz-Target: AWSStepFunctions.<Op>`).
 *
 * - The task-token callbacks a `.waitForTaskToken` Lambda sends, recorded for assertions. Any token
 *   is accepted once; a token already answered with success or failure is gone, as in Step Functions.
 * - Executions of the state machines registered with `stateMachines.register(arn, executor)`:
 *   StartExecution, DescribeExecution, GetExecutionHistory and DescribeStateMachine, shaped as Step
 *   Functions shapes them. The executor runs one execution (e.g. a synthesized definition run
 *   locally); the fake keeps the status, the output or error and cause, and the event history.
 *   With no state machine registered these operations stay unimplemented
 *   (UnknownOperationException), so a test that expects a real one notices.
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError, unknownOperation } from './errors';
import { InputReader, type JsonObject } from './input';
import { describeMapRun, executionListItem, listExecutions, MapRunRegistry } from './sfn-map-runs';
import { readPageSize } from './sfn-paging';
import type { TaskCallback } from './task-callbacks';

export const SFN_TARGET_PREFIX = 'AWSStepFunctions';

/** What the Step Functions operations use of the endpoint's shared state (a part of FakeContext). */
export interface SfnContext {
  readonly taskCallbacks: TaskCallback[];
  readonly stateMachines: StateMachineRegistry;
}
type SfnOperation = (ctx: SfnContext, input: JsonObject) => Promise<Record<string, unknown>>;
const SFN_VALIDATION_ERROR = 'ValidationException';
/** Step Functions' limits, in UTF-8 bytes for `output` and characters for the others. */
export const SFN_MAX_OUTPUT_BYTES = 262_144;
export const SFN_MAX_CAUSE_CHARS = 32_768;
export const SFN_MAX_ERROR_CHARS = 256;
export const SFN_MAX_TASK_TOKEN_CHARS = 2048;
/** Execution input is capped like any state payload. */
export const SFN_MAX_INPUT_BYTES = SFN_MAX_OUTPUT_BYTES;
/** Execution names: 1 to 80 characters. */
export const SFN_MAX_NAME_CHARS = 80;
/** GetExecutionHistory's page size when the caller gives none, and its largest. */
export const SFN_DEFAULT_HISTORY_PAGE = 100;
export const SFN_MAX_HISTORY_PAGE = 1000;
const TASK_GONE = "Task Timed Out: 'Provided task does not exist anymore'";
const MS_PER_SECOND = 1000;
/** What Step Functions reports when a result exceeds the payload limit. */
const DATA_LIMIT_EXCEEDED = 'States.DataLimitExceeded';
/** What an executor that throws (a bug in the local runner, not a state failure) reports. */
const RUNTIME_ERROR = 'States.Runtime';

/**
 * `arn:<partition>:states:<region>:<account>:stateMachine:<name>`. Names: letters, digits, `-`, `_`
 * (the rules also allow some Unicode; the local runner never needs it).
 */
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:([A-Za-z0-9_-]{1,80})$/;
/** A Distributed Map's child executions are `execution:<state machine>/<map label>:<name>`. */
const EXECUTION_ARN =
  /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]{1,80}(?:\/[^:]{1,80})?:[^:]{1,80}$/;
/** Characters Step Functions refuses in names: whitespace, brackets, wildcards, punctuation (and controls). */
const FORBIDDEN_NAME_CHARS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;
/** C0 and C1 control characters, also refused. */
const CONTROL_CHAR_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x00, 0x1f],
  [0x7f, 0x9f],
];

function hasControlCharacter(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (CONTROL_CHAR_RANGES.some(([low, high]) => code >= low && code <= high)) return true;
  }
  return false;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** How an execution ended, as the executor reports it. */
export type ExecutionOutcome =
  | { readonly status: 'SUCCEEDED'; readonly output: unknown }
  | { readonly status: 'FAILED'; readonly error?: string; readonly cause?: string };

/** Adds events to an execution's history (between ExecutionStarted and the end, which the fake adds). */
export interface ExecutionHistoryRecorder {
  /**
   * `type` is Step Functions' HistoryEventType (`TaskStateEntered`, `TaskScheduled`, …); `details`
   * goes under the member Step Functions uses for it (`stateEnteredEventDetails`, …).
   */
  add(type: string, details?: Readonly<Record<string, unknown>>): void;
}

/** What an executor is given for one execution. */
export interface ExecutionRun {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** The execution input, parsed. */
  readonly input: unknown;
  readonly startDate: Date;
  readonly history: ExecutionHistoryRecorder;
  /** Aborted by StopExecution: the executor should stop its work (its outcome is then ignored). */
  readonly signal: AbortSignal;
}

/** Runs one execution to its end. A thrown error fails the execution with States.Runtime. */
export type ExecutionExecutor = (run: ExecutionRun) => Promise<ExecutionOutcome>;

export interface StateMachineOptions {
  /** The ASL text DescribeStateMachine returns. @default '{}' */
  readonly definition?: string;
  /** @default a role ARN named after the state machine */
  readonly roleArn?: string;
}

/** One recorded history event. */
export interface FakeHistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One execution the fake started; mutable while it runs. */
export interface FakeExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** The input text as given to StartExecution. */
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  stopDate?: Date;
  /** JSON text of the result (SUCCEEDED). */
  output?: string;
  error?: string;
  cause?: string;
  readonly events: FakeHistoryEvent[];
  /** Settles when the execution has ended. */
  readonly done: Promise<void>;
  /** StopExecution's work: ends it ABORTED and aborts its executor. */
  stop?: (error?: string, cause?: string) => void;
}

interface RegisteredStateMachine {
  readonly arn: string;
  readonly name: string;
  readonly executor: ExecutionExecutor;
  readonly definition: string;
  readonly roleArn: string;
  readonly creationDate: Date;
}

/** The member of a HistoryEvent that holds the details of an event of `type`. */
export function historyDetailsMember(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

/** The ARN of execution `name` of a state machine (what StartExecution returns). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * The state machines the fake can execute and the executions it started. Executions run in the
 * process that started the fake; `settled()` waits for the ones still running.
 */
export class StateMachineRegistry {
  private readonly machines = new Map<string, RegisteredStateMachine>();
  /** Every execution started, by execution ARN, in start order. */
  readonly executions = new Map<string, FakeExecution>();
  /** Map runs of Distributed Maps run locally, and their child executions (which join `executions`). */
  readonly mapRuns = new MapRunRegistry(this);

  /** Makes `arn` executable; a state machine registered under the same ARN is replaced. */
  register(arn: string, executor: ExecutionExecutor, options: StateMachineOptions = {}): void {
    const match = STATE_MACHINE_ARN.exec(arn);
    if (match === null) throw new Error(`not a state machine ARN: ${arn}`);
    const name = match[1] as string;
    const [, partition, , , account] = arn.split(':');
    this.machines.set(arn, {
      arn,
      name,
      executor,
      definition: options.definition ?? '{}',
      roleArn: options.roleArn ?? `arn:${partition}:iam::${account}:role/${name}-role`,
      creationDate: new Date(),
    });
  }

  unregister(arn: string): void {
    this.machines.delete(arn);
  }

  get size(): number {
    return this.machines.size;
  }

  /** The registered state machine `arn` (for the operations below). */
  machine(arn: string): RegisteredStateMachine | undefined {
    return this.machines.get(arn);
  }

  /** Resolves once every execution started so far has ended. */
  async settled(): Promise<void> {
    await Promise.all([...this.executions.values()].map((execution) => execution.done));
  }

  /** Starts an execution (StartExecution's work); the executor runs after this returns, as in Step Functions. */
  start(machine: RegisteredStateMachine, name: string, inputText: string, input: unknown): FakeExecution {
    const executionArn = executionArnOf(machine.arn, name);
    const events: FakeHistoryEvent[] = [];
    const add = (type: string, details?: Readonly<Record<string, unknown>>): void => {
      const id = events.length + 1;
      events.push({
        id,
        previousEventId: id - 1,
        timestamp: new Date(),
        type,
        ...(details ? { details } : {}),
      });
    };
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const execution: FakeExecution = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input: inputText,
      startDate: new Date(),
      status: 'RUNNING',
      events,
      done,
    };
    this.executions.set(executionArn, execution);
    add('ExecutionStarted', {
      input: inputText,
      inputDetails: { truncated: false },
      roleArn: machine.roleArn,
      stateMachineArn: machine.arn,
    });
    const controller = new AbortController();
    const run: ExecutionRun = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input,
      startDate: execution.startDate,
      history: { add },
      signal: controller.signal,
    };
    execution.stop = (error, cause) => {
      if (execution.status !== 'RUNNING') return;
      execution.status = 'ABORTED';
      execution.stopDate = new Date();
      if (error !== undefined) execution.error = error.slice(0, SFN_MAX_ERROR_CHARS);
      if (cause !== undefined) execution.cause = cause.slice(0, SFN_MAX_CAUSE_CHARS);
      add('ExecutionAborted', {
        ...(execution.error !== undefined ? { error: execution.error } : {}),
        ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
      });
      controller.abort();
    };
    // setImmediate: StartExecution answers before any state runs.
    setImmediate(() => {
      machine
        .executor(run)
        .then(
          (outcome) => settle(execution, outcome, add),
          (err: unknown) =>
            settle(
              execution,
              {
                status: 'FAILED',
                error: RUNTIME_ERROR,
                cause: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
              },
              add,
            ),
        )
        .finally(finish);
    });
    return execution;
  }
}

/** Records the end of an execution the way Step Functions would. */
function settle(
  execution: FakeExecution,
  outcome: ExecutionOutcome,
  add: (type: string, details?: Readonly<Record<string, unknown>>) => void,
): void {
  let result: ExecutionOutcome = outcome;
  let outputText: string | undefined;
  if (result.status === 'SUCCEEDED') {
    outputText = JSON.stringify(result.output ?? null);
    if (Buffer.byteLength(outputText, 'utf8') > SFN_MAX_OUTPUT_BYTES) {
      result = {
        status: 'FAILED',
        error: DATA_LIMIT_EXCEEDED,
        cause: `The state/task returned a result with a size exceeding the maximum number of bytes service limit.`,
      };
      outputText = undefined;
    }
  }
  // A stopped execution keeps its ABORTED end, whatever its executor reports afterwards.
  if (execution.status !== 'RUNNING') return;
  execution.stopDate = new Date();
  if (result.status === 'SUCCEEDED' && outputText !== undefined) {
    execution.status = 'SUCCEEDED';
    execution.output = outputText;
    add('ExecutionSucceeded', { output: outputText, outputDetails: { truncated: false } });
    return;
  }
  const failure = result as Extract<ExecutionOutcome, { status: 'FAILED' }>;
  execution.status = 'FAILED';
  if (failure.error !== undefined) execution.error = failure.error.slice(0, SFN_MAX_ERROR_CHARS);
  if (failure.cause !== undefined) execution.cause = failure.cause.slice(0, SFN_MAX_CAUSE_CHARS);
  add('ExecutionFailed', {
    ...(execution.error !== undefined ? { error: execution.error } : {}),
    ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
  });
}

function tooLong(member: string, limit: number): AwsServiceError {
  return new AwsServiceError(
    SFN_VALIDATION_ERROR,
    `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${limit}`,
  );
}

function readToken(reader: InputReader, callbacks: readonly TaskCallback[]): string {
  const taskToken = reader.string('taskToken');
  if (taskToken.length === 0 || taskToken.length > SFN_MAX_TASK_TOKEN_CHARS) {
    throw new AwsServiceError('InvalidToken', 'Invalid Token.');
  }
  if (callbacks.some((callback) => callback.taskToken === taskToken && callback.kind !== 'heartbeat')) {
    throw new AwsServiceError('TaskTimedOut', TASK_GONE);
  }
  return taskToken;
}

const sendTaskSuccess: SfnOperation = async (ctx, input) => {
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const taskToken = readToken(reader, ctx.taskCallbacks);
  const output = reader.string('output');
  if (Buffer.byteLength(output, 'utf8') > SFN_MAX_OUTPUT_BYTES) throw tooLong('output', SFN_MAX_OUTPUT_BYTES);
  try {
    JSON.parse(output);
  } catch {
    throw new AwsServiceError('InvalidOutput', 'Invalid Output: the output is not valid JSON.');
  }
  ctx.taskCallbacks.push({ kind: 'success', taskToken, output, at: new Date() });
  return {};
};

const sendTaskFailure: SfnOperation = async (ctx, input) => {
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const taskToken = readToken(reader, ctx.taskCallbacks);
  const error = reader.optString('error');
  const cause = reader.optString('cause');
  if (error !== undefined && error.length > SFN_MAX_ERROR_CHARS) throw tooLong('error', SFN_MAX_ERROR_CHARS);
  if (cause !== undefined && cause.length > SFN_MAX_CAUSE_CHARS) throw tooLong('cause', SFN_MAX_CAUSE_CHARS);
  ctx.taskCallbacks.push({
    kind: 'failure',
    taskToken,
    ...(error !== undefined ? { error } : {}),
    ...(cause !== undefined ? { cause } : {}),
    at: new Date(),
  });
  return {};
};

const sendTaskHeartbeat: SfnOperation = async (ctx, input) => {
  const taskToken = readToken(new InputReader(input, SFN_VALIDATION_ERROR), ctx.taskCallbacks);
  ctx.taskCallbacks.push({ kind: 'heartbeat', taskToken, at: new Date() });
  return {};
};

// ---- executions ----

const epochSeconds = (date: Date): number => date.getTime() / MS_PER_SECOND;

/** Fails like an unimplemented operation while nothing is registered (see the file comment). */
function requireRegistry(registry: StateMachineRegistry, operation: string): void {
  if (registry.size === 0 && registry.executions.size === 0) throw unknownOperation('sfn', operation);
}

function requireStateMachine(registry: StateMachineRegistry, arn: string): RegisteredStateMachine {
  if (!STATE_MACHINE_ARN.test(arn)) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
  const machine = registry.machine(arn);
  if (machine === undefined) {
    throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
  }
  return machine;
}

function requireExecution(registry: StateMachineRegistry, arn: string): FakeExecution {
  if (!EXECUTION_ARN.test(arn)) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
  const execution = registry.executions.get(arn);
  if (execution === undefined) {
    throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
  }
  return execution;
}

function checkName(name: string): void {
  if (
    name.length === 0 ||
    name.length > SFN_MAX_NAME_CHARS ||
    FORBIDDEN_NAME_CHARS.test(name) ||
    hasControlCharacter(name)
  ) {
    throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
  }
}

const startExecution: SfnOperation = async (ctx, input) => {
  const registry = ctx.stateMachines;
  requireRegistry(registry, 'StartExecution');
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const machine = requireStateMachine(registry, reader.string('stateMachineArn'));
  const name = reader.optString('name') ?? randomUUID();
  checkName(name);
  const inputText = reader.optString('input') ?? '{}';
  if (Buffer.byteLength(inputText, 'utf8') > SFN_MAX_INPUT_BYTES) throw tooLong('input', SFN_MAX_INPUT_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(inputText);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new AwsServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${reason}'`);
  }
  const existing = registry.executions.get(executionArnOf(machine.arn, name));
  if (existing !== undefined) {
    // Standard workflows: the same name and input while running is the same call again (a retry).
    if (existing.status === 'RUNNING' && existing.input === inputText) {
      return { executionArn: existing.executionArn, startDate: epochSeconds(existing.startDate) };
    }
    throw new AwsServiceError(
      'ExecutionAlreadyExists',
      `Execution Already Exists: '${existing.executionArn}'`,
    );
  }
  const execution = registry.start(machine, name, inputText, parsed);
  return { executionArn: execution.executionArn, startDate: epochSeconds(execution.startDate) };
};

const stopExecution: SfnOperation = async (ctx, input) => {
  requireRegistry(ctx.stateMachines, 'StopExecution');
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const execution = requireExecution(ctx.stateMachines, reader.string('executionArn'));
  execution.stop?.(reader.optString('error'), reader.optString('cause'));
  return { stopDate: epochSeconds(execution.stopDate ?? new Date()) };
};

const describeExecution: SfnOperation = async (ctx, input) => {
  requireRegistry(ctx.stateMachines, 'DescribeExecution');
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const execution = requireExecution(ctx.stateMachines, reader.string('executionArn'));
  return {
    ...executionListItem(execution),
    input: execution.input,
    inputDetails: { included: true },
    ...(execution.output !== undefined
      ? { output: execution.output, outputDetails: { included: true } }
      : {}),
    ...(execution.error !== undefined ? { error: execution.error } : {}),
    ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
  };
};

/** Page tokens are opaque to callers; here, the execution and the offset of the next event. */
interface HistoryToken {
  readonly arn: string;
  readonly offset: number;
  readonly reverse: boolean;
}

function encodeToken(token: HistoryToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64');
}

function decodeToken(text: string, arn: string, reverse: boolean): number {
  const invalid = new AwsServiceError('InvalidToken', `Invalid Token: '${text}'`);
  let token: unknown;
  try {
    token = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    throw invalid;
  }
  const candidate = token as Partial<HistoryToken> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    candidate.arn !== arn ||
    candidate.reverse !== reverse ||
    typeof candidate.offset !== 'number'
  ) {
    throw invalid;
  }
  return candidate.offset;
}

/** Input and output members that `includeExecutionData: false` leaves out. */
const EXECUTION_DATA_MEMBERS: ReadonlySet<string> = new Set(['input', 'output']);

function historyEventJson(event: FakeHistoryEvent, includeData: boolean): JsonObject {
  const details =
    event.details === undefined
      ? undefined
      : includeData
        ? event.details
        : Object.fromEntries(
            Object.entries(event.details).filter(([key]) => !EXECUTION_DATA_MEMBERS.has(key)),
          );
  return {
    timestamp: epochSeconds(event.timestamp),
    type: event.type,
    id: event.id,
    previousEventId: event.previousEventId,
    ...(details !== undefined ? { [historyDetailsMember(event.type)]: details } : {}),
  };
}

const getExecutionHistory: SfnOperation = async (ctx, input) => {
  requireRegistry(ctx.stateMachines, 'GetExecutionHistory');
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const execution = requireExecution(ctx.stateMachines, reader.string('executionArn'));
  const pageSize = readPageSize(reader, SFN_DEFAULT_HISTORY_PAGE, SFN_MAX_HISTORY_PAGE);
  const reverse = reader.optBoolean('reverseOrder') ?? false;
  const includeData = reader.optBoolean('includeExecutionData') ?? true;
  const nextToken = reader.optString('nextToken');
  const offset = nextToken === undefined ? 0 : decodeToken(nextToken, execution.executionArn, reverse);
  const ordered = reverse ? [...execution.events].reverse() : execution.events;
  const page = ordered.slice(offset, offset + pageSize);
  const next = offset + page.length;
  return {
    events: page.map((event) => historyEventJson(event, includeData)),
    ...(next < ordered.length
      ? { nextToken: encodeToken({ arn: execution.executionArn, offset: next, reverse }) }
      : {}),
  };
};

const describeStateMachine: SfnOperation = async (ctx, input) => {
  requireRegistry(ctx.stateMachines, 'DescribeStateMachine');
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const machine = requireStateMachine(ctx.stateMachines, reader.string('stateMachineArn'));
  return {
    stateMachineArn: machine.arn,
    name: machine.name,
    status: 'ACTIVE',
    definition: machine.definition,
    roleArn: machine.roleArn,
    type: 'STANDARD',
    creationDate: epochSeconds(machine.creationDate),
  };
};

export const SFN_OPERATIONS: Readonly<Record<string, SfnOperation>> = {
  SendTaskSuccess: sendTaskSuccess,
  SendTaskFailure: sendTaskFailure,
  SendTaskHeartbeat: sendTaskHeartbeat,
  StartExecution: startExecution,
  DescribeExecution: describeExecution,
  StopExecution: stopExecution,
  GetExecutionHistory: getExecutionHistory,
  DescribeStateMachine: describeStateMachine,
  DescribeMapRun: async (ctx, input) => {
    requireRegistry(ctx.stateMachines, 'DescribeMapRun');
    return describeMapRun(ctx.stateMachines, input);
  },
  ListExecutions: async (ctx, input) => {
    requireRegistry(ctx.stateMachines, 'ListExecutions');
    return listExecutions(ctx.stateMachines, input);
  },
};
