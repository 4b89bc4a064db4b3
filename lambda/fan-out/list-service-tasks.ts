/**
 * First step of the "run on every task of a service" state machine: lists the service's RUNNING
 * tasks (every page) and writes one exec event per task to S3, where the Distributed Map reads
 * them. The list never passes through the state payload, so a service of any size fits.
 */
import { ECSClient, paginateListTasks } from '@aws-sdk/client-ecs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { conciseError } from '../concise-error';
import { ExecEnv } from '../contract';
import { ExecError, InvalidInput, TargetNotFound } from '../errors';
import { defaultsFromEnv } from '../event';
import { FAN_OUT_TASKS_FOLDER, FanOutEnv } from './fan-out-contract';
import { FAN_OUT_MAX_CONCURRENCY_LIMIT, parseFanOutInput, taskEvent } from './fan-out-input';

export { FAN_OUT_RESULTS_FOLDER, FAN_OUT_TASKS_FOLDER, FanOutEnv } from './fan-out-contract';

/** ECS caps a service at 5,000 tasks: 50 pages of 100. */
const MAX_PAGES = 100;

export interface ListServiceTasksEvent {
  /** The state machine's input. */
  readonly input: unknown;
  /** `$$.Execution.Name`: names the task list and tags every per-task event. */
  readonly executionName: string;
}

export interface ListServiceTasksResult {
  readonly bucket: string;
  readonly key: string;
  readonly taskCount: number;
  readonly maxConcurrency: number;
  readonly cluster: string;
  readonly service: string;
}

export interface ListServiceTasksDeps {
  readonly ecs: ECSClient;
  readonly s3: S3Client;
  readonly env: NodeJS.ProcessEnv;
}

let clients: { ecs: ECSClient; s3: S3Client } | undefined;

export async function handler(event: ListServiceTasksEvent): Promise<ListServiceTasksResult> {
  clients ??= { ecs: new ECSClient({}), s3: new S3Client({}) };
  return listServiceTasks(event, { ...clients, env: process.env });
}

/** Lists the tasks; its typed errors carry the exec Lambda's JSON message (`{"message": …}`, capped). */
export async function listServiceTasks(
  event: ListServiceTasksEvent,
  deps: ListServiceTasksDeps,
): Promise<ListServiceTasksResult> {
  try {
    return await writeTaskEvents(event, deps);
  } catch (err) {
    throw err instanceof ExecError ? conciseError(err) : err;
  }
}

async function writeTaskEvents(
  event: ListServiceTasksEvent,
  deps: ListServiceTasksDeps,
): Promise<ListServiceTasksResult> {
  const bucket = deps.env[ExecEnv.OutputBucket];
  const prefix = deps.env[ExecEnv.OutputPrefix] ?? '';
  if (!bucket) throw new Error(`${ExecEnv.OutputBucket} is not set`);
  const executionName = safeName(event.executionName);

  const parsed = parseFanOutInput(event.input, defaultsFromEnv(deps.env));
  const { cluster } = parsed.request;
  const service = parsed.request.target.service;
  const maxConcurrency = parsed.maxConcurrency ?? defaultMaxConcurrency(deps.env);

  const taskArns: string[] = [];
  let pages = 0;
  for await (const page of paginateListTasks(
    { client: deps.ecs, pageSize: 100 },
    { cluster, serviceName: service.split('/').pop() ?? service, desiredStatus: 'RUNNING' },
  )) {
    taskArns.push(...(page.taskArns ?? []));
    if (++pages >= MAX_PAGES) break;
  }
  if (taskArns.length === 0) {
    throw new TargetNotFound(`service "${service}" in cluster "${cluster}" has no RUNNING tasks`);
  }

  const key = `${prefix}${FAN_OUT_TASKS_FOLDER}${executionName}.json`;
  const items = taskArns.map((arn) => taskEvent(parsed, arn, event.executionName));
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(items),
      ContentType: 'application/json',
    }),
  );
  return { bucket, key, taskCount: items.length, maxConcurrency, cluster, service };
}

function defaultMaxConcurrency(env: NodeJS.ProcessEnv): number {
  const value = Number(env[FanOutEnv.DefaultMaxConcurrency] ?? '');
  return Number.isInteger(value) && value >= 1 && value <= FAN_OUT_MAX_CONCURRENCY_LIMIT ? value : 1;
}

/** The execution name as an object-key segment (names may hold characters keys should not). */
function safeName(name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.length > 80) {
    throw new InvalidInput(`executionName must be a string of 1-80 characters, got ${JSON.stringify(name)}`);
  }
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
