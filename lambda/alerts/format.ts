/**
 * A failed, timed-out or aborted execution of a runner state machine, as a short message a person
 * reads at 3 a.m.: what failed and why, where, which command, the exit code and the end of the
 * output, and a link to the execution. Pure: the EventBridge event in, subject and text out.
 */
import { describeFailure } from '../../cli/failure';

/** EventBridge `Step Functions Execution Status Change` (only the fields used here). */
export interface ExecutionStatusChangeEvent {
  readonly 'detail-type'?: string;
  readonly region?: string;
  readonly detail: {
    readonly executionArn: string;
    readonly stateMachineArn: string;
    readonly name: string;
    readonly status: string;
    readonly startDate?: number | null;
    readonly stopDate?: number | null;
    /** The execution input (a JSON string); absent or null when too large for the event. */
    readonly input?: string | null;
    readonly output?: string | null;
    readonly error?: string | null;
    readonly cause?: string | null;
  };
}

export interface AlertMessage {
  /** SNS subject: at most 100 ASCII characters, no line break (what email shows). */
  readonly subject: string;
  readonly message: string;
}

/** SNS rejects a longer subject. */
export const SUBJECT_MAX_CHARS = 100;
/** Lines of the output's end in the message (the execution holds the rest). */
export const OUTPUT_TAIL_LINES = 20;
export const OUTPUT_TAIL_CHARS = 2_000;
/** Long plain causes (States.Runtime and the like) are cut to this. */
export const CAUSE_MAX_CHARS = 1_000;
const COMMAND_MAX_CHARS = 200;
const SUBJECT_PREFIX = 'ecs-exec-runner';
/** Error names for the statuses that carry none. */
const STATUS_ERRORS: Readonly<Record<string, string>> = {
  TIMED_OUT: 'States.Timeout',
  ABORTED: 'Aborted',
};
const CONSOLE_HOSTS: Readonly<Record<string, string>> = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
};

export function formatAlert(event: ExecutionStatusChangeEvent): AlertMessage {
  const { detail } = event;
  const input = parseObject(detail.input ?? undefined) ?? {};
  const failure = describeFailure(detail.error ?? STATUS_ERRORS[detail.status], detail.cause ?? undefined);
  const schedule = typeof input.scheduleName === 'string' ? input.scheduleName : undefined;
  const stateMachine = lastSegment(detail.stateMachineArn, ':');
  const command = typeof input.command === 'string' ? firstLine(input.command) : undefined;
  const target = describeTarget(input, failure.details);

  const lines: string[] = [
    `${stateMachine}: execution ${detail.status}${failure.error !== 'Unknown' ? ` with ${failure.error}` : ''}`,
  ];
  const summary = causeSummary(failure.message);
  if (summary !== '') lines.push(summary);
  lines.push('');
  const field = (label: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') lines.push(`${`${label}:`.padEnd(11)} ${value}`);
  };
  field('Schedule', schedule);
  field('Target', target);
  field('Command', command);
  field('Exit code', failure.commandExitCode !== undefined ? String(failure.commandExitCode) : undefined);
  field('Execution', detail.name);
  field('Started', isoDate(detail.startDate));
  field('Stopped', isoDate(detail.stopDate));
  field('Console', consoleLink(detail.executionArn, event.region));
  const outputTail = failure.outputTail !== undefined ? lastLines(failure.outputTail) : '';
  if (outputTail !== '') lines.push('', '--- end of the output ---', outputTail);

  const subject = asciiSubject(
    `${SUBJECT_PREFIX}: ${failure.error === 'Unknown' ? detail.status : failure.error}${schedule ? ` (${schedule})` : ''} ${command ?? detail.name}`,
  );
  return { subject, message: `${lines.join('\n')}\n` };
}

/** "cluster prod, service web" / "cluster prod, task 0123…": what the input asked for, else what ran. */
function describeTarget(input: Record<string, unknown>, details: Readonly<Record<string, unknown>>): string {
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value !== '' ? value : undefined;
  const cluster = text(input.cluster) ?? text(details.cluster);
  const service = text(input.service);
  const task = text(details.taskArn) ?? text(input.task);
  const container = text(details.container) ?? text(input.container);
  const parts = [
    cluster !== undefined ? `cluster ${lastSegment(cluster, '/')}` : undefined,
    service !== undefined ? `service ${lastSegment(service, '/')}` : undefined,
    task !== undefined ? `task ${lastSegment(task, '/')}` : undefined,
    container !== undefined ? `container ${container}` : undefined,
  ];
  return parts.filter((p) => p !== undefined).join(', ');
}

/** The cause's message: a plain sentence as it is (cut), a JSON summary (fan-out) as key: value lines. */
function causeSummary(message: string): string {
  const summary = parseObject(message);
  if (summary === undefined) return cut(message, CAUSE_MAX_CHARS);
  const lines: string[] = [];
  for (const [key, value] of Object.entries(summary)) {
    if (Array.isArray(value)) {
      lines.push(`${key}:`);
      for (const item of value.slice(0, OUTPUT_TAIL_LINES)) {
        lines.push(`  ${isRecord(item) ? Object.values(item).map(String).join('  ') : String(item)}`);
      }
    } else {
      lines.push(`${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
  }
  return cut(lines.join('\n'), CAUSE_MAX_CHARS);
}

function consoleLink(executionArn: string, eventRegion: string | undefined): string | undefined {
  const [, partition, , region] = executionArn.split(':');
  const host = CONSOLE_HOSTS[partition ?? ''];
  const where = region ?? eventRegion;
  if (host === undefined || where === undefined) return undefined;
  return `https://${where}.${host}/states/home?region=${where}#/v2/executions/details/${executionArn}`;
}

function firstLine(command: string): string {
  const lines = command.trim().split('\n');
  const first = cut(lines[0] ?? '', COMMAND_MAX_CHARS);
  return lines.length > 1 ? `${first} (+${lines.length - 1} more lines)` : first;
}

function lastLines(text: string): string {
  const lines = text.replace(/\n$/, '').split('\n');
  const tail = lines.slice(-OUTPUT_TAIL_LINES).join('\n');
  return tail.length > OUTPUT_TAIL_CHARS ? `…${tail.slice(-OUTPUT_TAIL_CHARS)}` : tail;
}

/** SNS subjects: printable ASCII only, no line breaks, at most 100 characters. */
function asciiSubject(text: string): string {
  const ascii = text.replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > SUBJECT_MAX_CHARS ? `${ascii.slice(0, SUBJECT_MAX_CHARS - 3)}...` : ascii;
}

function isoDate(epochMs: number | null | undefined): string | undefined {
  return typeof epochMs === 'number' ? new Date(epochMs).toISOString() : undefined;
}

function cut(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

function lastSegment(text: string, separator: string): string {
  return text.split(separator).pop() ?? text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
