/** Help texts of `ecs-exec` (and the exit-code table `npm start --help` shares). */
import { ExecErrorName } from '../lambda/contract';
import { RunExitCode } from './execution-exit-codes';
import { ExitCode } from './exit-codes';
import { DEFAULT_STACK_NAME, FAN_OUT_OUTPUT_KEY, RUN_COMMAND_OUTPUT_KEY } from './stack-names';

/** The exit codes, built from the constants so the help cannot drift from them. */
export function exitCodeHelp(
  extra: ReadonlyArray<readonly [number, string]> = [],
  jsonFlag = '--json',
): string {
  const codes: Array<readonly [number, string]> = [
    [
      ExitCode.InvalidInput,
      `${ExecErrorName.InvalidInput}, or a usage error (bad option, unknown stack, busy port)`,
    ],
    [ExitCode.TargetNotFound, ExecErrorName.TargetNotFound],
    [ExitCode.SessionFailed, ExecErrorName.SessionFailed],
    [ExitCode.Unexpected, 'any other error (AWS, Lambda, Step Functions, this tool)'],
    [ExitCode.JobLost, ExecErrorName.JobLost],
    [ExitCode.AgentNotReady, ExecErrorName.AgentNotReady],
    [ExitCode.ExecuteCommandDenied, ExecErrorName.ExecuteCommandDenied],
    [ExitCode.CommandTimedOut, ExecErrorName.CommandTimedOut],
    ...extra,
    [RunExitCode.Interrupted, 'interrupted (Ctrl-C)'],
    [RunExitCode.Terminated, 'terminated (SIGTERM)'],
  ];
  const rows: Array<readonly [number | string, string]> = [
    ['0', 'the command succeeded (or ran with --raw, which has no exit code)'],
    ['1-255', `the command's own exit code (${ExecErrorName.NonZeroExit})`],
    ...codes.sort(([a], [b]) => a - b),
  ];
  const lines = rows.map(([code, meaning]) => `  ${String(code).padEnd(6)} ${meaning}`);
  return `Exit codes (a command may itself exit with one of these numbers; ${jsonFlag} tells them apart):\n${lines.join('\n')}\n`;
}

export const MAIN_USAGE = `Usage: ecs-exec <command> [options]

Commands:
  run [options] -- <command...>   run a command in a running ECS task through the deployed
                                  "run one command" state machine, print its output, exit with its code
                                  (--fan-out: on every task of a service, one block per task)
  history [--region R] <execution-arn>
                                  print an execution's events as a timeline
  cancel [--region R] <execution-arn>
                                  stop a detached job (TERM, then KILL) and its execution
  doctor --cluster C (--task T | --service S) [--probe] [--json]
                                  say why ECS Exec would not work on a target, and how to fix it
  help [run|history|cancel|doctor]
                                  show help

Run "ecs-exec run --help" for the options.
`;

export const RUN_USAGE = `Usage: ecs-exec run [options] -- <command...>

Starts the "run one command" state machine with an exec event, waits for it (a spinner on stderr
when it is a terminal), prints the command's output exactly as the result holds it, and exits
with the command's exit code. One word after "--" is the command string as it is; several words
are joined with spaces (quote the whole command to keep its quoting).

State machine:
  --state-machine ARN      the state machine to start
  --stack NAME             take the ARN from the stack's ${RUN_COMMAND_OUTPUT_KEY} output
                           (default when neither is given: --stack ${DEFAULT_STACK_NAME})
  --region REGION          AWS region (default: the SDK's, e.g. AWS_REGION or the profile's)
Target (defaults: the function's DEFAULT_CLUSTER, DEFAULT_SERVICE, DEFAULT_CONTAINER):
  --cluster NAME|ARN
  --service NAME           a RUNNING task of this service
  --task ID|ARN            this task (not with --service)
  --container NAME
Fan-out:
  --fan-out                run on every RUNNING task of --service through the fan-out state
                           machine (--stack: its ${FAN_OUT_OUTPUT_KEY} output); prints one block
                           per task (task id, its output, its exit code) read from the S3 results,
                           the counts on stderr; exits ${RunExitCode.TasksFailed} if any task failed
  --max-concurrency N      tasks at once (default: the state machine's, see fanOutMaxConcurrency)
Command:
  --timeout SECONDS        the command's timeout, 1-900 (default 300)
  --stdin TEXT             TEXT on the command's stdin, then EOF
  --stdin-file PATH        a file's exact bytes on the command's stdin ("-": this process's stdin;
                           sent as stdinBase64 when they are not UTF-8 text)
  --env NAME=VALUE         export NAME to the command (repeatable); sent like stdin, never on the command line
  --user NAME|UID          run as this user (the container must run as root to switch)
  --workdir PATH           run in this directory
  --transfer MODE          auto (default), zstd, xz, gzip or plain: how output travels without --tty
                           (together these are docker exec -i -e -u -w; --detach is -d)
  --tty                    keep the pseudo-terminal (colours, progress bars)
  --raw                    no shell and no wrapper (shell: false): there is no exit code
  --idempotency-key KEY    a repeat with the same key returns the first result
  --detach                 a detached job: started in the task, polled by the state machine (timeout
                           up to 604800 s); its output is printed as it arrives (needs s3:GetObject
                           on the output bucket); stop it with "ecs-exec cancel <execution>"
  --poll-interval SECONDS  with --detach: seconds between polls, 2-300 (default: 5 growing to 60)
Execution:
  --name NAME              the execution name (default: ecs-exec-<time>-<random>)
  --no-wait                print the execution ARN and exit 0
  --poll-max-seconds N     stop waiting after N seconds (exit ${RunExitCode.StillRunning}; the execution goes on)
Output:
  --json                   print the raw result (or the failure) as JSON on stdout
  --history                print the execution's timeline on stderr at the end
  -h, --help

${exitCodeHelp([
  [RunExitCode.ExecutionTimedOut, 'the execution timed out (TIMED_OUT)'],
  [RunExitCode.ExecutionAborted, 'the execution was stopped (ABORTED)'],
  [RunExitCode.StillRunning, 'still running at --poll-max-seconds'],
  [RunExitCode.TasksFailed, '--fan-out: at least one task failed'],
])}`;

export const HISTORY_USAGE = `Usage: ecs-exec history [--region REGION] <execution-arn>

Prints the execution's events (GetExecutionHistory) as a timeline, e.g.
  +0.000s  ExecutionStarted
  +1.204s  TaskSucceeded RunCommand
`;

export const CANCEL_USAGE = `Usage: ecs-exec cancel [--region REGION] <execution-arn>

Stops a detached job started with "ecs-exec run --detach" (or an event with "detach": true): stops
the execution, then starts a cancel execution of the same state machine that sends TERM to the
job's process group (KILL after a grace period), collects its remaining output and fails with
${ExecErrorName.CommandTimedOut}; waits for it and exits ${ExitCode.CommandTimedOut}, like a timeout.
`;
