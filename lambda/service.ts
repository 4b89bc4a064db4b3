import { createHash } from 'node:crypto';
import type { AwsClients } from './aws/clients';
import { S3OverflowSink } from './aws/s3-sink';
import { type ResolvedTarget, resolveTarget } from './aws/target';
import { startTargetSession, targetSessionPlumbing } from './aws/target-session';
import type { ExecResult } from './contract';
import { LAMBDA_SAFETY_MARGIN_MS } from './detach/detach-contract';
import { CommandTimedOut, ExecError, ExecuteCommandDenied, NonZeroExit, SessionFailed } from './errors';
import { clusterName, type ExecRequest } from './event';
import type { RunObservation } from './metrics';
import { failureMessage, fitResult } from './result';
import { buildCommand } from './ssm/command';
import { CommandSetupError, HandshakeError, SessionError, SessionTimeoutError } from './ssm/errors';
import { type RunResult, runSession } from './ssm/run';
import type { SessionLogger } from './ssm/types';

/** Time kept back from the Lambda's remaining time to stop the session and return a result. */
export { LAMBDA_SAFETY_MARGIN_MS };
/** The shortest deadline worth starting a session with. */
export const MIN_SESSION_TIME_MS = 2_000;
/** ExecuteCommand retries stop early enough to leave the command at least this much time. */
export const MIN_COMMAND_TIME_MS = 5_000;
export const TERMINAL_SIZE = { cols: 200, rows: 50 } as const;
/**
 * On a cluster without an ECS Exec KMS key the agent skips the handshake at once; after this long
 * without a HandshakeRequest the session counts as ready, so that input (the terminal size, Ctrl-C
 * on timeout) does not wait for a first output that a silent command never prints.
 */
export const NO_HANDSHAKE_AFTER_MS = 1_000;

export interface ExecServiceConfig {
  readonly outputBucket?: string;
  readonly outputPrefix?: string;
}

export interface ExecServiceDeps {
  readonly clients: AwsClients;
  readonly logger: SessionLogger;
  readonly config: ExecServiceConfig;
}

export interface InvocationClock {
  /** Milliseconds the Lambda has left (context.getRemainingTimeInMillis). */
  remainingMs(): number;
}

/** Resolves the target, starts ECS Exec, runs the session and shapes a Step Functions-safe result. */
export async function runExec(
  request: ExecRequest,
  deps: ExecServiceDeps,
  clock: InvocationClock,
  /** Filled in as the run goes, for its metrics (lambda/metrics.ts). */
  observation: RunObservation = {},
): Promise<ExecResult> {
  observation.cluster = clusterName(request.cluster);
  if (request.target.kind === 'service') observation.ecsService = serviceName(request.target.service);
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const budgetMs = Math.min(request.timeoutSeconds * 1000, clock.remainingMs() - LAMBDA_SAFETY_MARGIN_MS);
  if (budgetMs < MIN_SESSION_TIME_MS) {
    throw new CommandTimedOut(
      `only ${Math.max(0, budgetMs)} ms would be left for the command; raise the Lambda timeout or lower timeoutSeconds`,
    );
  }
  const deadline = started + budgetMs;
  const { clients, logger, config } = deps;

  const target = await resolveTarget(clients.ecs, request, logger);
  observation.cluster = target.clusterName;
  if (target.service !== undefined) observation.ecsService = target.service;
  logger.info('target resolved', {
    cluster: target.clusterName,
    taskArn: target.taskArn,
    container: target.container,
    encrypted: target.kmsKeyId !== undefined,
  });

  const prepared = buildCommand(request.command, {
    shell: request.shell,
    tty: request.tty,
    ...(request.stdinBytes !== undefined ? { stdin: request.stdinBytes } : {}),
    ...(request.environment !== undefined ? { environment: request.environment } : {}),
    ...(request.user !== undefined ? { user: request.user } : {}),
    ...(request.workingDirectory !== undefined ? { workingDirectory: request.workingDirectory } : {}),
    transfer: request.transfer,
    terminalSize: TERMINAL_SIZE,
  });
  const executeCommandStartedMs = Date.now();
  observation.executeCommandRetries = 0;
  const endpoint = await startTargetSession(clients, target, prepared.command, {
    retryUntilMs: deadline - MIN_COMMAND_TIME_MS,
    onRetry: (attempt, reason, delayMs) => {
      observation.executeCommandRetries = attempt;
      logger.warn('ExecuteCommand not ready, retrying', { attempt, reason, delayMs: Math.round(delayMs) });
    },
  });
  logger.info('session started', {
    sessionId: endpoint.sessionId,
    taskArn: target.taskArn,
    container: target.container,
  });

  const overflow =
    config.outputBucket !== undefined
      ? new S3OverflowSink(
          clients.s3,
          {
            bucket: config.outputBucket,
            key: outputKey(config.outputPrefix, target, endpoint.sessionId, started),
          },
          request.outputLimitBytes,
        )
      : undefined;

  const identity = {
    cluster: target.clusterName,
    taskArn: target.taskArn,
    container: target.container,
    sessionId: endpoint.sessionId,
  };

  let run: RunResult;
  try {
    run = await runSession(endpoint, {
      marker: prepared.marker,
      wrapperInput: prepared.input,
      normalizeNewlines: true,
      stripAnsi: request.stripAnsi,
      outputLimitBytes: request.outputLimitBytes,
      ...(overflow ? { sink: overflow } : {}),
      timeoutMs: Math.max(MIN_SESSION_TIME_MS, deadline - Date.now()),
      terminalSize: TERMINAL_SIZE,
      // Only when the cluster is known to have no key: input during a KMS handshake can break the session.
      ...(target.kmsKeyKnown && target.kmsKeyId === undefined
        ? { noHandshakeAfterMs: NO_HANDSHAKE_AFTER_MS }
        : {}),
      ...targetSessionPlumbing(clients, target),
      logger,
    });
  } catch (err) {
    if (err instanceof SessionError) observation.outputBytes = err.partial.outputBytes;
    const outputS3Uri = await settleUpload(overflow, logger);
    throw mapSessionError(err, { ...identity, ...(outputS3Uri ? { outputS3Uri } : {}) });
  }

  Object.assign(observation, {
    exitCode: run.exitCode,
    outputBytes: run.outputBytes,
    reconnects: run.reconnects,
    ...(run.firstOutputAtMs !== null
      ? { sessionStartMs: run.firstOutputAtMs - executeCommandStartedMs }
      : {}),
  });
  let outputS3Uri = await settleUpload(overflow, logger);
  let result: ExecResult = fitResult({
    exitCode: run.exitCode,
    output: run.output,
    outputBytes: run.outputBytes,
    truncated: run.truncated,
    ...(outputS3Uri ? { outputS3Uri } : {}),
    outputSha256: run.outputSha256,
    transfer: run.transfer,
    ...identity,
    startedAt,
    durationMs: Date.now() - started,
  });
  if (
    (result.truncated || !textIsExact(result.output, run)) &&
    outputS3Uri === undefined &&
    overflow !== undefined
  ) {
    // Shortened to fit the JSON limit (escaping), or the text is not the exact bytes (binary,
    // invalid UTF-8, stripped escapes): the exact output still goes to S3.
    outputS3Uri = await settleUpload(overflow, logger, true);
    if (outputS3Uri) result = { ...result, outputS3Uri };
  }
  logger.info('session finished', {
    ...identity,
    exitCode: run.exitCode,
    outputBytes: run.outputBytes,
    truncated: result.truncated,
    durationMs: result.durationMs,
    reconnects: run.reconnects,
    encrypted: run.encrypted,
    transfer: run.transfer,
  });

  if (request.shell && run.exitCode === null) {
    throw new SessionFailed(
      failureMessage(
        'the command ended without reporting its exit status (the shell was killed or the session was cut short)',
        { ...identity, ...(outputS3Uri ? { outputS3Uri } : {}) },
        run.output,
      ),
    );
  }
  if (request.failOnNonZeroExit && run.exitCode !== null && run.exitCode !== 0) {
    throw new NonZeroExit(
      failureMessage(
        `the command exited with code ${run.exitCode}`,
        {
          exitCode: run.exitCode,
          ...identity,
          outputBytes: run.outputBytes,
          ...(outputS3Uri ? { outputS3Uri } : {}),
        },
        run.output,
      ),
      { exitCode: run.exitCode },
    );
  }
  return result;
}

/** A service given by name or ARN, as its name. */
function serviceName(service: string): string {
  return service.split('/').pop() ?? service;
}

/** Whether the JSON `output` is byte for byte what the full output (S3, outputSha256) holds. */
function textIsExact(output: string, run: RunResult): boolean {
  return createHash('sha256').update(output, 'utf8').digest('hex') === run.outputSha256;
}

function outputKey(
  prefix: string | undefined,
  target: ResolvedTarget,
  sessionId: string,
  startedMs: number,
): string {
  const day = new Date(startedMs).toISOString().slice(0, 10);
  return `${prefix ?? ''}${day}/${target.clusterName}/${target.taskId}/${sessionId}.txt`;
}

async function settleUpload(
  sink: S3OverflowSink | undefined,
  logger: SessionLogger,
  force = false,
): Promise<string | undefined> {
  if (sink === undefined) return undefined;
  try {
    return await sink.complete(force);
  } catch (err) {
    logger.warn('could not store the full output in S3', {
      reason: err instanceof Error ? err.message : String(err),
    });
    await sink.abort();
    return undefined;
  }
}

/** Library errors → the Lambda's error vocabulary, with the partial output's tail. */
export function mapSessionError(err: unknown, identity: Record<string, unknown>): Error {
  if (err instanceof ExecError) return err;
  if (!(err instanceof SessionError)) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new SessionFailed(failureMessage(`the session failed: ${message}`, identity), {}, { cause: err });
  }
  const details = { ...identity, outputBytes: err.partial.outputBytes };
  if (err instanceof SessionTimeoutError) {
    return new CommandTimedOut(
      failureMessage(
        err.kind === 'deadline'
          ? `the command did not finish within ${Math.round(err.afterMs / 1000)} s and was interrupted`
          : `the session made no progress for ${Math.round(err.afterMs / 1000)} s and was interrupted`,
        details,
        err.partial.output,
      ),
      {},
      { cause: err },
    );
  }
  if (err instanceof CommandSetupError) {
    return new SessionFailed(
      failureMessage(err.message, { ...details, reason: err.reason }),
      { reason: err.reason },
      { cause: err },
    );
  }
  if (err instanceof HandshakeError && err.reason === 'data-key' && isAccessDenied(err.cause)) {
    return new ExecuteCommandDenied(
      failureMessage(`KMS denied the session's data key: ${causeMessage(err.cause)}`, details),
      {},
      { cause: err },
    );
  }
  return new SessionFailed(
    failureMessage(`${err.name}: ${err.message}`, details, err.partial.output),
    {},
    { cause: err },
  );
}

function isAccessDenied(cause: unknown): boolean {
  return (
    cause instanceof Error && /AccessDenied|NotAuthorized|KMSInvalidState|Disabled|NotFound/i.test(cause.name)
  );
}

function causeMessage(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
