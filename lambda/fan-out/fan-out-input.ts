/**
 * The input of the "run on every task of a service" state machine, shared by its listing
 * function (at run time) and the schedule checks (at synth). No CDK imports: it is bundled.
 */
import type { ExecEvent } from '../contract';
import { InvalidInput } from '../errors';
import { type EventDefaults, type ExecRequest, parseExecEvent } from '../event';

/**
 * Upper bound for `maxConcurrency`: a Distributed Map allows 10,000 child executions at once; here
 * the ECS API's throttling of ExecuteCommand is the real bound (see DEFAULT_FAN_OUT_MAX_CONCURRENCY).
 */
export const FAN_OUT_MAX_CONCURRENCY_LIMIT = 1000;
/** Per-task idempotency keys are `<key>-<task id>`; the Lambda accepts keys up to 256 characters. */
const MAX_IDEMPOTENCY_KEY_CHARS = 256;

/** An exec event naming a service (never a task), plus how many tasks to run on at once. */
export type FanOutInput = Omit<ExecEvent, 'task' | 'taskToken'> & {
  /** How many tasks run the command at the same time. @default the state machine's default */
  readonly maxConcurrency?: number;
};

export interface ParsedFanOutInput {
  /** The validated event with defaults applied; its target is a service. */
  readonly request: ExecRequest & { readonly target: { readonly kind: 'service'; readonly service: string } };
  /** The fields as given, without `maxConcurrency`: the base of every per-task event. */
  readonly baseEvent: Readonly<Record<string, unknown>>;
  readonly maxConcurrency?: number;
}

/** Validates a fan-out input; throws `InvalidInput` naming the field and the rule. */
export function parseFanOutInput(input: unknown, defaults: EventDefaults = {}): ParsedFanOutInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidInput('the input must be a JSON object with at least "command"');
  }
  const { maxConcurrency, ...baseEvent } = input as Record<string, unknown>;
  if (baseEvent.task !== undefined) {
    throw new InvalidInput('"task" cannot be used here: this runs on every task of "service"');
  }
  if (baseEvent.taskToken !== undefined) {
    throw new InvalidInput('"taskToken" cannot be used here: one token cannot report for many tasks');
  }
  if (
    maxConcurrency !== undefined &&
    (typeof maxConcurrency !== 'number' ||
      !Number.isInteger(maxConcurrency) ||
      maxConcurrency < 1 ||
      maxConcurrency > FAN_OUT_MAX_CONCURRENCY_LIMIT)
  ) {
    throw new InvalidInput(
      `"maxConcurrency" must be a whole number from 1 to ${FAN_OUT_MAX_CONCURRENCY_LIMIT}, got ${JSON.stringify(maxConcurrency)}`,
    );
  }
  const key = baseEvent.idempotencyKey;
  if (typeof key === 'string' && key.length + 33 > MAX_IDEMPOTENCY_KEY_CHARS) {
    throw new InvalidInput(
      `"idempotencyKey" must be at most ${MAX_IDEMPOTENCY_KEY_CHARS - 33} characters here (a task id is appended per task)`,
    );
  }
  const request = parseExecEvent(baseEvent, defaults);
  if (request.target.kind !== 'service') {
    throw new InvalidInput('"service" is required (no default service is configured)');
  }
  return {
    request: { ...request, target: request.target },
    baseEvent,
    ...(maxConcurrency !== undefined ? { maxConcurrency } : {}),
  };
}

/** The event one task of the fan-out receives: the base event aimed at that task. */
export function taskEvent(
  parsed: ParsedFanOutInput,
  taskArn: string,
  executionName: string | undefined,
): Record<string, unknown> {
  const { service: _service, ...rest } = parsed.baseEvent;
  const taskId = taskArn.split('/').pop() ?? taskArn;
  const key = parsed.baseEvent.idempotencyKey;
  return {
    ...rest,
    cluster: parsed.request.cluster,
    task: taskArn,
    ...(typeof key === 'string' ? { idempotencyKey: `${key}-${taskId}` } : {}),
    ...(executionName !== undefined ? { executionName } : {}),
  };
}
