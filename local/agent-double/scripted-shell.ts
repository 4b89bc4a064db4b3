/**
 * A cheap container for scale tests: instead of exec-ing argv on a pty, the agent double hands the
 * argv (split from the ExecuteCommand string by the same google/shlex port the real agent uses) to
 * a scripted shell, which answers with canned output. Everything around it stays real: the data
 * channel, the agent's timings, acks and retransmission, the pty's LF → CRLF, channel_closed.
 *
 * The runner's shell mode sends `/bin/sh -c '<wrapper>' ecs-exec-runner '<command>' ['<stdin>']`
 * (lambda/ssm/command.ts). A real sh runs the wrapper, which runs the command and prints the exit
 * marker with this run's nonce last; here the wrapper is recognised by that marker statement, the
 * command is answered by the container's {@link ScriptedCommand}, and the marker is printed the way
 * the wrapper prints it. A plain `sh -c '<command>'` or a raw command gets the answer without a
 * marker, as a real container would print none.
 */
import { EXIT_MARKER_PREFIX } from '../../lambda/ssm/exit-marker';
import type { ScriptStep } from './options';

/** What a scripted container prints for one command, and the status the command exits with. */
export interface ShellAnswer {
  readonly output: string;
  readonly exitCode: number;
  /** How long the command runs before it prints its output and exits. @default 0 */
  readonly durationMs?: number;
}

/** Answers `command` (as `sh -c` would get it) given its stdin, if any. Must be cheap and pure. */
export type ScriptedCommand = (command: string, stdin: string | undefined) => ShellAnswer;

/** The wrapper's marker statement: `printf "\n%s%s:%s\n" <prefix> <nonce> "$rc"`. */
const WRAPPER_MARKER = new RegExp(`printf "\\\\n%s%s:%s\\\\n" ${EXIT_MARKER_PREFIX} ([0-9A-Za-z]+) "\\$rc"`);
/** Shells a container may name as argv[0]. */
const SHELL_PATH = /^(?:\/usr)?(?:\/bin\/)?(?:sh|bash|dash|ash)$/;
const STATUS_MASK = 0xff;

/**
 * The output steps of `argv` run in a container whose commands `answer`. Throws (the agent's
 * "Unable to start command" path) only for an empty argv, as the agent would fail to exec it.
 */
export function scriptedExec(argv: readonly string[], answer: ScriptedCommand): ScriptStep[] {
  const [program, flag, script, , command, stdin] = argv;
  if (program === undefined) throw new Error('runtime error: index out of range [0] with length 0');
  if (!SHELL_PATH.test(program) || flag !== '-c' || script === undefined) {
    return steps(answer(argv.join(' '), undefined));
  }
  const nonce = WRAPPER_MARKER.exec(script)?.[1];
  if (nonce === undefined) return steps(answer(script, undefined));
  const result = answer(command ?? '', stdin);
  // The wrapper's `printf "\n%s%s:%s\n"`, after everything the command printed.
  const status = result.exitCode & STATUS_MASK;
  return [...steps(result), { output: `\n${EXIT_MARKER_PREFIX}${nonce}:${status}\n` }];
}

function steps(answer: ShellAnswer): ScriptStep[] {
  const { durationMs = 0 } = answer;
  return durationMs > 0 ? [{ delayMs: durationMs }, { output: answer.output }] : [{ output: answer.output }];
}

/** `exit N` (alone, or after other text on the last line) sets the status, as in sh. */
const EXIT_STATEMENT = /(?:^|[;\n&|]\s*)exit\s+(\d{1,3})\s*$/;
const ECHO_STATEMENT = /^echo(?:\s+(.*))?$/;

/**
 * A minimal container shell for a fleet of scripted tasks: `hostname` prints `hostname`, `echo …`
 * prints its words, `true`/`false`, and a trailing `exit N` sets the status. Anything else is
 * answered as dash answers a command it cannot find (status 127), so a scale test never mistakes a
 * scripted answer for the real thing.
 */
export function fleetShell(hostname: string): ScriptedCommand {
  return (command) => {
    const exit = EXIT_STATEMENT.exec(command);
    const body = (exit === null ? command : command.slice(0, exit.index)).trim();
    const exitCode = exit === null ? undefined : Number(exit[1]);
    const answer = answerSimple(body, hostname);
    return { output: answer.output, exitCode: exitCode ?? answer.exitCode };
  };
}

function answerSimple(command: string, hostname: string): ShellAnswer {
  if (command === '' || command === 'true') return { output: '', exitCode: 0 };
  if (command === 'false') return { output: '', exitCode: 1 };
  if (command === 'hostname') return { output: `${hostname}\n`, exitCode: 0 };
  const echo = ECHO_STATEMENT.exec(command);
  if (echo !== null) return { output: `${(echo[1] ?? '').replace(/^(['"])(.*)\1$/, '$2')}\n`, exitCode: 0 };
  const name = command.split(/\s+/)[0] ?? command;
  return { output: `sh: 1: ${name}: not found\n`, exitCode: 127 };
}
