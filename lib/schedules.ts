import type { EventDefaults } from '../lambda/event';
import { parseExecEvent } from '../lambda/event';
import { parseFanOutInput } from '../lambda/fan-out/fan-out-input';
import { scheduleExpressionProblem, timeZoneProblem } from './schedule-expression';

/** Which state machine a schedule starts. */
export const ScheduleTarget = {
  /** Run the command once, on one task (the event's `task`, or a task of its `service`). */
  RunCommand: 'run-command',
  /** Run the command on every RUNNING task of the event's `service`. */
  FanOut: 'fan-out',
} as const;
export type ScheduleTarget = (typeof ScheduleTarget)[keyof typeof ScheduleTarget];

/** One EventBridge Scheduler schedule that starts a runner state machine. */
export interface ScheduleConfig {
  /** Schedule name, unique in the runner: 1-64 of `[0-9A-Za-z-_.]`. */
  readonly name: string;
  /** `cron(0 3 * * ? *)`, `rate(1 hour)` or `at(2030-01-31T08:00:00)`. */
  readonly expression: string;
  /** IANA time zone the expression is read in. @default 'Etc/UTC' */
  readonly timeZone?: string;
  /** The state machine to start. @default 'run-command' */
  readonly target?: ScheduleTarget;
  /**
   * The execution input: an exec event (`lambda/contract.ts` `ExecEvent`); for `fan-out`, one
   * with `service` (never `task`) and optionally `maxConcurrency`.
   */
  readonly event: Readonly<Record<string, unknown>>;
  /** @default - none */
  readonly description?: string;
  /** @default true */
  readonly enabled?: boolean;
  /** How often Scheduler retries a failed StartExecution. @default 3 */
  readonly retryAttempts?: number;
  /** How long Scheduler keeps trying before the event goes to the dead-letter queue. @default 3600 */
  readonly maxEventAgeSeconds?: number;
}

const NAME = /^[0-9A-Za-z_.-]{1,64}$/;
const TARGETS: readonly string[] = Object.values(ScheduleTarget);
const KNOWN_FIELDS = new Set([
  'name',
  'expression',
  'timeZone',
  'target',
  'event',
  'description',
  'enabled',
  'retryAttempts',
  'maxEventAgeSeconds',
]);

/**
 * Reads schedules from untyped configuration (e.g. the `schedules` context value, a JSON array or
 * a string holding one). Throws one error listing every problem.
 */
export function parseScheduleConfigs(value: unknown, source: string): ScheduleConfig[] {
  let raw = value;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${source}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  if (!Array.isArray(raw)) throw new Error(`${source}: must be a JSON array of schedules`);
  const problems: string[] = [];
  const configs = raw.flatMap((entry: unknown, index): ScheduleConfig[] => {
    const where = `${source}[${index}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push(`${where}: must be an object`);
      return [];
    }
    const record = entry as Record<string, unknown>;
    const unknown = Object.keys(record).filter((key) => !KNOWN_FIELDS.has(key));
    if (unknown.length > 0) problems.push(`${where}: unknown field(s) ${unknown.join(', ')}`);
    const str = (key: string): string | undefined => {
      const v = record[key];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') problems.push(`${where}.${key}: must be a string`);
      return typeof v === 'string' ? v : undefined;
    };
    const num = (key: string): number | undefined => {
      const v = record[key];
      if (v === undefined) return undefined;
      if (typeof v !== 'number') problems.push(`${where}.${key}: must be a number`);
      return typeof v === 'number' ? v : undefined;
    };
    const name = str('name');
    const expression = str('expression');
    const event = record.event;
    if (name === undefined) problems.push(`${where}.name: is required`);
    if (expression === undefined) problems.push(`${where}.expression: is required`);
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      problems.push(`${where}.event: must be an object (the execution input)`);
    }
    const enabled = record.enabled;
    if (enabled !== undefined && typeof enabled !== 'boolean')
      problems.push(`${where}.enabled: must be a boolean`);
    const target = str('target');
    if (target !== undefined && !TARGETS.includes(target)) {
      problems.push(`${where}.target: must be one of ${TARGETS.join(', ')}`);
    }
    const timeZone = str('timeZone');
    const description = str('description');
    const retryAttempts = num('retryAttempts');
    const maxEventAgeSeconds = num('maxEventAgeSeconds');
    if (name === undefined || expression === undefined || typeof event !== 'object' || event === null)
      return [];
    return [
      {
        name,
        expression,
        event: event as Record<string, unknown>,
        ...(timeZone !== undefined ? { timeZone } : {}),
        ...(target !== undefined && TARGETS.includes(target) ? { target: target as ScheduleTarget } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(typeof enabled === 'boolean' ? { enabled } : {}),
        ...(retryAttempts !== undefined ? { retryAttempts } : {}),
        ...(maxEventAgeSeconds !== undefined ? { maxEventAgeSeconds } : {}),
      },
    ];
  });
  if (problems.length > 0) throw new Error(`Invalid schedules:\n  - ${problems.join('\n  - ')}`);
  return configs;
}

/**
 * Everything wrong with the schedules: names, expressions, time zones, retry settings, and the
 * events themselves (checked by the Lambda's own parser, with the runner's defaults).
 */
export function scheduleProblems(schedules: readonly ScheduleConfig[], defaults: EventDefaults): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const schedule of schedules) {
    const where = `schedule "${schedule.name}"`;
    if (!NAME.test(schedule.name)) problems.push(`${where}: name must be 1-64 of [0-9A-Za-z-_.]`);
    if (seen.has(schedule.name)) problems.push(`${where}: name is used twice`);
    seen.add(schedule.name);
    const expressionProblem = scheduleExpressionProblem(schedule.expression);
    if (expressionProblem)
      problems.push(`${where}: expression "${schedule.expression}" ${expressionProblem}`);
    if (schedule.timeZone !== undefined) {
      const zoneProblem = timeZoneProblem(schedule.timeZone);
      if (zoneProblem) problems.push(`${where}: time zone "${schedule.timeZone}" ${zoneProblem}`);
    }
    if (schedule.target !== undefined && !TARGETS.includes(schedule.target)) {
      problems.push(`${where}: target must be one of ${TARGETS.join(', ')}`);
    }
    const { retryAttempts, maxEventAgeSeconds } = schedule;
    if (
      retryAttempts !== undefined &&
      (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185)
    ) {
      problems.push(`${where}: retryAttempts must be a whole number from 0 to 185`);
    }
    if (
      maxEventAgeSeconds !== undefined &&
      (!Number.isInteger(maxEventAgeSeconds) || maxEventAgeSeconds < 60 || maxEventAgeSeconds > 86_400)
    ) {
      problems.push(`${where}: maxEventAgeSeconds must be a whole number from 60 to 86400`);
    }
    try {
      if ((schedule.target ?? ScheduleTarget.RunCommand) === ScheduleTarget.FanOut) {
        parseFanOutInput(schedule.event, defaults);
      } else {
        parseExecEvent(schedule.event, defaults);
      }
    } catch (err) {
      problems.push(`${where}: event is invalid: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}
