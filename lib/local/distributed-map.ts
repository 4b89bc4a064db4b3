/**
 * A local equivalent of the Distributed Map state. aws-local-stepfunctions 3 runs only the inline
 * Map (items from the state input, one failure fails the Map); a Distributed Map reads its items
 * with an ItemReader, runs each as a child execution, tolerates failures up to a threshold, writes
 * the children's results with a ResultWriter and answers DescribeMapRun / ListExecutions.
 *
 * Each Distributed Map state is rewritten into a Task state (same InputPath, ResultSelector,
 * ResultPath, OutputPath, Retry, Catch and transition) whose Parameters carry the ItemReader's and
 * ResultWriter's parameters and the concurrency fields, so the runner evaluates their paths; its
 * local handler then does what the service does:
 *
 * - reads the items from S3 (`s3:getObject`, `InputType` JSON or JSONL) or from `ItemsPath`;
 * - runs one child execution per item (the ItemProcessor, run by the same local runner), at most
 *   `MaxConcurrency` at a time (0: all at once), each named by a UUID with the ARN
 *   `…:execution:<state machine>/<Label or state name>:<uuid>`;
 * - tolerates failed children up to `ToleratedFailurePercentage` / `ToleratedFailureCount` (default
 *   none), failing with `States.ExceedToleratedFailureThreshold` beyond them (no new child starts);
 * - writes, with a ResultWriter, `<Prefix>/<map run id>/SUCCEEDED_0.json` and `FAILED_0.json`
 *   (JSON arrays of the children's records, the `NONE` transformation) and `manifest.json`
 *   (`DestinationBucket`, `MapRunArn`, `ResultFiles` by status with `Key` and `Size`), and returns
 *   `{ MapRunArn, ResultWriterDetails: { Bucket, Key } }`; without one, the children's outputs;
 * - reports the map run and its children to an observer (the fake Step Functions), which answers
 *   DescribeMapRun, ListExecutions and DescribeExecution for them.
 *
 * Not modelled: ItemSelector, ItemBatcher, CSV and S3-inventory readers, WriterConfig, result files
 * split at 5 GB, redrives, Express children, timeouts and aborts of children (so TIMED_OUT and
 * ABORTED counts stay 0), and the Redrive* members of result records.
 */
import { randomUUID } from 'node:crypto';

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

/** The S3 calls of ItemReader and ResultWriter (e.g. an S3 client pointed at the fake endpoint). */
export interface DistributedMapIo {
  getObject(bucket: string, key: string): Promise<string>;
  putObject(bucket: string, key: string, body: string): Promise<void>;
}

export interface MapRunStart {
  readonly mapRunArn: string;
  /** The parent execution. */
  readonly executionArn: string;
  readonly maxConcurrency: number;
  readonly toleratedFailurePercentage: number;
  readonly toleratedFailureCount: number;
  readonly itemCount: number;
  readonly startDate: Date;
}

export interface ChildExecutionStart {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** The child's input, as JSON text. */
  readonly input: string;
  readonly startDate: Date;
}

export type ChildOutcome =
  | { readonly status: 'SUCCEEDED'; readonly output: string }
  | { readonly status: 'FAILED'; readonly error: string; readonly cause: string };

/** Told about every map run and child execution, e.g. to answer DescribeMapRun. */
export interface MapRunObserver {
  mapRunStarted(run: MapRunStart): void;
  childStarted(mapRunArn: string, child: ChildExecutionStart): void;
  childEnded(mapRunArn: string, executionArn: string, outcome: ChildOutcome, stopDate: Date): void;
  mapRunEnded(mapRunArn: string, status: 'SUCCEEDED' | 'FAILED', stopDate: Date): void;
}

export interface DistributedMapOptions {
  readonly io: DistributedMapIo;
  readonly observer?: MapRunObserver;
}

/** Runs one child execution of `definition` (the ItemProcessor) with `input`. */
export type ChildRunner = (
  definition: JsonObject,
  input: JsonValue,
  child: { readonly name: string; readonly stateMachineArn: string },
) => Promise<ChildOutcome>;

/** The rewritten state's Resource: not an AWS integration, so nothing but the local handler can run it. */
export const LOCAL_DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::local:distributedMap';
const ErrorName = {
  ItemReaderFailed: 'States.ItemReaderFailed',
  ResultWriterFailed: 'States.ResultWriterFailed',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  Runtime: 'States.Runtime',
} as const;
const PERCENT = 100;
/** The longest timer Node keeps (2^31 - 1 ms, about 24.8 days), in seconds: no local run lasts that long. */
const MAP_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** Fields a Task state shares with a Map state; the rest are the Map's own. */
const TASK_FIELDS = [
  'Comment',
  'InputPath',
  'OutputPath',
  'ResultPath',
  'ResultSelector',
  'Retry',
  'Catch',
  'Next',
  'End',
] as const;
const UNSUPPORTED_FIELDS = [
  'ItemSelector',
  'Parameters',
  'ItemBatcher',
  'ResultWriter.WriterConfig',
] as const;

/** What the handler of one rewritten state needs besides its evaluated Parameters. */
interface DistributedMapConfig {
  readonly stateName: string;
  readonly label: string;
  readonly processor: JsonObject;
  readonly inputType: string;
}

function isDistributedMap(state: JsonObject): boolean {
  const processor = state.ItemProcessor as JsonObject | undefined;
  const config = processor?.ProcessorConfig as JsonObject | undefined;
  return state.Type === 'Map' && config?.Mode === 'DISTRIBUTED';
}

function fieldPresent(state: JsonObject, path: string): boolean {
  let node: JsonValue | undefined = state;
  for (const part of path.split('.')) node = (node as JsonObject | null)?.[part];
  return node !== undefined;
}

/** `{Field: v}` or `{"Field.$": path}`, from a Map's `Field` / `FieldPath` pair. */
function valueOrPath(state: JsonObject, field: string): JsonObject {
  const path = state[`${field}Path`];
  if (typeof path === 'string') return { [`${field}.$`]: path };
  const value = state[field];
  return value === undefined ? {} : { [field]: value };
}

/**
 * Replaces the top-level Distributed Map states of `definition` with Task states run by the
 * returned handlers (their children are rewritten again when they run).
 */
export function rewriteDistributedMaps(
  definition: JsonObject,
  run: (config: DistributedMapConfig, parameters: JsonObject) => Promise<JsonValue>,
): { definition: JsonObject; handlers: Record<string, (input: JsonValue) => Promise<JsonValue>> } {
  const states = (definition.States ?? {}) as JsonObject;
  const rewritten: JsonObject = {};
  const handlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  for (const [name, value] of Object.entries(states)) {
    const state = value as JsonObject;
    if (!isDistributedMap(state)) {
      rewritten[name] = state;
      continue;
    }
    for (const field of UNSUPPORTED_FIELDS) {
      if (fieldPresent(state, field)) {
        throw new Error(`Distributed Map "${name}": ${field} is not supported by the local runner`);
      }
    }
    const reader = state.ItemReader as JsonObject | undefined;
    const writer = state.ResultWriter as JsonObject | undefined;
    // A Map state has no timeout of its own (the execution's bounds it); a Task's default is 60 s.
    const task: JsonObject = {
      Type: 'Task',
      Resource: LOCAL_DISTRIBUTED_MAP_RESOURCE,
      TimeoutSeconds: MAP_TIMEOUT_SECONDS,
    };
    for (const field of TASK_FIELDS) if (state[field] !== undefined) task[field] = state[field];
    task.Parameters = {
      // Items come from the reader, else from ItemsPath, else the state's input is the array.
      ...(reader !== undefined
        ? { Reader: reader.Parameters ?? {} }
        : { 'Items.$': typeof state.ItemsPath === 'string' ? state.ItemsPath : '$' }),
      ...(writer !== undefined ? { Writer: writer.Parameters ?? {} } : {}),
      ...valueOrPath(state, 'MaxConcurrency'),
      ...valueOrPath(state, 'ToleratedFailurePercentage'),
      ...valueOrPath(state, 'ToleratedFailureCount'),
    };
    const { ProcessorConfig: _config, ...processor } = state.ItemProcessor as JsonObject;
    const config: DistributedMapConfig = {
      stateName: name,
      label: typeof state.Label === 'string' ? state.Label : name,
      processor,
      inputType: String((reader?.ReaderConfig as JsonObject | undefined)?.InputType ?? 'JSON'),
    };
    rewritten[name] = task;
    handlers[name] = (input) => run(config, input as JsonObject);
  }
  return { definition: { ...definition, States: rewritten }, handlers };
}

function statesError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

async function readItems(
  config: DistributedMapConfig,
  params: JsonObject,
  io: DistributedMapIo,
): Promise<JsonValue[]> {
  const reader = params.Reader as JsonObject | undefined;
  if (reader === undefined) {
    if (!Array.isArray(params.Items)) throw statesError(ErrorName.Runtime, 'the Map input is not an array');
    return params.Items;
  }
  const { Bucket, Key } = reader;
  if (typeof Bucket !== 'string' || typeof Key !== 'string') {
    throw statesError(ErrorName.ItemReaderFailed, 'ItemReader needs Parameters.Bucket and Parameters.Key');
  }
  let text: string;
  try {
    text = await io.getObject(Bucket, Key);
  } catch (err) {
    throw statesError(
      ErrorName.ItemReaderFailed,
      `s3:getObject s3://${Bucket}/${Key} failed: ${String(err)}`,
    );
  }
  try {
    if (config.inputType === 'JSONL') {
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as JsonValue);
    }
    if (config.inputType !== 'JSON')
      throw new Error(`InputType ${config.inputType} is not supported locally`);
    const items = JSON.parse(text) as JsonValue;
    if (!Array.isArray(items)) throw new Error('the object is not a JSON array');
    return items;
  } catch (err) {
    throw statesError(ErrorName.ItemReaderFailed, `s3://${Bucket}/${Key}: ${(err as Error).message}`);
  }
}

interface ChildRecord {
  readonly start: ChildExecutionStart;
  outcome?: ChildOutcome;
  stopDate?: Date;
}

function numberParam(params: JsonObject, field: string): number | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw statesError(ErrorName.Runtime, `${field} must be a number >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

export interface DistributedMapRun {
  /** The parent execution and its state machine. */
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly runChild: ChildRunner;
}

/** Runs one Distributed Map state: what its rewritten Task's handler does. */
export async function runDistributedMap(
  config: DistributedMapConfig,
  params: JsonObject,
  run: DistributedMapRun,
  options: DistributedMapOptions,
): Promise<JsonValue> {
  const items = await readItems(config, params, options.io);
  const maxConcurrency = numberParam(params, 'MaxConcurrency') ?? 0;
  const toleratedPercentage = numberParam(params, 'ToleratedFailurePercentage');
  const toleratedCount = numberParam(params, 'ToleratedFailureCount');
  const [prefix, partition, , region, account] = run.stateMachineArn.split(':');
  const machineName = run.stateMachineArn.split(':').slice(6).join(':');
  const mapRunId = randomUUID();
  const mapRunArn = `${prefix}:${partition}:states:${region}:${account}:mapRun:${machineName}/${config.label}:${mapRunId}`;
  const childMachineArn = `${run.stateMachineArn}/${config.label}`;
  options.observer?.mapRunStarted({
    mapRunArn,
    executionArn: run.executionArn,
    maxConcurrency,
    toleratedFailurePercentage: toleratedPercentage ?? 0,
    toleratedFailureCount: toleratedCount ?? 0,
    itemCount: items.length,
    startDate: new Date(),
  });

  const records: ChildRecord[] = [];
  let failed = 0;
  // Without either field no failure is tolerated; with one or both, exceeding either fails the run.
  const exceeded = (): boolean =>
    toleratedPercentage === undefined && toleratedCount === undefined
      ? failed > 0
      : (toleratedCount !== undefined && failed > toleratedCount) ||
        (toleratedPercentage !== undefined && (failed * PERCENT) / items.length > toleratedPercentage);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !exceeded()) {
      const item = items[next++] as JsonValue;
      const name = randomUUID();
      const start: ChildExecutionStart = {
        executionArn: `${childMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
        stateMachineArn: childMachineArn,
        name,
        input: JSON.stringify(item),
        startDate: new Date(),
      };
      const record: ChildRecord = { start };
      records.push(record);
      options.observer?.childStarted(mapRunArn, start);
      const outcome = await run.runChild(config.processor, item, { name, stateMachineArn: childMachineArn });
      record.outcome = outcome;
      record.stopDate = new Date();
      if (outcome.status === 'FAILED') failed += 1;
      options.observer?.childEnded(mapRunArn, start.executionArn, outcome, record.stopDate);
    }
  };
  const workers = maxConcurrency === 0 ? items.length : Math.min(maxConcurrency, items.length);
  await Promise.all(Array.from({ length: workers }, worker));

  const failedRun = exceeded();
  const writer = params.Writer as JsonObject | undefined;
  const details =
    writer === undefined ? undefined : await writeResults(writer, mapRunArn, mapRunId, records, options.io);
  options.observer?.mapRunEnded(mapRunArn, failedRun ? 'FAILED' : 'SUCCEEDED', new Date());
  if (failedRun) {
    throw statesError(
      ErrorName.ExceedToleratedFailureThreshold,
      `The specified tolerated failure threshold was exceeded: ${failed} of ${items.length} child executions failed`,
    );
  }
  if (details !== undefined) return { MapRunArn: mapRunArn, ResultWriterDetails: details };
  return records.map((record) =>
    record.outcome?.status === 'SUCCEEDED' ? (JSON.parse(record.outcome.output) as JsonValue) : null,
  );
}

/** One child's line in a result file: the `NONE` transformation's record. */
function resultRecord(record: ChildRecord): JsonObject {
  const { start, outcome } = record;
  return {
    ExecutionArn: start.executionArn,
    Input: start.input,
    InputDetails: { Included: true },
    Name: start.name,
    ...(outcome?.status === 'SUCCEEDED'
      ? { Output: outcome.output, OutputDetails: { Included: true } }
      : { Error: outcome?.error ?? ErrorName.Runtime, Cause: outcome?.cause ?? '' }),
    StartDate: start.startDate.toISOString(),
    StateMachineArn: start.stateMachineArn,
    Status: outcome?.status ?? 'FAILED',
    ...(record.stopDate !== undefined ? { StopDate: record.stopDate.toISOString() } : {}),
  };
}

async function writeResults(
  writer: JsonObject,
  mapRunArn: string,
  mapRunId: string,
  records: readonly ChildRecord[],
  io: DistributedMapIo,
): Promise<JsonObject> {
  const bucket = writer.Bucket;
  if (typeof bucket !== 'string')
    throw statesError(ErrorName.ResultWriterFailed, 'ResultWriter needs Parameters.Bucket');
  const prefix = typeof writer.Prefix === 'string' ? writer.Prefix.replace(/\/+$/, '') : '';
  const folder = `${prefix === '' ? '' : `${prefix}/`}${mapRunId}/`;
  const files: Record<'FAILED' | 'PENDING' | 'SUCCEEDED', { Key: string; Size: number }[]> = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [],
  };
  const put = async (key: string, body: string): Promise<number> => {
    try {
      await io.putObject(bucket, key, body);
    } catch (err) {
      throw statesError(
        ErrorName.ResultWriterFailed,
        `s3:putObject s3://${bucket}/${key} failed: ${String(err)}`,
      );
    }
    return Buffer.byteLength(body, 'utf8');
  };
  for (const status of ['SUCCEEDED', 'FAILED'] as const) {
    const selected = records.filter((record) => (record.outcome?.status ?? 'FAILED') === status);
    if (selected.length === 0) continue;
    const key = `${folder}${status}_0.json`;
    files[status].push({ Key: key, Size: await put(key, JSON.stringify(selected.map(resultRecord))) });
  }
  const manifestKey = `${folder}manifest.json`;
  await put(
    manifestKey,
    JSON.stringify({ DestinationBucket: bucket, MapRunArn: mapRunArn, ResultFiles: files }),
  );
  return { Bucket: bucket, Key: manifestKey };
}
