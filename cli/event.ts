/**
 * The exec event both entry points send (`ecs-exec run` through Step Functions, `npm start` to the
 * handler), built from command-line values exactly as lambda/contract.ts defines it. Range checks
 * stay with the Lambda (one set of rules, one message: InvalidInput); only what the command line
 * itself can get wrong is checked here.
 */
import { isUtf8 } from 'node:buffer';
import type { ExecEvent } from '../lambda/contract';
import { usageError } from './execution-exit-codes';

type TransferMode = NonNullable<ExecEvent['transfer']>;
/** How output may travel (`--transfer`), as the event accepts it. */
export const TRANSFER_MODES: readonly TransferMode[] = ['auto', 'zstd', 'xz', 'gzip', 'plain'];

/**
 * The options both command lines share for what runs where (parseArgs specs): `ecs-exec run` and
 * `npm start` spell them alike, like `docker exec -i -e -u -w`.
 */
export const EXEC_FLAG_OPTIONS = {
  stdin: { type: 'string' },
  'stdin-file': { type: 'string' },
  env: { type: 'string', multiple: true },
  user: { type: 'string' },
  workdir: { type: 'string' },
  transfer: { type: 'string' },
} as const;

/** The values parseArgs gives for EXEC_FLAG_OPTIONS. */
export interface ExecFlagValues {
  readonly stdin?: string;
  readonly 'stdin-file'?: string;
  readonly env?: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly transfer?: string;
}

/** EXEC_FLAG_OPTIONS as EventOptions; reads `--stdin-file` (from `stdin` for "-"). */
export async function execFlagOptions(
  values: ExecFlagValues,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<Partial<EventOptions>> {
  if (values.stdin !== undefined && values['stdin-file'] !== undefined) {
    throw usageError('give --stdin or --stdin-file, not both');
  }
  const stdinFile = values['stdin-file'];
  return {
    ...(values.stdin !== undefined ? { stdin: values.stdin } : {}),
    ...(stdinFile !== undefined ? { stdinBytes: await readStdinFile(stdinFile, stdin) } : {}),
    ...(values.env !== undefined ? { env: values.env } : {}),
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values.workdir !== undefined ? { workdir: values.workdir } : {}),
    ...(values.transfer !== undefined ? { transfer: values.transfer } : {}),
  };
}

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
  /** `--stdin-file`'s exact bytes: sent as text when they are UTF-8, else base64 (stdinBase64). */
  readonly stdinBytes?: Buffer;
  /** `--env NAME=VALUE` flags (repeatable). */
  readonly env?: readonly string[];
  readonly user?: string;
  /** The working directory. */
  readonly workdir?: string;
  /** One of TRANSFER_MODES, as typed. */
  readonly transfer?: string;
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
  if (options.stdin !== undefined && options.stdinBytes !== undefined) {
    throw usageError('give --stdin or --stdin-file, not both');
  }
  const { stdinBytes } = options;
  return {
    command: commandText(options.command),
    ...(options.cluster !== undefined ? { cluster: options.cluster } : {}),
    ...(options.task !== undefined ? { task: options.task } : {}),
    ...(options.service !== undefined ? { service: options.service } : {}),
    ...(options.container !== undefined ? { container: options.container } : {}),
    ...(options.raw ? { shell: false } : {}),
    ...(options.tty ? { tty: true } : {}),
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    ...(stdinBytes === undefined
      ? {}
      : isUtf8(stdinBytes)
        ? { stdin: stdinBytes.toString('utf8') }
        : { stdinBase64: stdinBytes.toString('base64') }),
    ...(options.env !== undefined ? { environment: parseEnvFlags(options.env) } : {}),
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.workdir !== undefined ? { workingDirectory: options.workdir } : {}),
    ...(options.transfer !== undefined ? { transfer: parseTransfer(options.transfer) } : {}),
    ...(options.timeout !== undefined ? { timeoutSeconds: parseSeconds('--timeout', options.timeout) } : {}),
    ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
    ...(options.detach ? { detach: true } : {}),
    ...(options.pollInterval !== undefined
      ? { pollIntervalSeconds: parseSeconds('--poll-interval', options.pollInterval) }
      : {}),
  };
}

/** `--env NAME=VALUE` flags as the event's environment; the Lambda validates names and values. */
export function parseEnvFlags(flags: readonly string[]): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const flag of flags) {
    const equals = flag.indexOf('=');
    if (equals < 1) throw usageError(`--env must be NAME=VALUE, got a value without "=" or without a name`);
    environment[flag.slice(0, equals)] = flag.slice(equals + 1);
  }
  return environment;
}

export function parseTransfer(value: string): TransferMode {
  const mode = TRANSFER_MODES.find((candidate) => candidate === value);
  if (mode === undefined)
    throw usageError(`--transfer must be one of ${TRANSFER_MODES.join(', ')}, got "${value}"`);
  return mode;
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

/** Reads `--stdin-file`'s exact bytes: a path, or `-` for this process's stdin. */
export async function readStdinFile(
  file: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<Buffer> {
  if (file !== '-') {
    const { readFile } = await import('node:fs/promises');
    try {
      return await readFile(file);
    } catch (err) {
      throw usageError(
        `cannot read --stdin-file ${file}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
