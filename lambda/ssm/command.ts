/**
 * Builds the ExecuteCommand `command` string.
 *
 * In container mode the agent splits the string with google/shlex and execs argv[0] on a pty, with
 * no shell, and never reports the exit status (spec §1, §7.3). In shell mode we therefore run
 *
 *   /bin/sh -c '<wrapper>' ecs-exec-runner '<user command>' ['<working directory>'] ['<user>']
 *
 * where the wrapper (wrapper/script.ts) runs the user command as `sh -c "$1"` (so it is parsed by a
 * real shell exactly as written: quotes, `$`, `#`, newlines, `exit N`), sends its output through a
 * compressor and base64 when the container has them, and prints the exit marker last. Stdin and the
 * environment are never on this command line (CloudTrail records it, `ps` shows it): they are
 * `input`, sent on the data channel once the wrapper says it is ready. Every word is quoted for
 * shlex by `quoteShlexWord`, so the agent hands each one to exec unchanged.
 */
import { randomBytes } from 'node:crypto';
import { assertMarkerNonce } from './exit-marker';
import { DEFAULT_TRANSFER, isTransferRequest, type TransferRequest } from './transfer/modes';
import type { TerminalSize } from './types';
import { type Environment, environmentScript, stdinBytes } from './wrapper/input';
import { wrapperScript } from './wrapper/script';

export interface BuildCommandOptions {
  /** Wrap in `sh -c` with an exit marker (true) or send the command as it is (false, "raw"). */
  readonly shell: boolean;
  /**
   * Shell mode only. true: the command writes to the pty, so it sees a terminal (`[ -t 1 ]`).
   * false: its stdout and stderr go through a pipe (`| cat`), so programs behave as in a script
   * (no colours, no progress bars); needs `cat` in the container.
   */
  readonly tty: boolean;
  /** Shell mode only: given to the command as stdin, byte for byte, followed by EOF (sent as `input`). */
  readonly stdin?: string | Buffer;
  /** Shell mode only: exported to the command (sent as `input`, never on the command line). */
  readonly environment?: Environment;
  /** Shell mode only: run the command as this user (name or uid); the container must run as root. */
  readonly user?: string;
  /** Shell mode only: run the command in this directory. */
  readonly workingDirectory?: string;
  /** Shell mode without tty: how output travels. @default 'auto' */
  readonly transfer?: TransferRequest;
  /** Shell mode with tty only: set with `stty` before the command runs. @default DEFAULT_TERMINAL_SIZE */
  readonly terminalSize?: TerminalSize;
  /** The marker nonce. @default newMarkerNonce() */
  readonly nonce?: string;
  /** The shell that runs the wrapper and the command. @default '/bin/sh' */
  readonly shellPath?: string;
}

export interface PreparedCommand {
  /** What goes to ecs:ExecuteCommand. */
  readonly command: string;
  /** The nonce to give OutputAssembler; null in raw mode. */
  readonly marker: string | null;
  /**
   * Bytes to send on the data channel once the wrapper's header says the pty is raw: the
   * environment script, then stdin. Null when there is nothing to send (and in raw mode).
   */
  readonly input: Buffer | null;
}

/** The agent creates the pty at 0×0 (spec §6.1); without a size programs wrap or truncate at 80. */
export const DEFAULT_TERMINAL_SIZE: TerminalSize = { cols: 200, rows: 50 };
export const DEFAULT_SHELL_PATH = '/bin/sh';
/** The wrapper's `$0`: its own error messages (if any) are prefixed with it. */
export const WRAPPER_NAME = 'ecs-exec-runner';
/** The agent truncates sizes to uint16 (spec §6.1). */
const MAX_TERMINAL_DIMENSION = 0xffff;
/** Linux refuses a single argv string longer than MAX_ARG_STRLEN (32 pages = 128 KiB, NUL included). */
export const MAX_ARGUMENT_BYTES = 128 * 1024 - 1;
const NONCE_BYTES = 16;
/** User names as useradd and busybox adduser accept them, or a numeric uid. */
const USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$/;
const MAX_PATH_BYTES = 4096;
/** Words shlex and sh both take literally without quoting; anything else is single-quoted. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** Matches an unpaired surrogate: with the u flag a valid pair is one code point and never matches. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Quotes `word` so that shlexSplit (and google/shlex in the agent) returns exactly `word`.
 * Single quotes keep everything literal in shlex, so only `'` needs care: it is closed, escaped
 * and reopened (`'\''`). The result never starts with an unquoted `#`, which would open a comment.
 * @throws RangeError if `word` contains NUL, which no exec argument can carry.
 */
export function quoteShlexWord(word: string): string {
  const nulAt = word.indexOf('\0');
  if (nulAt !== -1) {
    throw new RangeError(`cannot quote a word containing a NUL character (at index ${nulAt})`);
  }
  if (PLAIN_WORD.test(word)) {
    return word;
  }
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** 128 random bits as 32 hex digits. */
export function newMarkerNonce(): string {
  return randomBytes(NONCE_BYTES).toString('hex');
}

export function buildCommand(userCommand: string, options: BuildCommandOptions): PreparedCommand {
  assertWellFormed('command', userCommand);
  if (!options.shell) {
    for (const field of ['stdin', 'environment', 'user', 'workingDirectory'] as const) {
      if (options[field] !== undefined) {
        throw new RangeError(`${field} needs shell mode: in raw mode the command only has the pty`);
      }
    }
    // The agent would fail to start an empty argv; fail here, with a clearer message, instead.
    if (splitsToNothing(userCommand)) {
      throw new RangeError('command has no words to execute');
    }
    return { command: userCommand, marker: null, input: null };
  }
  if (/^\s*$/.test(userCommand)) {
    throw new RangeError('command is empty');
  }
  const nonce = options.nonce ?? newMarkerNonce();
  assertMarkerNonce(nonce);
  const transfer = options.transfer ?? DEFAULT_TRANSFER;
  if (!isTransferRequest(transfer))
    throw new RangeError(`transfer must be one of auto, zstd, xz, gzip, plain`);
  const shellPath = options.shellPath ?? DEFAULT_SHELL_PATH;
  const terminalSize = options.terminalSize ?? DEFAULT_TERMINAL_SIZE;
  assertTerminalDimension('cols', terminalSize.cols);
  assertTerminalDimension('rows', terminalSize.rows);
  const environment =
    options.environment !== undefined && Object.keys(options.environment).length > 0
      ? environmentScript(options.environment)
      : null;
  // Empty stdin is just EOF, which /dev/null gives without the raw-mode round.
  const stdinInput = options.stdin !== undefined ? stdinBytes(options.stdin) : null;
  const stdin = stdinInput !== null && stdinInput.length > 0 ? stdinInput : null;
  const extra: Array<[name: string, word: string]> = [];
  const parameter = (name: string, word: string): string => {
    extra.push([name, word]);
    return `$${extra.length + 1}`;
  };
  const workingDirectoryParameter =
    options.workingDirectory === undefined
      ? null
      : parameter('workingDirectory', checkedWorkingDirectory(options.workingDirectory));
  const userParameter = options.user === undefined ? null : parameter('user', checkedUser(options.user));
  const script = wrapperScript({
    nonce,
    shell: quoteShellWord(shellPath),
    tty: options.tty,
    terminalSize,
    transfer,
    environmentBytes: environment?.length ?? 0,
    stdinBytes: stdin?.length ?? null,
    workingDirectoryParameter,
    userParameter,
  });
  const words: Array<[name: string, word: string]> = [
    ['shellPath', shellPath],
    ['-c', '-c'],
    ['wrapper script', script],
    ['$0', WRAPPER_NAME],
    ['command', userCommand],
    ...extra,
  ];
  for (const [name, word] of words) {
    assertArgument(name, word);
  }
  const inputParts = [environment, stdin].filter((part): part is Buffer => part !== null);
  return {
    command: words.map(([, word]) => quoteShlexWord(word)).join(' '),
    marker: nonce,
    input: inputParts.length > 0 ? Buffer.concat(inputParts) : null,
  };
}

function checkedUser(user: string): string {
  if (!USER_PATTERN.test(user)) {
    throw new RangeError(
      `user must be a user name or uid ([A-Za-z0-9_][A-Za-z0-9._-], at most 32 characters), got ${JSON.stringify(user)}`,
    );
  }
  return user;
}

function checkedWorkingDirectory(directory: string): string {
  if (directory === '') throw new RangeError('workingDirectory must not be empty');
  assertWellFormed('workingDirectory', directory);
  if (Buffer.byteLength(directory, 'utf8') > MAX_PATH_BYTES) {
    throw new RangeError(`workingDirectory must be at most ${MAX_PATH_BYTES} bytes`);
  }
  return directory;
}

/** Quotes for sh (not shlex): a plain word as it is, anything else in single quotes. */
export function quoteShellWord(word: string): string {
  return PLAIN_WORD.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

/** Whether shlex finds no word in `command`: it holds only whitespace and comments (a quote always makes a word). */
function splitsToNothing(command: string): boolean {
  let inComment = false;
  for (const char of command) {
    if (inComment) {
      inComment = char !== '\n';
    } else if (char === '#') {
      // Every character before it was whitespace, so this `#` starts a word: a comment.
      inComment = true;
    } else if (char !== ' ' && char !== '\t' && char !== '\r' && char !== '\n') {
      return false;
    }
  }
  return true;
}

function assertWellFormed(what: string, text: string): void {
  const match = LONE_SURROGATE.exec(text);
  if (match !== null) {
    throw new RangeError(
      `${what} has an unpaired UTF-16 surrogate at index ${match.index}; it cannot be sent intact`,
    );
  }
}

/** Each word becomes one exec argument of the wrapper shell. */
function assertArgument(name: string, word: string): void {
  const nulAt = word.indexOf('\0');
  if (nulAt !== -1) {
    throw new RangeError(
      `${name} contains a NUL character (at index ${nulAt}); no exec argument can hold one`,
    );
  }
  const bytes = Buffer.byteLength(word, 'utf8');
  if (bytes > MAX_ARGUMENT_BYTES) {
    throw new RangeError(
      `${name} is ${bytes} bytes; Linux allows at most ${MAX_ARGUMENT_BYTES} bytes in one exec argument`,
    );
  }
}

function assertTerminalDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > MAX_TERMINAL_DIMENSION) {
    throw new RangeError(
      `terminalSize.${name} must be an integer from 1 to ${MAX_TERMINAL_DIMENSION}, got ${value}`,
    );
  }
}
