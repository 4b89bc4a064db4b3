import { clusterAllowed, type HomeLocation } from './cluster-allowlist';
import { ExecEnv, type ExecEvent } from './contract';
import { InvalidInput } from './errors';
import {
  EXEC_OPTION_FIELDS,
  type ExecOptions,
  MAX_STDIN_BYTES,
  parseExecOptions,
} from './event-exec-options';
import { buildCommand } from './ssm/command';

export const MAX_COMMAND_CHARS = 16_384;
export { MAX_STDIN_BYTES };
export const MAX_TIMEOUT_SECONDS = 900;
/** Detached jobs: up to 7 days. */
export const MAX_DETACHED_TIMEOUT_SECONDS = 604_800;
export const MIN_POLL_INTERVAL_SECONDS = 2;
export const MAX_POLL_INTERVAL_SECONDS = 300;
const MAX_JOBS_DIRECTORY_CHARS = 1024;
const JOBS_DIRECTORY_PATTERN = /^\/[A-Za-z0-9_./-]*$/;
export const DEFAULT_TIMEOUT_SECONDS = 300;
export const DEFAULT_OUTPUT_LIMIT_BYTES = 200_000;
/** Above this the result could not fit Step Functions' 256 KiB state limit once JSON-escaped. */
export const MAX_OUTPUT_LIMIT_BYTES = 240_000;
export const MIN_OUTPUT_LIMIT_BYTES = 256;
const MAX_ID_CHARS = 256;
const MAX_TASK_TOKEN_CHARS = 1024;

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
const CLUSTER_ARN_PATTERN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/([A-Za-z0-9_-]{1,255})$/;
const SERVICE_ARN_PATTERN =
  /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/(?:[A-Za-z0-9_-]{1,255}\/)?([A-Za-z0-9_-]{1,255})$/;
const TASK_ID_PATTERN = /^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const TASK_ARN_PATTERN =
  /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/(?:[A-Za-z0-9_-]{1,255}\/)?([0-9a-f]{32}|[0-9a-f-]{36})$/;
const PRINTABLE_PATTERN = /^[\x21-\x7e]+$/;

/** A validated event with every default applied. */
export interface ExecRequest extends ExecOptions {
  readonly command: string;
  /** As given (name or ARN). */
  readonly cluster: string;
  readonly target:
    | { readonly kind: 'task'; readonly task: string }
    | { readonly kind: 'service'; readonly service: string };
  readonly container?: string;
  readonly shell: boolean;
  readonly tty: boolean;
  readonly stdin?: string;
  readonly timeoutSeconds: number;
  readonly outputLimitBytes: number;
  readonly stripAnsi: boolean;
  readonly failOnNonZeroExit: boolean;
  readonly idempotencyKey?: string;
  readonly taskToken?: string;
  readonly executionName?: string;
  readonly scheduleName?: string;
  /** Set for detached jobs (`detach: true`, or through the state machine's detached path). */
  readonly detach?: DetachOptions;
}

export interface DetachOptions {
  /** Fixed seconds between polls; null = adaptive (5 s growing to 60 s). */
  readonly pollIntervalSeconds: number | null;
  /** Where the job's directory is created. @default /tmp/ecs-exec-runner */
  readonly jobsDirectory?: string;
  /** Leave the job directory in the container when the job ends. */
  readonly keepFiles: boolean;
}

export interface ParseOptions {
  /** Parse as a detached job even without `detach: true` (the state machine chose the detached path). */
  readonly detached?: boolean;
}

export interface EventDefaults {
  readonly cluster?: string;
  readonly service?: string;
  readonly container?: string;
  /** Cluster names or ARNs the runner may target; empty = any. */
  readonly allowedClusters?: readonly string[];
  /** The function's region and account: where a bare cluster name points. */
  readonly home?: HomeLocation;
}

export function defaultsFromEnv(env: NodeJS.ProcessEnv = process.env): EventDefaults {
  const nonEmpty = (value: string | undefined): string | undefined =>
    value?.trim() ? value.trim() : undefined;
  const allowed = (env[ExecEnv.AllowedClusters] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const cluster = nonEmpty(env[ExecEnv.DefaultCluster]);
  const service = nonEmpty(env[ExecEnv.DefaultService]);
  const container = nonEmpty(env[ExecEnv.DefaultContainer]);
  const region = nonEmpty(env.AWS_REGION);
  return {
    ...(cluster ? { cluster } : {}),
    ...(service ? { service } : {}),
    ...(container ? { container } : {}),
    allowedClusters: allowed,
    ...(region ? { home: { region } } : {}),
  };
}

const KNOWN_FIELDS: ReadonlySet<keyof ExecEvent> = new Set<keyof ExecEvent>([
  'command',
  'cluster',
  'task',
  'service',
  'container',
  'shell',
  'tty',
  'stdin',
  'timeoutSeconds',
  'outputLimitBytes',
  'stripAnsi',
  'failOnNonZeroExit',
  'idempotencyKey',
  'taskToken',
  'executionName',
  'scheduleName',
  ...EXEC_OPTION_FIELDS,
  'detach',
  'pollIntervalSeconds',
  'jobsDirectory',
  'keepJobFiles',
]);

/** Validates an event and applies the defaults; throws InvalidInput naming the field and the rule. */
export function parseExecEvent(
  input: unknown,
  defaults: EventDefaults = {},
  options: ParseOptions = {},
): ExecRequest {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidInput('the event must be a JSON object with at least "command"');
  }
  const event = input as Record<string, unknown>;
  const unknown = Object.keys(event).filter((key) => !KNOWN_FIELDS.has(key as keyof ExecEvent));
  if (unknown.length > 0) {
    throw new InvalidInput(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${[...KNOWN_FIELDS].join(', ')}`,
    );
  }

  const command = requiredString(event, 'command', MAX_COMMAND_CHARS);
  if (command.trim() === '') throw new InvalidInput('"command" must not be blank');

  const cluster = optionalString(event, 'cluster', 2048) ?? defaults.cluster;
  if (cluster === undefined) {
    throw new InvalidInput('"cluster" is required (no default cluster is configured for this function)');
  }
  if (!NAME_PATTERN.test(cluster) && !CLUSTER_ARN_PATTERN.test(cluster)) {
    throw new InvalidInput(
      `"cluster" must be a cluster name ([A-Za-z0-9_-], 1-255) or a cluster ARN, got "${cluster}"`,
    );
  }
  const allowed = defaults.allowedClusters ?? [];
  if (!clusterAllowed(allowed, cluster, defaults.home)) {
    throw new InvalidInput(
      `"cluster" ${cluster} is not one this runner may use (allowed: ${allowed.join(', ')})`,
    );
  }

  const task = optionalString(event, 'task', 2048);
  const service = optionalString(event, 'service', 2048);
  if (task !== undefined && service !== undefined) {
    throw new InvalidInput('give exactly one of "task" and "service", not both');
  }
  if (task !== undefined && !TASK_ID_PATTERN.test(task) && !TASK_ARN_PATTERN.test(task)) {
    throw new InvalidInput(`"task" must be a task id (32 hex characters) or a task ARN, got "${task}"`);
  }
  if (service !== undefined && !NAME_PATTERN.test(service) && !SERVICE_ARN_PATTERN.test(service)) {
    throw new InvalidInput(
      `"service" must be a service name ([A-Za-z0-9_-], 1-255) or ARN, got "${service}"`,
    );
  }
  const chosenService = service ?? (task === undefined ? defaults.service : undefined);
  if (task === undefined && chosenService === undefined) {
    throw new InvalidInput('one of "task" or "service" is required (no default service is configured)');
  }

  const container = optionalString(event, 'container', 255) ?? defaults.container;
  if (container !== undefined && !NAME_PATTERN.test(container)) {
    throw new InvalidInput(`"container" must be a container name ([A-Za-z0-9_-], 1-255), got "${container}"`);
  }

  const shell = optionalBoolean(event, 'shell') ?? true;
  const stdin = optionalString(event, 'stdin', MAX_STDIN_BYTES, true);
  if (stdin !== undefined && !shell) {
    throw new InvalidInput('"stdin" needs "shell": true (raw commands get no stdin)');
  }
  const execOptions = parseExecOptions(event, shell, stdin);
  if (command.includes('\0')) {
    throw new InvalidInput('"command" cannot contain NUL characters (it travels as a process argument)');
  }

  assertRunnable(command, shell, stdin, execOptions);

  const idempotencyKey = optionalString(event, 'idempotencyKey', MAX_ID_CHARS);
  if (idempotencyKey !== undefined && !PRINTABLE_PATTERN.test(idempotencyKey)) {
    throw new InvalidInput('"idempotencyKey" must be printable ASCII without spaces');
  }
  const taskToken = optionalString(event, 'taskToken', MAX_TASK_TOKEN_CHARS);
  const executionName = optionalString(event, 'executionName', MAX_ID_CHARS);
  const scheduleName = optionalString(event, 'scheduleName', MAX_ID_CHARS);
  const detach = parseDetachOptions(event, options);

  return {
    command,
    cluster,
    target:
      task !== undefined ? { kind: 'task', task } : { kind: 'service', service: chosenService as string },
    ...(container !== undefined ? { container } : {}),
    shell,
    tty: optionalBoolean(event, 'tty') ?? false,
    ...(stdin !== undefined ? { stdin } : {}),
    ...execOptions,
    timeoutSeconds:
      optionalInteger(
        event,
        'timeoutSeconds',
        1,
        detach !== undefined ? MAX_DETACHED_TIMEOUT_SECONDS : MAX_TIMEOUT_SECONDS,
      ) ?? DEFAULT_TIMEOUT_SECONDS,
    outputLimitBytes:
      optionalInteger(event, 'outputLimitBytes', MIN_OUTPUT_LIMIT_BYTES, MAX_OUTPUT_LIMIT_BYTES) ??
      DEFAULT_OUTPUT_LIMIT_BYTES,
    stripAnsi: optionalBoolean(event, 'stripAnsi') ?? true,
    failOnNonZeroExit: optionalBoolean(event, 'failOnNonZeroExit') ?? true,
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    ...(taskToken !== undefined ? { taskToken } : {}),
    ...(executionName !== undefined ? { executionName } : {}),
    ...(scheduleName !== undefined ? { scheduleName } : {}),
    ...(detach !== undefined ? { detach } : {}),
  };
}

/** The detached-job fields; they need `detach: true` (or the state machine's detached path). */
function parseDetachOptions(
  event: Record<string, unknown>,
  options: ParseOptions,
): DetachOptions | undefined {
  const detach = optionalBoolean(event, 'detach') === true || options.detached === true;
  const pollIntervalSeconds = optionalInteger(
    event,
    'pollIntervalSeconds',
    MIN_POLL_INTERVAL_SECONDS,
    MAX_POLL_INTERVAL_SECONDS,
  );
  const jobsDirectory = optionalString(event, 'jobsDirectory', MAX_JOBS_DIRECTORY_CHARS);
  const keepFiles = optionalBoolean(event, 'keepJobFiles');
  if (!detach) {
    const given = (['pollIntervalSeconds', 'jobsDirectory', 'keepJobFiles'] as const).filter(
      (field) => event[field] !== undefined && event[field] !== null,
    );
    if (given.length > 0)
      throw new InvalidInput(`${given.map((f) => `"${f}"`).join(', ')} needs "detach": true`);
    return undefined;
  }
  if (
    jobsDirectory !== undefined &&
    (!JOBS_DIRECTORY_PATTERN.test(jobsDirectory) || jobsDirectory.includes('..'))
  ) {
    throw new InvalidInput(
      `"jobsDirectory" must be an absolute path of [A-Za-z0-9_./-] without "..", got "${jobsDirectory}"`,
    );
  }
  return {
    pollIntervalSeconds: pollIntervalSeconds ?? null,
    ...(jobsDirectory !== undefined ? { jobsDirectory } : {}),
    keepFiles: keepFiles ?? false,
  };
}

/**
 * What the session layer would refuse (an unpaired surrogate, a raw command of no words, an
 * argument too long for exec) is refused here, before any AWS call, by the same checks.
 */
function assertRunnable(
  command: string,
  shell: boolean,
  stdin: string | undefined,
  options: ExecOptions,
): void {
  try {
    buildCommand(command, {
      shell,
      tty: false,
      // The text as given: as bytes, an unpaired surrogate would already have become U+FFFD.
      ...(stdin !== undefined
        ? { stdin }
        : options.stdinBytes !== undefined
          ? { stdin: options.stdinBytes }
          : {}),
      ...(options.environment !== undefined ? { environment: options.environment } : {}),
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.workingDirectory !== undefined ? { workingDirectory: options.workingDirectory } : {}),
      transfer: options.transfer,
    });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    const field = /^(stdin|environment|user|workingDirectory)\b/.exec(err.message)?.[1] ?? 'command';
    throw new InvalidInput(`"${field}" cannot be run: ${err.message}`);
  }
}

/** The short name of a cluster given by name or ARN. */
export function clusterName(cluster: string): string {
  return CLUSTER_ARN_PATTERN.exec(cluster)?.[1] ?? cluster;
}

function requiredString(event: Record<string, unknown>, field: string, maxChars: number): string {
  const value = optionalString(event, field, maxChars);
  if (value === undefined) throw new InvalidInput(`"${field}" is required`);
  return value;
}

function optionalString(
  event: Record<string, unknown>,
  field: string,
  maxChars: number,
  allowEmpty = false,
): string | undefined {
  const value = event[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new InvalidInput(`"${field}" must be a string, got ${describe(value)}`);
  if (!allowEmpty && value === '') throw new InvalidInput(`"${field}" must not be empty`);
  if (value.length > maxChars) throw new InvalidInput(`"${field}" must be at most ${maxChars} characters`);
  return value;
}

function optionalBoolean(event: Record<string, unknown>, field: string): boolean | undefined {
  const value = event[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    throw new InvalidInput(`"${field}" must be true or false, got ${describe(value)}`);
  return value;
}

function optionalInteger(
  event: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = event[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInput(`"${field}" must be a whole number from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value);
}

// ---- the doctor action: {"action": "doctor", "cluster", "task" | "service", "container", "probe"} ----

export const DOCTOR_ACTION = 'doctor';

/** A validated doctor event: the target, and whether to run the live probe. */
export interface DoctorRequest {
  readonly cluster: string;
  readonly task?: string;
  readonly service?: string;
  readonly container?: string;
  readonly probe: boolean;
}

const DOCTOR_FIELDS: ReadonlySet<string> = new Set([
  'action',
  'cluster',
  'task',
  'service',
  'container',
  'probe',
]);

/** True for `{"action": "doctor", …}`; every other event is an exec event. */
export function isDoctorEvent(input: unknown): boolean {
  return (
    input !== null &&
    typeof input === 'object' &&
    !Array.isArray(input) &&
    (input as Record<string, unknown>).action === DOCTOR_ACTION
  );
}

/** Validates a doctor event with the exec event's rules for the target (and the same defaults). */
export function parseDoctorEvent(input: unknown, defaults: EventDefaults = {}): DoctorRequest {
  const event = input as Record<string, unknown>;
  const unknown = Object.keys(event).filter((key) => !DOCTOR_FIELDS.has(key));
  if (unknown.length > 0) {
    throw new InvalidInput(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} for the doctor action; allowed: ${[...DOCTOR_FIELDS].join(', ')}`,
    );
  }
  // The exec rules for cluster, task, service and container, with a placeholder command.
  const target = Object.fromEntries(
    Object.entries(event).filter(([key]) => key !== 'action' && key !== 'probe'),
  );
  const parsed = parseExecEvent({ ...target, command: 'true' }, defaults);
  const probeValue = optionalBoolean(event, 'probe') ?? false;
  return {
    cluster: parsed.cluster,
    ...(parsed.target.kind === 'task' ? { task: parsed.target.task } : { service: parsed.target.service }),
    ...(parsed.container !== undefined ? { container: parsed.container } : {}),
    probe: probeValue,
  };
}
