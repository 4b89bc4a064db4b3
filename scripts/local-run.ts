/**
 * `npm start -- "<command>"`: runs the real exec Lambda handler end to end on this machine, with no
 * AWS account: a local stand-in for ECS/KMS/SSM, the message gateway and an agent that runs the
 * command here in a pty (local/local-environment.ts). Prints the state result and exits with the
 * command's exit code. `--state-machine` runs the synthesized "run one command" state machine
 * instead, so the workflow's behaviour (retries, Catch into the Fail state) shows before deploying;
 * `--fan-out` runs the synthesized fan-out state machine on every task of a service and prints one
 * block per task.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { parsedArgs } from '../cli/args';
import {
  buildExecEvent,
  buildFanOutInput,
  type EventOptions,
  EXEC_FLAG_OPTIONS,
  execFlagOptions,
} from '../cli/event';
import { CliError, RunExitCode, usageError } from '../cli/execution-exit-codes';
import { ExitCode } from '../cli/exit-codes';
import { describeFailure, type FailureReport, formatFailure, lambdaErrorCause } from '../cli/failure';
import { isTasksFailed, parseFanOutSummary, printFanOutResults } from '../cli/fan-out';
import { quietSdkNodeVersionWarning } from '../cli/node-warnings';
import { exitCodeHelp } from '../cli/usage';
import type { ExecEvent } from '../lambda/contract';
import { METRICS_TO_STDERR_ENV } from '../lambda/metrics';
import { alertPreview } from '../local/alert-preview';
import { DEFAULT_WORLD_IDS, FLEET_TASK_COUNT } from '../local/fake-aws/world';
import type { LocalEnvironment } from '../local/local-environment';

/** Tests only: the agent double's fast timings (first read after 10 ms instead of the real 1 s). */
export const FAST_AGENT_ENV = 'ECS_EXEC_LOCAL_FAST_AGENT';
/** `npm start -- doctor …`: the doctor against the local world (scripts/local-doctor.ts). */
const DOCTOR_COMMAND = 'doctor';
/** The handler logs at INFO on stdout (as in Lambda); here stdout is the result, so WARN unless asked. */
const DEFAULT_LOG_LEVEL = 'WARN';
const MAX_PORT = 65_535;
const JSON_INDENT = 2;
const OutputFormat = { Json: 'json', Text: 'text' } as const;
type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

/** --fan-out's default service per local cluster: the scripted fleet of `local`. */
const LOCAL_FAN_OUT_SERVICES: Readonly<Record<string, string>> = {
  [DEFAULT_WORLD_IDS.cluster]: DEFAULT_WORLD_IDS.fleetService,
  [DEFAULT_WORLD_IDS.kmsCluster]: DEFAULT_WORLD_IDS.kmsService,
};

/** The only service of each local cluster: the default when neither --service nor --task is given. */
const LOCAL_SERVICES: Readonly<Record<string, string>> = {
  [DEFAULT_WORLD_IDS.cluster]: DEFAULT_WORLD_IDS.service,
  [DEFAULT_WORLD_IDS.kmsCluster]: DEFAULT_WORLD_IDS.kmsService,
};

const USAGE = `Usage: npm start -- [options] "<command>"
       npm start -- [options] -- <command words...>
       npm start -- doctor [--cluster C (--task T | --service S)] [--probe] [--json]
                  (ecs-exec doctor against the local world and its broken targets; doctor --help lists them)

Runs <command> through the real exec Lambda handler against a local stand-in for ECS, KMS, SSM
and the message gateway; an agent double runs it on this machine in a pseudo-terminal. No AWS
account is used: the SDK is pointed at the stand-in through AWS_ENDPOINT_URL (AWS_PROFILE and
AWS_SESSION_TOKEN are ignored). Prints the state result and exits with the command's exit code.

Target (the local world: cluster "${DEFAULT_WORLD_IDS.cluster}" with service "${DEFAULT_WORLD_IDS.service}", cluster "${DEFAULT_WORLD_IDS.kmsCluster}" with
service "${DEFAULT_WORLD_IDS.kmsService}" and a KMS key; one task each, container "app"; and service "${DEFAULT_WORLD_IDS.fleetService}" of
cluster "${DEFAULT_WORLD_IDS.cluster}", ${FLEET_TASK_COUNT} scripted tasks for --fan-out):
  --cluster NAME|ARN       (default: ${DEFAULT_WORLD_IDS.cluster})
  --service NAME           (default: the cluster's service)
  --task ID|ARN            (not with --service)
  --container NAME
  --kms                    use the KMS cluster (${DEFAULT_WORLD_IDS.kmsCluster}): an encrypted session
Command:
  --timeout SECONDS        the command's timeout, 1-900 (default 300)
  --stdin TEXT             TEXT on the command's stdin, then EOF
  --stdin-file PATH        a file's contents on the command's stdin ("-": this process's stdin)
  --tty                    keep the pseudo-terminal (colours, progress bars)
  --raw                    no shell and no wrapper (shell: false): there is no exit code
  --env NAME=VALUE         export NAME to the command (repeatable); sent like stdin, never on the command line
  --user NAME|UID          run as this user (the local "container" runs as this machine's user)
  --workdir PATH           run in this directory
  --transfer MODE          auto (default), zstd, xz, gzip or plain: how output travels without --tty
Run:
  --detach                 a detached job through the local state machine: started, polled, its
                           output printed as it arrives (like ecs-exec run --detach)
  --poll-interval SECONDS  with --detach: seconds between polls, 2-300 (default: 5 growing to 60)
  --state-machine          run the synthesized "run one command" state machine locally (its Task
                           invokes the handler with the function's synthesized environment)
  --fan-out                run the synthesized fan-out state machine on every task of the service
                           (default: "${DEFAULT_WORLD_IDS.fleetService}", ${FLEET_TASK_COUNT} scripted tasks of cluster "${DEFAULT_WORLD_IDS.cluster}"); prints one
                           block per task (task id, output, exit code) from the S3 results
  --max-concurrency N      --fan-out: tasks at once (default: the construct's fanOutMaxConcurrency)
  --output json|text       json (default): the result, pretty-printed (a failure: {"error","cause"}
                           as Step Functions reports it); text: only the command's output
  --port N                 port of the local AWS endpoint (default 0: any free port)
  -h, --help

Errors and the output tail of a failed command go to stderr, and so does the metrics line (EMF)
the Lambda would emit for the run (not with --fan-out: one per task; with --state-machine, a
failure also shows the alert the deployed runner would publish). The handler's logs at WARN and above
go to stderr too; POWERTOOLS_LOG_LEVEL changes the level (INFO and DEBUG lines go to stdout, as
in Lambda). AWS_ENDPOINT_URL_ECS, _SSM and _KMS already set in the environment send those services
to another endpoint (LocalStack, another ECS Exec stand-in; then name its targets with --cluster and
--task); the embedded endpoint serves the rest. To pipe the result, keep npm's banner off stdout: npm start --silent -- …

${exitCodeHelp([], '--output json')}`;

const OPTIONS = {
  cluster: { type: 'string' },
  service: { type: 'string' },
  task: { type: 'string' },
  container: { type: 'string' },
  kms: { type: 'boolean' },
  timeout: { type: 'string' },
  ...EXEC_FLAG_OPTIONS,
  tty: { type: 'boolean' },
  raw: { type: 'boolean' },
  'state-machine': { type: 'boolean' },
  detach: { type: 'boolean' },
  'poll-interval': { type: 'string' },
  'fan-out': { type: 'boolean' },
  'max-concurrency': { type: 'string' },
  output: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface LocalRunOptions {
  readonly event: ExecEvent;
  readonly stateMachine: boolean;
  /** A detached job through the local state machine, its output printed as it arrives. */
  readonly detach: boolean;
  readonly fanOut: boolean;
  readonly output: OutputFormat;
  readonly port: number;
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > MAX_PORT)
    throw usageError(`--port must be 0-${MAX_PORT}, got "${value}"`);
  return port;
}

async function parseOptions(argv: readonly string[]): Promise<LocalRunOptions | undefined> {
  const { values, positionals } = parsedArgs(() =>
    parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }),
  );
  if (values.help) return undefined;
  if (values.kms && values.cluster !== undefined) throw usageError('give --kms or --cluster, not both');
  const output = values.output ?? OutputFormat.Json;
  if (output !== OutputFormat.Json && output !== OutputFormat.Text) {
    throw usageError(`--output must be json or text, got "${output}"`);
  }
  const fanOut = values['fan-out'] === true;
  if (values['max-concurrency'] !== undefined && !fanOut)
    throw usageError('--max-concurrency needs --fan-out');
  if (fanOut && values.detach) throw usageError('give --fan-out or --detach, not both');
  const cluster = values.kms ? DEFAULT_WORLD_IDS.kmsCluster : values.cluster;
  const clusterName = cluster?.split('/').pop() ?? DEFAULT_WORLD_IDS.cluster;
  const localServices = fanOut ? LOCAL_FAN_OUT_SERVICES : LOCAL_SERVICES;
  const service =
    values.service ??
    (values.task === undefined && (cluster !== undefined || fanOut) ? localServices[clusterName] : undefined);
  const execFlags = await execFlagOptions(values);
  const build = fanOut
    ? (options: Parameters<typeof buildExecEvent>[0]) =>
        buildFanOutInput({
          ...options,
          ...(values['max-concurrency'] !== undefined ? { maxConcurrency: values['max-concurrency'] } : {}),
        })
    : buildExecEvent;
  const event = build({
    command: positionals,
    ...(cluster !== undefined ? { cluster } : {}),
    ...(service !== undefined ? { service } : {}),
    ...(values.task !== undefined ? { task: values.task } : {}),
    ...(values.container !== undefined ? { container: values.container } : {}),
    ...(values.timeout !== undefined ? { timeout: values.timeout } : {}),
    ...execFlags,
    ...(values.tty ? { tty: true } : {}),
    ...(values.raw ? { raw: true } : {}),
    ...(values.detach ? { detach: true } : {}),
    ...(values['poll-interval'] !== undefined ? { pollInterval: values['poll-interval'] } : {}),
  });
  return {
    event,
    stateMachine: values['state-machine'] === true,
    detach: values.detach === true,
    fanOut,
    // A detached job streams its output; JSON only when asked for by name.
    output: values.detach && values.output === undefined ? OutputFormat.Text : output,
    port: parsePort(values.port),
  };
}

const pretty = (value: unknown): string => `${JSON.stringify(value, null, JSON_INDENT)}\n`;

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text === '') resolve();
    else stream.write(text, () => resolve());
  });
}

/** Prints a failure (stderr; JSON on stdout too with --output json); returns its exit code. */
async function printFailure(
  failure: { error: string; cause: string },
  output: OutputFormat,
): Promise<number> {
  const report: FailureReport = describeFailure(failure.error, failure.cause);
  if (output === OutputFormat.Json) await write(process.stdout, pretty(failure));
  await write(process.stderr, formatFailure(report));
  return report.exitCode;
}

async function printResult(result: unknown, output: OutputFormat): Promise<number> {
  const exec = result as { output?: unknown; exitCode?: unknown };
  if (output === OutputFormat.Text && typeof exec.output === 'string') {
    // Exactly what the command printed: no newline added, none taken away.
    await write(process.stdout, exec.output);
  } else {
    await write(process.stdout, pretty(result));
  }
  return typeof exec.exitCode === 'number' ? exec.exitCode : ExitCode.Success;
}

/** Set by the first SIGINT/SIGTERM: its handler closes everything and exits; nothing else prints. */
const interruption: { signal?: NodeJS.Signals } = {};

/** `--fan-out`: the synthesized fan-out state machine, then one block per task from the fake S3. */
async function runFanOut(
  options: LocalRunOptions,
  environment: LocalEnvironment,
): Promise<number | undefined> {
  const result = await environment.runFanOut(options.event);
  if (interruption.signal) return undefined;
  const summary = parseFanOutSummary(
    result.status === 'SUCCEEDED'
      ? JSON.stringify(result.output)
      : isTasksFailed(result.error)
        ? result.cause
        : undefined,
  );
  if (summary === undefined) {
    return result.status === 'SUCCEEDED'
      ? printResult(result.output, options.output)
      : printFailure({ error: result.error, cause: result.cause }, options.output);
  }
  const { sdkDistributedMapIo } =
    require('../local/local-fan-out') as typeof import('../local/local-fan-out');
  return printFanOutResults(
    summary,
    sdkDistributedMapIo().getObject,
    { stdout: process.stdout, stderr: process.stderr },
    { json: options.output === OutputFormat.Json },
  );
}

async function run(options: LocalRunOptions, environment: LocalEnvironment): Promise<number | undefined> {
  if (options.detach) return runDetached(options, environment);
  if (options.fanOut) return runFanOut(options, environment);
  if (options.stateMachine) {
    const executionName = `local-${randomUUID()}`;
    const startedMs = Date.now();
    const result = await environment.runStateMachine(options.event, { executionName });
    if (interruption.signal) return undefined;
    if (result.status === 'SUCCEEDED') return printResult(result.output, options.output);
    // What the deployed runner's alerts topic would receive for this execution.
    await write(
      process.stderr,
      `${alertPreview({
        stateMachineArn: environment.runCommandStateMachineArn,
        executionName,
        input: options.event,
        error: result.error,
        cause: result.cause,
        startedMs,
      })}\n`,
    );
    return printFailure({ error: result.error, cause: result.cause }, options.output);
  }
  let result: unknown;
  try {
    result = await environment.invoke(options.event);
  } catch (err) {
    if (interruption.signal) return undefined;
    // What Step Functions would report for the same throw.
    return printFailure(lambdaErrorCause(err), options.output);
  }
  return interruption.signal ? undefined : printResult(result, options.output);
}

/**
 * `--detach`: what `ecs-exec run --detach` does against AWS, against the local endpoint: start the
 * local state machine, print the job's output as each poll brings it, exit with its exit code.
 */
async function runDetached(
  options: LocalRunOptions,
  environment: LocalEnvironment,
): Promise<number | undefined> {
  const { createS3Client, createSfnClient } = require('../cli/clients') as typeof import('../cli/clients');
  const { runCommand } = require('../cli/run') as typeof import('../cli/run');
  const sfn = createSfnClient();
  const s3 = createS3Client();
  try {
    const code = await runCommand(
      {
        command: [options.event.command],
        ...eventTarget(options.event),
        stateMachine: environment.runCommandStateMachineArn,
        wait: true,
        history: false,
        json: options.output === OutputFormat.Json,
      },
      {
        sfn,
        s3: () => s3,
        cloudFormation: () => {
          throw usageError('no stack is needed locally');
        },
        io: { stdout: process.stdout, stderr: process.stderr },
      },
    );
    return interruption.signal ? undefined : code;
  } finally {
    sfn.destroy();
    s3.destroy();
  }
}

/** The event's fields again as command-line values, for the CLI's event builder. */
function eventTarget(event: ExecEvent): Omit<EventOptions, 'command'> {
  return {
    ...(event.cluster !== undefined ? { cluster: event.cluster } : {}),
    ...(event.service !== undefined ? { service: event.service } : {}),
    ...(event.task !== undefined ? { task: event.task } : {}),
    ...(event.container !== undefined ? { container: event.container } : {}),
    ...(event.timeoutSeconds !== undefined ? { timeout: String(event.timeoutSeconds) } : {}),
    ...(event.stdin !== undefined ? { stdin: event.stdin } : {}),
    ...(event.pollIntervalSeconds !== undefined ? { pollInterval: String(event.pollIntervalSeconds) } : {}),
    detach: true,
  };
}

function isListenError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}

/** Returns the exit code, or undefined when a signal handler is ending the process. */
async function main(argv: readonly string[]): Promise<number | undefined> {
  quietSdkNodeVersionWarning();
  process.env.POWERTOOLS_LOG_LEVEL ??= DEFAULT_LOG_LEVEL;
  // The run's metrics (EMF) show on stderr, labelled, since stdout is the result here.
  process.env[METRICS_TO_STDERR_ENV] ??= '1';
  /** The environment being started or running (a signal may arrive during the start). */
  let starting: Promise<LocalEnvironment> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGTERM' ? RunExitCode.Terminated : RunExitCode.Interrupted;
    // A second signal means "now".
    if (interruption.signal !== undefined) process.exit(code);
    interruption.signal = signal;
    process.stderr.write(`\n${signal}: stopping the command and the local environment\n`);
    // Closing kills the command (and its children) on the agent's pty and every socket; the
    // process exits right after, so nothing needs to wind down.
    const closed = (starting ?? Promise.resolve(undefined)).then(
      (environment) => environment?.close({ drainMs: 0 }),
      () => undefined,
    );
    closed.finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let environment: LocalEnvironment | undefined;
  try {
    if (argv[0] === DOCTOR_COMMAND) {
      const { localDoctor } = require('./local-doctor') as typeof import('./local-doctor');
      return await localDoctor(argv.slice(1), process, { fastAgent: process.env[FAST_AGENT_ENV] === '1' });
    }
    const options = await parseOptions(argv);
    if (options === undefined) {
      await write(process.stdout, USAGE);
      return ExitCode.Success;
    }
    // One metrics line per task would bury the fan-out's summary: a single run's line tells the same.
    if (options.fanOut) process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    // Loaded after the options are checked: a usage error answers without loading the SDK.
    const { startLocalEnvironment } =
      require('../local/local-environment') as typeof import('../local/local-environment');
    starting = startLocalEnvironment({
      port: options.port,
      fastAgent: process.env[FAST_AGENT_ENV] === '1',
    });
    try {
      environment = await starting;
    } catch (err) {
      if (isListenError(err)) {
        throw usageError(
          `cannot listen on 127.0.0.1 port ${options.port} (${err.code}); choose another with --port <n>, or --port 0 for any free port`,
        );
      }
      throw err;
    }
    // Interrupted during the start: the signal handler closes it and exits.
    if (interruption.signal !== undefined) return undefined;
    for (const [id, endpoint] of Object.entries(environment.externalEndpoints)) {
      await write(
        process.stderr,
        `npm start: ${id} goes to ${endpoint} (AWS_ENDPOINT_URL_${id}); the rest to the embedded endpoint\n`,
      );
    }
    return await run(options, environment);
  } catch (err) {
    if (interruption.signal !== undefined) return undefined;
    if (err instanceof CliError) {
      await write(process.stderr, `npm start: ${err.message}\n`);
      return err.exitCode;
    }
    await write(
      process.stderr,
      `npm start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return ExitCode.Unexpected;
  } finally {
    if (interruption.signal === undefined) await environment?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // undefined: a signal handler is closing everything and exits when done.
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`npm start: ${String(err)}\n`);
    process.exit(ExitCode.Unexpected);
  },
);
