import { ExecErrorName } from '../lambda/contract';

/**
 * Exit codes of `npm start` and `ecs-exec run`. When the command ran, the process exits with the
 * command's own exit code (NonZeroExit carries it); otherwise with a code per error name, taken
 * from sysexits.h where one fits. A command may itself exit with one of these numbers: `--json`
 * gives the unambiguous answer.
 */
export const ExitCode = {
  Success: 0,
  [ExecErrorName.InvalidInput]: 64, // EX_USAGE
  [ExecErrorName.TargetNotFound]: 68, // EX_NOHOST
  [ExecErrorName.SessionFailed]: 69, // EX_UNAVAILABLE
  Unexpected: 70, // EX_SOFTWARE: any other error (Lambda, Step Functions, the CLI itself)
  [ExecErrorName.JobLost]: 71, // EX_OSERR: the detached job vanished (task stopped, container restarted)
  [ExecErrorName.AgentNotReady]: 75, // EX_TEMPFAIL
  [ExecErrorName.ExecuteCommandDenied]: 77, // EX_NOPERM
  [ExecErrorName.CommandTimedOut]: 124, // as timeout(1)
} as const;

/** The process exit code for a failure, given its error name and (for NonZeroExit) the command's code. */
export function exitCodeForError(errorName: string, commandExitCode?: number | null): number {
  if (errorName === ExecErrorName.NonZeroExit && typeof commandExitCode === 'number') return commandExitCode;
  const code = (ExitCode as Record<string, number>)[errorName];
  return code ?? ExitCode.Unexpected;
}
