/**
 * A cheap container for scale tests: instead of exec-ing argv on a pty, the agent double hands the
 * argv (split from the ExecuteCommand string by the same google/shlex port the real agent uses) to
 * a scripted shell, which answers with canned output. Everything around it stays real: the data
 * channel, the agent's timings, acks and retransmission, the pty's LF → CRLF, channel_closed.
 *
 * The runner's shell mode sends `/bin/sh -c '<wrapper>' ecs-exec-runner '<command>'`
 * (lambda/ssm/command.ts; stdin and environment travel on the data channel, never here). A real sh
 * runs the wrapper, which prints its header line (the transfer path it chose), runs the command and
 * prints the exit marker with this run's nonce last; here the wrapper is recognised by that marker
 * statement, the header says `plain` (a scripted container has no compressor), the command is
 * answered by the container's {@link ScriptedCommand} with no stdin, and the marker is printed the
 * way the wrapper prints it. A plain `sh -c '<command>'` or a raw command gets the answer without
 * header or marker, as a real container would print neither.
 */
import { EXIT_MARKER_PREFIX } from '../../lambda/ssm/exit-marker';
import { HEADER_PREFIX } from '../../lambda/ssm/transfer/header';
import type { ScriptedCommand, ScriptStep, ShellAnswer } from './options';

export type { ScriptedCommand, ShellAnswer } from './options';

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
  const [program, flag, script, , command] = argv;
  if (program === undefined) throw new Error('runtime error: index out of range [0] with length 0');
  if (!SHELL_PATH.test(program) || flag !== '-c' || script === undefined) {
    return steps(answer(argv.join(' ')));
  }
  const nonce = WRAPPER_MARKER.exec(script)?.[1];
  if (nonce === undefined) return steps(answer(script));
  const result = answer(command ?? '');
  // The wrapper's header first; its `printf "\n%s%s:%s\n"` after everything the command printed.
  const status = result.exitCode & STATUS_MASK;
  return [
    { output: `${HEADER_PREFIX}${nonce}:plain\n` },
    ...steps(result),
    { output: `\n${EXIT_MARKER_PREFIX}${nonce}:${status}\n` },
  ];
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
