/**
 * The exec event both entry points send (`ecs-exec run` through Step Functions, `npm start` to the
 * handler), built from command-line values exactly as lambda/contract.ts defines it. Range checks
 * stay with the Lambda (one set of rules, one message: InvalidInput); only what the command line
 * itself can get wrong is checked here.
 */
import type { ExecEvent } from '../lambda/contract';
import { usageError } from './execution-exit-codes';

export interface EventOptions {
  /** The command words; one word is the command string as it is, several are joined with spaces. */
  readonly command: readonly string[];
  readonly cluster?: string;
  readonly service?: string;
  readonly task?: string;
  readonly container?: string;
  /** Seconds, as typed. */
  readonly timeout?: string;
  readonly stdin?: string;
  readonly tty?: boolean;
  /** shell: false (no wrapper, no exit code). */
  readonly raw?: boolean;
  readonly idempotencyKey?: string;
  /** A detached job, polled by the state machine (timeout up to 7 days). */
  readonly detach?: boolean;
  /** Seconds between polls, as typed (detached jobs). */
  readonly pollInterval?: string;
}

/** Joins the words like ssh does: `-- ls -la` and `-- "ls -la"` both run `ls -la`. */
export function commandText(words: readonly string[]): string {
  const command = words.join(' ');
  if (command.trim() === '') throw usageError('no command given: put it after "--", e.g. -- uname -a');
  return command;
}

/** A whole number of seconds (the Lambda checks the range). */
export function parseSeconds(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw usageError(`${flag} must be a whole number of seconds, got "${value}"`);
  return Number(value);
}

export function buildExecEvent(options: EventOptions): ExecEvent {
  if (options.service !== undefined && options.task !== undefined) {
    throw usageError('give --service or --task, not both');
  }
  if (options.pollInterval !== undefined && !options.detach)
    throw usageError('--poll-interval needs --detach');
  return {
    command: commandText(options.command),
    ...(options.cluster !== undefined ? { cluster: options.cluster } : {}),
    ...(options.task !== undefined ? { task: options.task } : {}),
    ...(options.service !== undefined ? { service: options.service } : {}),
    ...(options.container !== undefined ? { container: options.container } : {}),
    ...(options.raw ? { shell: false } : {}),
    ...(options.tty ? { tty: true } : {}),
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    ...(options.timeout !== undefined ? { timeoutSeconds: parseSeconds('--timeout', options.timeout) } : {}),
    ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
    ...(options.detach ? { detach: true } : {}),
    ...(options.pollInterval !== undefined
      ? { pollIntervalSeconds: parseSeconds('--poll-interval', options.pollInterval) }
      : {}),
  };
}

/** `--fan-out`: the event aimed at every task of a service, plus `--max-concurrency`. */
export function buildFanOutInput(
  options: EventOptions & { readonly maxConcurrency?: string },
): ExecEvent & { readonly maxConcurrency?: number } {
  if (options.task !== undefined) {
    throw usageError('--fan-out runs the command on every task of --service; --task cannot be used with it');
  }
  const { maxConcurrency } = options;
  if (maxConcurrency !== undefined && !/^\d+$/.test(maxConcurrency.trim())) {
    throw usageError(`--max-concurrency must be a whole number, got "${maxConcurrency}"`);
  }
  return {
    ...buildExecEvent(options),
    ...(maxConcurrency !== undefined ? { maxConcurrency: Number(maxConcurrency) } : {}),
  };
}

/** Reads `--stdin-file`: a path, or `-` for this process's stdin. */
export async function readStdinFile(
  file: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  if (file !== '-') {
    const { readFile } = await import('node:fs/promises');
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw usageError(
        `cannot read --stdin-file ${file}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
