/**
 * `ecs-exec`: the command-line client for a deployed stack (bin/ecs-exec.js loads this file
 * through tsx). `main()` does the work and returns the exit code; `runCli()` wires it to the process.
 */
import { parseArgs } from 'node:util';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { parsedArgs } from './args';
import { cancelDetached } from './cancel';
import {
  type ClientOptions,
  createCloudFormationClient,
  createS3Client,
  createSfnClient,
  s3TextReader,
} from './clients';
import { DOCTOR_USAGE, doctorSubcommand } from './doctor';
import { EXEC_FLAG_OPTIONS, execFlagOptions } from './event';
import { CliError, RunExitCode, usageError } from './execution-exit-codes';
import { ExitCode } from './exit-codes';
import { fetchHistory, formatTimeline } from './history';
import { quietSdkNodeVersionWarning } from './node-warnings';
import { type CliIo, type RunOptions, runCommand, waitForExecution } from './run';
import { CANCEL_USAGE, HISTORY_USAGE, MAIN_USAGE, RUN_USAGE } from './usage';

export interface MainDeps {
  readonly io: CliIo;
  readonly stdin?: NodeJS.ReadableStream;
  /** Aborted on Ctrl-C / SIGTERM (reason: the signal name). */
  readonly signal?: AbortSignal;
  /** Client factories (tests pass their own); the defaults have the CLI's timeouts and retries. */
  readonly sfn?: (options: ClientOptions) => SFNClient;
  readonly cloudFormation?: (options: ClientOptions) => CloudFormationClient;
  readonly s3?: (options: ClientOptions) => S3Client;
  /** For tests: the waits between DescribeExecution calls. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const RUN_OPTIONS = {
  'state-machine': { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  cluster: { type: 'string' },
  service: { type: 'string' },
  task: { type: 'string' },
  container: { type: 'string' },
  timeout: { type: 'string' },
  ...EXEC_FLAG_OPTIONS,
  tty: { type: 'boolean' },
  raw: { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  detach: { type: 'boolean' },
  'poll-interval': { type: 'string' },
  name: { type: 'string' },
  'no-wait': { type: 'boolean' },
  'poll-max-seconds': { type: 'string' },
  json: { type: 'boolean' },
  history: { type: 'boolean' },
  'fan-out': { type: 'boolean' },
  'max-concurrency': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HISTORY_OPTIONS = {
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function positiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0)
    throw usageError(`${flag} must be a positive number, got "${value}"`);
  return number;
}

async function runSubcommand(args: readonly string[], deps: MainDeps): Promise<number> {
  const { values, positionals } = parsedArgs(() =>
    parseArgs({ args: [...args], options: RUN_OPTIONS, allowPositionals: true, strict: true }),
  );
  if (values.help) {
    deps.io.stdout.write(RUN_USAGE);
    return ExitCode.Success;
  }
  const execFlags = await execFlagOptions(values, deps.stdin);
  const pollMaxSeconds = positiveNumber('--poll-max-seconds', values['poll-max-seconds']);
  const options: RunOptions = {
    command: positionals,
    ...(values['state-machine'] !== undefined ? { stateMachine: values['state-machine'] } : {}),
    ...(values.stack !== undefined ? { stack: values.stack } : {}),
    ...(values.cluster !== undefined ? { cluster: values.cluster } : {}),
    ...(values.service !== undefined ? { service: values.service } : {}),
    ...(values.task !== undefined ? { task: values.task } : {}),
    ...(values.container !== undefined ? { container: values.container } : {}),
    ...(values.timeout !== undefined ? { timeout: values.timeout } : {}),
    ...execFlags,
    ...(values.tty ? { tty: true } : {}),
    ...(values.raw ? { raw: true } : {}),
    ...(values['idempotency-key'] !== undefined ? { idempotencyKey: values['idempotency-key'] } : {}),
    ...(values.detach ? { detach: true } : {}),
    ...(values['poll-interval'] !== undefined ? { pollInterval: values['poll-interval'] } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    wait: !values['no-wait'],
    history: values.history === true,
    json: values.json === true,
    ...(pollMaxSeconds !== undefined ? { pollMaxSeconds } : {}),
    ...(values['fan-out'] ? { fanOut: true } : {}),
    ...(values['max-concurrency'] !== undefined ? { maxConcurrency: values['max-concurrency'] } : {}),
  };
  const clientOptions: ClientOptions = values.region !== undefined ? { region: values.region } : {};
  const sfn = (deps.sfn ?? createSfnClient)(clientOptions);
  let cloudFormation: CloudFormationClient | undefined;
  let s3: S3Client | undefined;
  try {
    return await runCommand(options, {
      sfn,
      s3: () => {
        s3 ??= (deps.s3 ?? createS3Client)(clientOptions);
        return s3;
      },
      cloudFormation: () => {
        cloudFormation ??= (deps.cloudFormation ?? createCloudFormationClient)(clientOptions);
        return cloudFormation;
      },
      readObject: () => {
        s3 ??= (deps.s3 ?? createS3Client)(clientOptions);
        return s3TextReader(s3);
      },
      io: deps.io,
      ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
      ...(deps.sleep !== undefined ? { sleep: deps.sleep } : {}),
    });
  } finally {
    sfn.destroy();
    cloudFormation?.destroy();
    s3?.destroy();
  }
}

async function cancelSubcommand(args: readonly string[], deps: MainDeps): Promise<number> {
  const { values, positionals } = parsedArgs(() =>
    parseArgs({ args: [...args], options: HISTORY_OPTIONS, allowPositionals: true, strict: true }),
  );
  if (values.help) {
    deps.io.stdout.write(CANCEL_USAGE);
    return ExitCode.Success;
  }
  const [executionArn, ...extra] = positionals;
  if (executionArn === undefined || extra.length > 0) throw usageError('give one execution ARN');
  const clientOptions: ClientOptions = values.region !== undefined ? { region: values.region } : {};
  const sfn = (deps.sfn ?? createSfnClient)(clientOptions);
  try {
    const { cancelExecutionArn, jobId } = await cancelDetached(sfn, executionArn);
    deps.io.stderr.write(`stopped ${executionArn}; cancelling job ${jobId} in ${cancelExecutionArn}\n`);
    return await waitForExecution(cancelExecutionArn, {
      sfn,
      cloudFormation: () => {
        throw usageError('no stack is needed to cancel');
      },
      io: deps.io,
      ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
      ...(deps.sleep !== undefined ? { sleep: deps.sleep } : {}),
    });
  } finally {
    sfn.destroy();
  }
}

async function historySubcommand(args: readonly string[], deps: MainDeps): Promise<number> {
  const { values, positionals } = parsedArgs(() =>
    parseArgs({ args: [...args], options: HISTORY_OPTIONS, allowPositionals: true, strict: true }),
  );
  if (values.help) {
    deps.io.stdout.write(HISTORY_USAGE);
    return ExitCode.Success;
  }
  const [executionArn, ...extra] = positionals;
  if (executionArn === undefined || extra.length > 0) throw usageError('give one execution ARN');
  const sfn = (deps.sfn ?? createSfnClient)(values.region !== undefined ? { region: values.region } : {});
  try {
    deps.io.stdout.write(formatTimeline(await fetchHistory(sfn, executionArn)));
    return ExitCode.Success;
  } finally {
    sfn.destroy();
  }
}

/** Runs `ecs-exec <argv>`; returns the exit code. Errors end up on stderr as one readable line. */
export async function main(argv: readonly string[], deps: MainDeps): Promise<number> {
  const [subcommand, ...rest] = argv;
  try {
    switch (subcommand) {
      case 'run':
        return await runSubcommand(rest, deps);
      case 'history':
        return await historySubcommand(rest, deps);
      case 'cancel':
        return await cancelSubcommand(rest, deps);
      case 'doctor':
        return await doctorSubcommand(rest, deps.io);
      case 'help':
      case '--help':
      case '-h':
        deps.io.stdout.write(
          rest[0] === 'run'
            ? RUN_USAGE
            : rest[0] === 'history'
              ? HISTORY_USAGE
              : rest[0] === 'cancel'
                ? CANCEL_USAGE
                : rest[0] === 'doctor'
                  ? DOCTOR_USAGE
                  : MAIN_USAGE,
        );
        return ExitCode.Success;
      default:
        deps.io.stderr.write(
          subcommand === undefined ? MAIN_USAGE : `ecs-exec: unknown command "${subcommand}"\n${MAIN_USAGE}`,
        );
        return RunExitCode.Usage;
    }
  } catch (err) {
    if (err instanceof CliError) {
      deps.io.stderr.write(`ecs-exec: ${err.message}\n`);
      return err.exitCode;
    }
    // AWS errors (access denied, no credentials, throttled after retries…): name and message.
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    deps.io.stderr.write(`ecs-exec: ${text}\n`);
    return ExitCode.Unexpected;
  }
}

/** The process entry point: signals, exit code, stdout flushed before exit. */
export function runCli(argv: readonly string[] = process.argv.slice(2)): void {
  quietSdkNodeVersionWarning();
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    const code = signal === 'SIGTERM' ? RunExitCode.Terminated : RunExitCode.Interrupted;
    // A second Ctrl-C means "now", whatever is in flight.
    if (signals > 1) process.exit(code);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `ecs-exec run … | head` closes stdout early: not an error of the run.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.Success);
  });
  main(argv, {
    io: { stdout: process.stdout, stderr: process.stderr },
    stdin: process.stdin,
    signal: controller.signal,
  }).then(
    (code) => {
      // Exit once stdout has taken everything: a large output into a pipe is not cut short.
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`ecs-exec: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(ExitCode.Unexpected);
    },
  );
}
