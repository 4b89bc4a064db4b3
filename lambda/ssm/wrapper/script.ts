/**
 * The shell wrapper: the script `/bin/sh -c` runs in the container around the user's command.
 * POSIX sh only (checked with dash, bash and busybox ash), double quotes only, so that quoting it
 * for shlex stays short. In order, it
 *
 *  1. enters the working directory and finds a way to switch user, if asked (setup);
 *  2. picks the transfer path: probes for zstd, xz, gzip and base64 (`command -v`, no round trip);
 *  3. sets the pty up: silent (no echo, so a Ctrl-C leaves no `^C` in the output) and without
 *     output processing (no CR added before LF); raw too while stdin/environment are read;
 *  4. prints the header (header.ts): the chosen transfer, or the setup failure, and "ready";
 *  5. reads the environment script and stdin from the pty, by exact byte counts;
 *  6. runs the command as `sh -c "$1"` with stdout+stderr into `<compressor> | base64` (or `cat`);
 *  7. prints the exit marker (exit-marker.ts) with the command's status, carried on fd 3 because
 *     POSIX sh has no pipefail.
 *
 * On Ctrl-C (the client's timeout) only the command dies: the wrapper traps SIGINT and the output
 * side ignores it, so the compressor reads to EOF and flushes what it holds.
 *
 * Without a tty, a background process the command started would keep the output pipe open, and
 * the output side would wait for it. So when the command has exited, the wrapper sends SIGHUP to
 * its process group, as the pty's hangup does at the end of a session, while ignoring it itself
 * (the command gets the default disposition back): the background processes end, the pipe
 * closes, and what they had written is still drained first. The group is `-$$`, which exists
 * only when the wrapper leads it (the agent starts it as a session leader on the pty); started
 * any other way, it signals nobody rather than a stranger's group.
 */
import { EXIT_MARKER_PREFIX } from '../exit-marker';
import { HEADER_PREFIX, SETUP_FAILURE_MARK, type SetupFailure } from '../transfer/header';
import { COMPRESS_COMMANDS, COMPRESSORS, type Compressor, type TransferRequest } from '../transfer/modes';
import type { TerminalSize } from '../types';

export interface WrapperPlan {
  readonly nonce: string;
  /** Quoted for sh already. */
  readonly shell: string;
  readonly tty: boolean;
  readonly terminalSize: TerminalSize;
  readonly transfer: TransferRequest;
  /** Bytes of environment script the wrapper reads from the pty (0: none). */
  readonly environmentBytes: number;
  /** Bytes of stdin the wrapper reads from the pty (null: the command gets /dev/null). */
  readonly stdinBytes: number | null;
  /** Positional parameter holding the working directory, e.g. `$2`; null: stay where the agent started. */
  readonly workingDirectoryParameter: string | null;
  /** Positional parameter holding the user name; null: run as the container's user. */
  readonly userParameter: string | null;
}

export function wrapperScript(plan: WrapperPlan): string {
  const needsInput = plan.environmentBytes > 0 || plan.stdinBytes !== null;
  const transfer: TransferRequest = plan.tty ? 'plain' : plan.transfer;
  const lines = [
    plan.tty ? 'trap : INT' : "trap : INT; trap '' HUP",
    `h() { printf "%s%s:%s\\n" ${HEADER_PREFIX} ${plan.nonce} "$1"; }`,
    `f() { h "${SETUP_FAILURE_MARK}$1"; exit 0; }`,
    ...setupLines(plan),
    transferSelection(transfer),
    ...terminalLines(plan, needsInput),
    'h "$T"',
    ...(plan.environmentBytes > 0 ? [`E=$(head -c ${plan.environmentBytes} 2>/dev/null)`] : []),
    ...(needsInput && plan.stdinBytes === null ? [restoreTerminal(plan.tty)] : []),
    plan.tty ? ttyRun(plan) : pipedRun(plan, transfer),
    `case $rc in ''|*[!0-9]*) ;; *) printf "\\n%s%s:%s\\n" ${EXIT_MARKER_PREFIX} ${plan.nonce} "$rc";; esac`,
  ];
  return lines.join('\n');
}

function fail(failure: SetupFailure): string {
  return `f ${failure}`;
}

function setupLines(plan: WrapperPlan): string[] {
  const lines: string[] = [];
  if (plan.workingDirectoryParameter !== null) {
    lines.push(`cd -- "${plan.workingDirectoryParameter}" 2>/dev/null || ${fail('workdir')}`);
  }
  const user = plan.userParameter;
  if (user !== null) {
    // setpriv needs numeric ids; `id` also proves the user exists before anything runs.
    lines.push(
      `command -v id >/dev/null 2>&1 || ${fail('switch')}`,
      `U=$(id -u -- "${user}" 2>/dev/null) || ${fail('user')}`,
      `G=$(id -g -- "${user}" 2>/dev/null) || ${fail('user')}`,
      // Already that user: nothing to switch (and setpriv --init-groups would need root).
      `if [ "$(id -u)" = "$U" ]; then W=same; elif [ "$(id -u)" != 0 ]; then ${fail('not-root')}; elif P=$(command -v setpriv 2>/dev/null); then W=setpriv; elif P=$(command -v runuser 2>/dev/null); then W=runuser; elif P=$(command -v su 2>/dev/null); then W=su; else ${fail('switch')}; fi`,
    );
  }
  return lines;
}

function transferSelection(transfer: TransferRequest): string {
  const has = (tool: string): string => `command -v ${tool} >/dev/null 2>&1`;
  if (transfer === 'plain') return 'T=plain';
  if (transfer === 'auto') {
    return `T=plain; if ${has('base64')}; then for z in ${COMPRESSORS.join(' ')}; do if ${has('"$z"')}; then T=$z; break; fi; done; fi`;
  }
  return `${has('base64')} || ${fail('base64')}; ${has(transfer)} || ${fail(transfer)}; T=${transfer}`;
}

function terminalLines(plan: WrapperPlan, needsInput: boolean): string[] {
  const lines: string[] = [];
  if (plan.tty) {
    // stty works on its stdin, the pty; 2>/dev/null because minimal images may lack stty.
    lines.push(`stty cols ${plan.terminalSize.cols} rows ${plan.terminalSize.rows} 2>/dev/null`);
  } else {
    // No echo: a Ctrl-C would otherwise print `^C`. No output processing: no CR before each LF.
    lines.push('stty -echo -opost 2>/dev/null');
  }
  if (needsInput) {
    // Raw: every byte reaches `head` as sent (no line editing, no signals, no flow control).
    lines.push(
      `command -v head >/dev/null 2>&1 || ${fail('head')}`,
      `S=$(stty -g 2>/dev/null) && stty raw -echo -iexten 2>/dev/null || ${fail('stty')}`,
    );
  }
  return lines;
}

/**
 * After the input: the tty gets its settings back; without a tty only signals come back (Ctrl-C
 * is how the client stops the command), while echo stays off so nothing lands in the output.
 */
function restoreTerminal(tty: boolean): string {
  return tty ? 'stty "$S" 2>/dev/null' : 'stty isig 2>/dev/null';
}

/** The command's own process: the environment is applied here only, after the user switch is prepared. */
function commandProcess(plan: WrapperPlan, redirections: string): string {
  const steps = [plan.tty ? `exec ${redirections}` : `exec ${redirections}; trap - HUP`];
  const user = plan.userParameter;
  if (user !== null) {
    // The argv is fixed before `eval`, so no variable of the environment can change it.
    steps.push(
      'c=$1',
      `case $W in same) set -- ${plan.shell} -c "$c";; setpriv) set -- "$P" --reuid="$U" --regid="$G" --init-groups ${plan.shell} -c "$c";; runuser) set -- "$P" -u "${user}" -- ${plan.shell} -c "$c";; *) set -- "$P" -m -s ${plan.shell} "${user}" -c "$c";; esac`,
    );
  }
  if (plan.environmentBytes > 0) steps.push('eval "$E"');
  steps.push(user !== null ? 'exec "$@"' : `exec ${plan.shell} -c "$1"`);
  return `( ${steps.join('; ')} )`;
}

/**
 * The command with its stdin: /dev/null (the pty never sends EOF, so anything reading stdin would
 * otherwise wait until the deadline), or exactly N bytes read from the raw pty. If the command
 * exits without reading them all, the rest is drained (with the shell's `read`, binary-safe for
 * discarding) so that no stdin byte is left in the pty to be taken for a signal once `isig` is back.
 */
function withStdin(plan: WrapperPlan, command: string): string {
  if (plan.stdinBytes === null) return `${command} </dev/null`;
  return `{ head -c ${plan.stdinBytes} 2>/dev/null; ${restoreTerminal(plan.tty)}; } | { ${command}; r=$?; while read -r _; do :; done; exit $r; }`;
}

/**
 * tty: the command's stderr is the wrapper's (the pty), kept as fd 5 while the shell that waits
 * for the command has its own fd 2 on /dev/null: when a child dies of a signal, shells print
 * "Killed" there, which is not the command's output. The redirection has to be a permanent
 * `exec 2>/dev/null` in a subshell of its own (dash prints such reports on the stderr of the
 * command as redirected, not on an enclosing group's). `exit $?` keeps the subshell from exec-ing
 * its last command in place (dash, busybox), which would make the wrapper itself the waiting shell.
 */
function ttyRun(plan: WrapperPlan): string {
  const run = withStdin(plan, commandProcess(plan, '2>&5 5>&-'));
  return `( exec 2>/dev/null; ${run}; exit $? ) 5>&2; rc=$?`;
}

/**
 * No tty: stdout and stderr go through a pipe to the output side, kept as fd 4, and the command's
 * status travels back on fd 3 into $rc; background processes left holding the pipe get SIGHUP. The output side ignores SIGINT, so on Ctrl-C it reads the
 * dead command's last bytes and the compressor flushes; it is waited for, so all output precedes
 * the marker. The left side of `|` is a subshell in every shell, so its `exec 2>/dev/null` stays there.
 */
function pipedRun(plan: WrapperPlan, transfer: TransferRequest): string {
  const run = withStdin(plan, commandProcess(plan, '2>&1 3>&- 4>&-'));
  return `exec 4>&1; rc=$( { { exec 2>/dev/null; ${run}; r=$?; kill -HUP -$$ 2>/dev/null; echo "$r" >&3; } | ( ${outputSide(transfer)} ) >&4; } 3>&1 )`;
}

function outputSide(transfer: TransferRequest): string {
  const compress = (compressor: Compressor): string => `${COMPRESS_COMMANDS[compressor]} | base64`;
  if (transfer === 'plain') return "trap '' INT; exec cat";
  if (transfer !== 'auto') return `trap '' INT; ${compress(transfer)}`;
  const branches = COMPRESSORS.map((compressor) => `${compressor}) ${compress(compressor)};;`);
  return `trap '' INT; case $T in ${branches.join(' ')} *) exec cat;; esac`;
}
