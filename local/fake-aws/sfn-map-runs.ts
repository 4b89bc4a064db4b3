/**
 * Map runs of Distributed Map states run locally (lib/local/distributed-map.ts reports them here
 * through {@link MapRunRegistry}, a MapRunObserver), and the Step Functions operations that read
 * them: DescribeMapRun, and ListExecutions by `mapRunArn` (or by `stateMachineArn`). Child
 * executions join the registry's executions, so DescribeExecution answers for them too.
 */
import type {
  ChildExecutionStart,
  ChildOutcome,
  MapRunObserver,
  MapRunStart,
} from '../../lib/local/distributed-map';
import { AwsServiceError } from './errors';
import { InputReader, type JsonObject } from './input';
import { readPageSize } from './sfn-paging';

/** The members of sfn.ts's FakeExecution this module reads and writes (no import: sfn.ts imports this). */
export interface MapRunExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  readonly events: unknown[];
  readonly done: Promise<void>;
}

/** The part of sfn.ts's StateMachineRegistry used here. */
export interface ExecutionStore {
  readonly executions: Map<string, MapRunExecution>;
  readonly mapRuns: MapRunRegistry;
}

const SFN_VALIDATION_ERROR = 'ValidationException';
const MAP_RUN_ARN =
  /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:mapRun:[A-Za-z0-9_-]{1,80}\/[^:]{1,80}:[0-9a-f-]{36}$/;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const MS_PER_SECOND = 1000;

type MapRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

interface FakeMapRun extends MapRunStart {
  status: MapRunStatus;
  stopDate?: Date;
  /** Child execution ARNs, in start order. */
  readonly children: string[];
}

/** What lib/local/distributed-map.ts reports. */
export class MapRunRegistry implements MapRunObserver {
  private readonly runs = new Map<string, FakeMapRun>();
  /** Settle each running child's `done`. */
  private readonly finishers = new Map<string, () => void>();

  constructor(private readonly registry: Pick<ExecutionStore, 'executions'>) {}

  mapRunStarted(run: MapRunStart): void {
    this.runs.set(run.mapRunArn, { ...run, status: 'RUNNING', children: [] });
  }

  childStarted(mapRunArn: string, child: ChildExecutionStart): void {
    const run = this.require(mapRunArn);
    run.children.push(child.executionArn);
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const execution: MapRunExecution = {
      ...child,
      status: 'RUNNING',
      events: [],
      done,
    };
    this.finishers.set(child.executionArn, finish);
    this.registry.executions.set(child.executionArn, execution);
  }

  childEnded(_mapRunArn: string, executionArn: string, outcome: ChildOutcome, stopDate: Date): void {
    const execution = this.registry.executions.get(executionArn);
    if (execution === undefined) return;
    execution.status = outcome.status;
    execution.stopDate = stopDate;
    if (outcome.status === 'SUCCEEDED') execution.output = outcome.output;
    else {
      execution.error = outcome.error;
      execution.cause = outcome.cause;
    }
    this.finishers.get(executionArn)?.();
    this.finishers.delete(executionArn);
  }

  mapRunEnded(mapRunArn: string, status: 'SUCCEEDED' | 'FAILED', stopDate: Date): void {
    const run = this.require(mapRunArn);
    run.status = status;
    run.stopDate = stopDate;
  }

  get(mapRunArn: string): FakeMapRun | undefined {
    return this.runs.get(mapRunArn);
  }

  private require(mapRunArn: string): FakeMapRun {
    const run = this.runs.get(mapRunArn);
    if (run === undefined) throw new Error(`unknown map run ${mapRunArn}`);
    return run;
  }
}

const epochSeconds = (date: Date): number => date.getTime() / MS_PER_SECOND;

/** The members ListExecutions and DescribeExecution both give for an execution. */
export function executionListItem(execution: MapRunExecution): Record<string, unknown> {
  return {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: epochSeconds(execution.startDate),
    ...(execution.stopDate !== undefined ? { stopDate: epochSeconds(execution.stopDate) } : {}),
  };
}

function requireMapRun(registry: ExecutionStore, arn: string): FakeMapRun {
  if (!MAP_RUN_ARN.test(arn)) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
  const run = registry.mapRuns.get(arn);
  if (run === undefined) throw new AwsServiceError('ResourceNotFound', `Resource not found: '${arn}'`);
  return run;
}

function counts(registry: ExecutionStore, run: FakeMapRun): Record<string, number> {
  const statuses = run.children.map((arn) => registry.executions.get(arn)?.status);
  const count = (status: string): number => statuses.filter((s) => s === status).length;
  const succeeded = count('SUCCEEDED');
  const failed = count('FAILED');
  const timedOut = count('TIMED_OUT');
  const aborted = count('ABORTED');
  const running = count('RUNNING');
  return {
    pending: run.itemCount - run.children.length,
    running,
    succeeded,
    failed,
    timedOut,
    aborted,
    total: run.itemCount,
    // The results are written once, at the end of the run.
    resultsWritten: run.status === 'RUNNING' ? 0 : succeeded + failed + timedOut + aborted,
    failuresNotRedrivable: 0,
    pendingRedrive: 0,
  };
}

export async function describeMapRun(
  registry: ExecutionStore,
  input: JsonObject,
): Promise<Record<string, unknown>> {
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const run = requireMapRun(registry, reader.string('mapRunArn'));
  const itemCounts = counts(registry, run);
  return {
    mapRunArn: run.mapRunArn,
    executionArn: run.executionArn,
    status: run.status,
    startDate: epochSeconds(run.startDate),
    ...(run.stopDate !== undefined ? { stopDate: epochSeconds(run.stopDate) } : {}),
    maxConcurrency: run.maxConcurrency,
    toleratedFailurePercentage: run.toleratedFailurePercentage,
    toleratedFailureCount: run.toleratedFailureCount,
    itemCounts,
    // One item per child execution (no ItemBatcher locally).
    executionCounts: itemCounts,
    redriveCount: 0,
  };
}

interface PageToken {
  readonly offset: number;
}

export async function listExecutions(
  registry: ExecutionStore,
  input: JsonObject,
): Promise<Record<string, unknown>> {
  const reader = new InputReader(input, SFN_VALIDATION_ERROR);
  const mapRunArn = reader.optString('mapRunArn');
  const stateMachineArn = reader.optString('stateMachineArn');
  if ((mapRunArn === undefined) === (stateMachineArn === undefined)) {
    throw new AwsServiceError(
      SFN_VALIDATION_ERROR,
      'Exactly one of stateMachineArn and mapRunArn must be given',
    );
  }
  const statusFilter = reader.optString('statusFilter');
  const pageSize = readPageSize(reader, DEFAULT_PAGE, MAX_PAGE);
  const candidates: MapRunExecution[] =
    mapRunArn !== undefined
      ? requireMapRun(registry, mapRunArn).children.flatMap((arn) => registry.executions.get(arn) ?? [])
      : [...registry.executions.values()].filter(
          (execution) => execution.stateMachineArn === stateMachineArn,
        );
  // Newest first, as Step Functions lists them.
  const matching = candidates
    .filter((execution) => statusFilter === undefined || execution.status === statusFilter)
    .reverse();
  const nextToken = reader.optString('nextToken');
  const offset = nextToken === undefined ? 0 : decodeToken(nextToken);
  const page = matching.slice(offset, offset + pageSize);
  const next = offset + page.length;
  return {
    executions: page.map((execution) => ({
      ...executionListItem(execution),
      ...(mapRunArn !== undefined ? { mapRunArn } : {}),
    })),
    ...(next < matching.length
      ? { nextToken: Buffer.from(JSON.stringify({ offset: next })).toString('base64') }
      : {}),
  };
}

function decodeToken(text: string): number {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as PageToken;
    if (Number.isInteger(token.offset) && token.offset >= 0) return token.offset;
  } catch {
    // below
  }
  throw new AwsServiceError('InvalidToken', `Invalid Token: '${text}'`);
}
