import { type ExecResult, FAILURE_CAUSE_LIMIT_CHARS, STATE_PAYLOAD_LIMIT_BYTES } from './contract';

/** Room left under Step Functions' 256 KiB for the envelope Step Functions and Lambda add. */
export const RESULT_SAFETY_MARGIN_BYTES = 4_096;
export const RESULT_LIMIT_BYTES = STATE_PAYLOAD_LIMIT_BYTES - RESULT_SAFETY_MARGIN_BYTES;
/** The failure cause also carries the runtime's error envelope; stay well inside 32,768. */
export const CAUSE_LIMIT_CHARS = FAILURE_CAUSE_LIMIT_CHARS - 2_048;
/** Output tail carried by NonZeroExit / CommandTimedOut (before escaping). */
export const ERROR_OUTPUT_TAIL_CHARS = 8_192;

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/** Cut `text` at `index` without splitting a surrogate pair. */
function safeCut(text: string, index: number, towardsStart: boolean): number {
  if (index <= 0 || index >= text.length) return Math.max(0, Math.min(index, text.length));
  const code = text.charCodeAt(index);
  const isLowSurrogate = code >= 0xdc00 && code <= 0xdfff;
  return isLowSurrogate ? index + (towardsStart ? -1 : 1) : index;
}

/** Head + notice + tail of `text` whose JSON encoding takes at most `maxJsonBytes`. */
export function shortenToJsonBytes(text: string, maxJsonBytes: number, what = 'characters'): string {
  if (jsonBytes(text) <= maxJsonBytes) return text;
  let low = 0;
  let high = text.length;
  let best = notice(text.length, what);
  // Binary search on how many characters survive; JSON escaping makes the size non-linear.
  while (low <= high) {
    const keep = Math.floor((low + high) / 2);
    const candidate = headAndTail(text, keep, what);
    if (jsonBytes(candidate) <= maxJsonBytes) {
      best = candidate;
      low = keep + 1;
    } else {
      high = keep - 1;
    }
  }
  return best;
}

function headAndTail(text: string, keep: number, what: string): string {
  const headEnd = safeCut(text, Math.floor(keep / 2), true);
  const tailStart = safeCut(text, text.length - (keep - headEnd), false);
  return `${text.slice(0, headEnd)}${notice(tailStart - headEnd, what)}${text.slice(tailStart)}`;
}

function notice(omitted: number, what: string): string {
  return `\n[... ${omitted} ${what} omitted to fit the Step Functions payload limit ...]\n`;
}

/** The last `maxChars` characters of `text` (no split surrogate pairs). */
export function tail(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return text.slice(safeCut(text, text.length - maxChars, false));
}

/** Guarantees the JSON-encoded result stays under Step Functions' limit, whatever the output holds. */
export function fitResult(result: ExecResult, limitBytes = RESULT_LIMIT_BYTES): ExecResult {
  if (jsonBytes(result) <= limitBytes) return result;
  const withoutOutput = jsonBytes({ ...result, output: '', truncated: true });
  const output = shortenToJsonBytes(result.output, limitBytes - withoutOutput);
  return { ...result, output, truncated: true };
}

/**
 * A failure message that Step Functions can show and parse: JSON with the details and an output
 * tail, shortened until the runtime's error envelope (which JSON-escapes it again) fits the cause limit.
 */
export function failureMessage(summary: string, details: Record<string, unknown>, output?: string): string {
  return fitToCauseLimit({
    message: summary,
    ...details,
    ...(output !== undefined ? { outputTail: tail(output, ERROR_OUTPUT_TAIL_CHARS) } : {}),
  });
}

/**
 * The JSON of `fields`, its `outputTail` halved until the runtime's error envelope (which
 * JSON-escapes the message again) fits the cause limit.
 */
export function fitToCauseLimit(fields: Record<string, unknown>): string {
  const envelopeChars = (message: string): number =>
    JSON.stringify({ errorType: 'NonZeroExit', errorMessage: message, trace: [] }).length;
  let outputTail = typeof fields.outputTail === 'string' ? fields.outputTail : undefined;
  let message = JSON.stringify(fields);
  while (envelopeChars(message) > CAUSE_LIMIT_CHARS && outputTail !== undefined && outputTail.length > 0) {
    outputTail = tail(outputTail, Math.floor(outputTail.length / 2));
    message = JSON.stringify({ ...fields, outputTail });
  }
  return message;
}
