/**
 * Synth-time checks for EventBridge Scheduler expressions, so that a typo fails `cdk synth`
 * instead of the deployment (or, worse, a schedule that never fires).
 * Syntax: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const CRON = /^cron\((.*)\)$/;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Three-letter names accepted in place of numbers (JAN=1, SUN=1). */
  readonly names?: readonly string[];
  /** `?` (no specific value) is allowed: day-of-month and day-of-week only. */
  readonly question?: boolean;
  /** `L` (last) / `W` (weekday) / `#` (nth weekday) forms. */
  readonly special?: 'day-of-month' | 'day-of-week';
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true, special: 'day-of-month' },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, question: true, special: 'day-of-week' },
  { name: 'year', min: 1970, max: 2199 },
];

/** Returns a description of what is wrong with `expression`, or undefined when it is valid. */
export function scheduleExpressionProblem(expression: string): string | undefined {
  if (expression.startsWith('rate(')) return rateProblem(expression);
  if (expression.startsWith('cron(')) return cronProblem(expression);
  if (expression.startsWith('at(')) return atProblem(expression);
  return 'must be cron(...), rate(...) or at(...)';
}

/** Returns a description of what is wrong with `timeZone`, or undefined for a known IANA zone. */
export function timeZoneProblem(timeZone: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(timeZone)) return 'is not an IANA time zone name';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return undefined;
  } catch {
    return 'is not a time zone this runtime knows (IANA names such as "Europe/Berlin" or "Etc/UTC")';
  }
}

function rateProblem(expression: string): string | undefined {
  const match = RATE.exec(expression);
  if (!match) return 'must look like rate(5 minutes), rate(1 hour) or rate(2 days)';
  const value = Number(match[1]);
  const unit = match[2] ?? '';
  if (!Number.isSafeInteger(value) || value < 1) return 'needs a rate value of at least 1';
  const plural = unit.endsWith('s');
  if (value === 1 && plural) return `use the singular unit for a rate of 1 (rate(1 ${unit.slice(0, -1)}))`;
  if (value > 1 && !plural) return `use the plural unit for a rate above 1 (rate(${value} ${unit}s))`;
  return undefined;
}

function atProblem(expression: string): string | undefined {
  const match = AT.exec(expression);
  if (!match) return 'must look like at(2030-01-31T08:00:00)';
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const roundTrips =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return roundTrips ? undefined : 'is not a real date and time';
}

function cronProblem(expression: string): string | undefined {
  const body = CRON.exec(expression)?.[1];
  if (body === undefined) return 'must look like cron(0 8 * * ? *)';
  const parts = body.trim().split(/\s+/);
  if (parts.length !== CRON_FIELDS.length) {
    return `needs 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`;
  }
  for (const [index, field] of CRON_FIELDS.entries()) {
    const problem = cronFieldProblem(parts[index] ?? '', field);
    if (problem) return `${field.name} field "${parts[index]}" ${problem}`;
  }
  const dayOfMonth = parts[2];
  const dayOfWeek = parts[4];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return 'must have "?" in exactly one of day-of-month and day-of-week';
  }
  return undefined;
}

function cronFieldProblem(value: string, field: CronField): string | undefined {
  if (value === '?') return field.question ? undefined : 'cannot be "?"';
  if (field.special === 'day-of-month' && (value === 'L' || value === 'LW')) return undefined;
  if (field.special === 'day-of-month' && /^\d{1,2}W$/.test(value)) {
    return numberProblem(value.slice(0, -1), field);
  }
  if (field.special === 'day-of-week') {
    const nth = /^([A-Za-z]{3}|\d)#([1-5])$/.exec(value);
    if (nth) return numberProblem(nth[1] ?? '', field);
    const last = /^([A-Za-z]{3}|\d)L$/.exec(value);
    if (last) return numberProblem(last[1] ?? '', field);
    if (value === 'L') return undefined;
  }
  for (const item of value.split(',')) {
    const problem = listItemProblem(item, field);
    if (problem) return problem;
  }
  return undefined;
}

function listItemProblem(item: string, field: CronField): string | undefined {
  if (item === '') return 'has an empty list item';
  const [range, step, ...extra] = item.split('/');
  if (extra.length > 0) return 'has more than one "/"';
  if (step !== undefined && !/^\d+$/.test(step)) return `has a step "${step}" that is not a number`;
  if (step !== undefined && Number(step) < 1) return 'has a step of 0';
  if (range === '*') return undefined;
  const bounds = (range ?? '').split('-');
  if (bounds.length > 2) return `has a malformed range "${range}"`;
  for (const bound of bounds) {
    const problem = numberProblem(bound, field);
    if (problem) return problem;
  }
  return undefined;
}

function numberProblem(token: string, field: CronField): string | undefined {
  if (field.names?.includes(token.toUpperCase())) return undefined;
  if (!/^\d+$/.test(token)) return `has "${token}", which is not a number${field.names ? ' or name' : ''}`;
  const value = Number(token);
  if (value < field.min || value > field.max) return `has ${value}, outside ${field.min}-${field.max}`;
  return undefined;
}
