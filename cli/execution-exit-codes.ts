import { ExitCode } from './exit-codes';

/**
 * Exit codes of `ecs-exec` and `npm start` for outcomes that are not one of the Lambda's errors
 * (those are in ./exit-codes.ts, which also gives the command's own code through NonZeroExit).
 * Chosen outside sysexits.h (64–78), the shell's 126/127 and the signal range, so each one means
 * exactly one thing.
 */
export const RunExitCode = {
  /** Bad arguments, an unknown stack or state machine, a busy `--port`: fix the invocation. */
  Usage: ExitCode.InvalidInput,
  /** The execution hit the state machine's own timeout (status TIMED_OUT). */
  ExecutionTimedOut: 80,
  /** Someone stopped the execution (status ABORTED). */
  ExecutionAborted: 81,
  /** `--poll-max-seconds` passed and the execution still runs; it goes on. */
  StillRunning: 82,
  /** `--fan-out`: at least one task failed (the others ran; each block shows its own code). */
  TasksFailed: 83,
  /** Ctrl-C (128 + SIGINT). */
  Interrupted: 130,
  /** SIGTERM (128 + SIGTERM). */
  Terminated: 143,
} as const;

/** An error that ends the CLI with `exitCode` and a one-line `message` on stderr. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, RunExitCode.Usage);
