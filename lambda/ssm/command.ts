/**
 * Builds the ExecuteCommand `command` string.
 *
 * In container mode the agent splits the string with google/shlex and execs argv[0] on a pty, with
 * no shell, and never reports the exit status (spec §1, §7.3). In shell mode we therefore run
 *
 *   /bin/sh -c '<wrapper>' ecs-exec-runner '<user command>' ['<stdin>']
 *
 * where the wrapper runs the user command as `sh -c "$1"` (so it is parsed by a real shell exactly
 * as written: quotes, `$`, `#`, newlines, `exit N`), feeds it `$2` as stdin or `/dev/null`, and
 * then prints the exit marker (exit-marker.ts) as the last line. Every word is quoted for shlex by
 * `quoteShlexWord`, so the agent hands each one to exec unchanged.
 */
import { randomBytes } from 'node:crypto';
import { assertMarkerNonce, EXIT_MARKER_PREFIX } from './exit-marker';
import type { TerminalSize } from './types';

export interface BuildCommandOptions {
  /** Wrap in `sh -c` with an exit marker (true) or send the command as it is (false, "raw"). */
  readonly shell: boolean;
  /**
   * Shell mode only. true: the command writes to the pty, so it sees a terminal (`[ -t 1 ]`).
   * false: its stdout and stderr go through a pipe (`| cat`), so programs behave as in a script
   * (no colours, no progress bars); needs `cat` in the container.
   */
  readonly tty: boolean;
  /** Shell mode only: given to the command as stdin, byte for byte, followed by EOF. No NUL. */
  readonly stdin?: string;
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
    if (options.stdin !== undefined) {
      throw new RangeError(
        'stdin needs shell mode: in raw mode the command only has the pty, which echoes input',
      );
    }
    // The agent would fail to start an empty argv; fail here, with a clearer message, instead.
    if (splitsToNothing(userCommand)) {
      throw new RangeError('command has no words to execute');
    }
    return { command: userCommand, marker: null };
  }
  if (/^\s*$/.test(userCommand)) {
    throw new RangeError('command is empty');
  }
  const nonce = options.nonce ?? newMarkerNonce();
  assertMarkerNonce(nonce);
  const shellPath = options.shellPath ?? DEFAULT_SHELL_PATH;
  const words: Array<[name: string, word: string]> = [
    ['shellPath', shellPath],
    ['-c', '-c'],
    ['wrapper script', wrapperScript(nonce, options, shellPath)],
    ['$0', WRAPPER_NAME],
    ['command', userCommand],
  ];
  if (options.stdin !== undefined) {
    assertWellFormed('stdin', options.stdin);
    words.push(['stdin', options.stdin]);
  }
  for (const [name, word] of words) {
    assertArgument(name, word);
  }
  return { command: words.map(([, word]) => quoteShlexWord(word)).join(' '), marker: nonce };
}

/**
 * The wrapper. `$1` is the user command, `$2` (if present) its stdin. It only uses POSIX sh
 * (checked with dash, bash and busybox ash) and double quotes, so that quoting it for shlex stays short.
 */
function wrapperScript(nonce: string, options: BuildCommandOptions, shellPath: string): string {
  const shell = quoteShellWord(shellPath);
  // tty: the command's stderr is the wrapper's (the pty), kept as fd 5 while the shell that waits
  // for the command has its own fd 2 on /dev/null. no tty: stderr joins stdout in the pipe to cat.
  // The waiting shell must not see the real stderr: when a child dies of a signal, shells print
  // "Killed" (bash: a line quoting the wrapper) there, which is not the command's output. The
  // redirection has to be a permanent `exec 2>/dev/null` in a subshell of its own (dash prints
  // such reports on the stderr of the command as redirected, not on an enclosing group's), and the
  // command runs as `( exec … )` so that its redirections happen after the fork.
  const commandStderr = options.tty ? '2>&5 5>&-' : '2>&1 3>&- 4>&-';
  const command = `( exec ${shell} -c "$1" ${commandStderr} )`;
  // `printf %s` writes $2 exactly (no escapes, no added newline) into a pipe, never into the pty,
  // so nothing is echoed and the command sees EOF after it. Without stdin the command gets
  // /dev/null: the pty never sends EOF, so anything reading stdin would wait until the deadline.
  // (printf may fail with EPIPE if the command exits without reading; its stderr is /dev/null.)
  const run = options.stdin === undefined ? `${command} </dev/null` : `printf "%s" "$2" | ${command}`;
  // The prefix and the nonce are separate arguments so that the wrapper's own command line (which
  // `ps` inside the container shows) never contains the marker text. An empty or odd $rc (the
  // wrapper was killed half-way) prints no marker at all rather than a broken one.
  const marker = `case $rc in ''|*[!0-9]*) ;; *) printf "\\n%s%s:%s\\n" ${EXIT_MARKER_PREFIX} ${nonce} "$rc";; esac`;
  if (options.tty) {
    const { cols, rows } = options.terminalSize ?? DEFAULT_TERMINAL_SIZE;
    assertTerminalDimension('cols', cols);
    assertTerminalDimension('rows', rows);
    // stty works on its stdin, the pty; 2>/dev/null because minimal images may lack stty.
    // `exit $?` keeps the subshell from exec-ing its last command in place (dash, busybox), which
    // would make the wrapper itself the waiting shell.
    return `stty cols ${cols} rows ${rows} 2>/dev/null; ( exec 2>/dev/null; ${run}; exit $? ) 5>&2; rc=$?; ${marker}`;
  }
  // POSIX sh has no pipefail, so the status of the command (left of `| cat`) travels back on fd 3
  // into $rc, while its output goes through cat to the original stdout, kept as fd 4. The command
  // itself gets neither fd. cat is waited for, so all output precedes the marker.
  // The left side of `|` is a subshell in every shell, so its `exec 2>/dev/null` stays there.
  return `exec 4>&1; rc=$( { { exec 2>/dev/null; ${run}; echo "$?" >&3; } | cat >&4; } 3>&1 ); ${marker}`;
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
