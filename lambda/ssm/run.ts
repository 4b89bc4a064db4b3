import { randomUUID } from 'node:crypto';
import { encodeOpenDataChannel, encodeSizePayload } from './codec';
import { buildCommand, DEFAULT_TERMINAL_SIZE, type PreparedCommand } from './command';
import {
  ChannelClosedError,
  CommandSetupError,
  OutputDecodeError,
  SessionAbortedError,
  SessionError,
  SessionInterruptedError,
  SessionTimeoutError,
  type TimeoutKind,
} from './errors';
import type { ChannelClosed } from './handshake';
import { type AssembledOutput, BoundedOutputSink, OutputAssembler } from './output';
import type { RunCommandOptions, RunResult, RunSessionOptions } from './run-options';
import { DataChannelSession, RESEND_TICK_MS } from './session';
import type { HeaderStatus } from './transfer/header';
import { DataChannelConnection } from './transport';
import type { SessionEndpoint } from './types';
import { inputFrames } from './wrapper/input';

export type { RunCommandOptions, RunResult, RunSessionOptions } from './run-options';

export const DEFAULT_TIMEOUT_MS = 300_000;
export const DEFAULT_NO_PROGRESS_TIMEOUT_MS = 120_000;
export const DEFAULT_OUTPUT_LIMIT_BYTES = 256 * 1024;
/** After Ctrl-C, how long to wait for the agent to close the session on its own. */
export const DEFAULT_INTERRUPT_GRACE_MS = 3_000;
/** Keeps idle sockets open through proxies and tells a live path from a dead one. */
export const DEFAULT_PING_INTERVAL_MS = 20_000;
export const DEFAULT_MAX_RESUME_ATTEMPTS = 3;
/** The plugin's reconnect back-off: 100–199 ms, doubling. */
const RESUME_BASE_DELAY_MS = 100;
const TERMINATE_TIMEOUT_MS = 5_000;
const CTRL_C = Buffer.from([0x03]);

type Outcome = { kind: 'closed'; info: ChannelClosed } | { kind: 'failed'; error: SessionError };

/** Runs one ECS Exec data-channel session to its end and returns its output and exit code. */
export function runSession(endpoint: SessionEndpoint, options: RunSessionOptions = {}): Promise<RunResult> {
  return new SessionRunner(endpoint, options).run();
}

/**
 * asyncssh-style `run()`: wraps `command`, starts the session with `start` (ecs:ExecuteCommand),
 * and resolves to the output and the exit code.
 */
export async function run(
  command: string,
  start: (prepared: PreparedCommand) => Promise<SessionEndpoint>,
  options: RunCommandOptions = {},
): Promise<RunResult> {
  const prepared = buildCommand(command, {
    shell: options.shell ?? true,
    tty: options.tty ?? true,
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
    ...(options.environment !== undefined ? { environment: options.environment } : {}),
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.workingDirectory !== undefined ? { workingDirectory: options.workingDirectory } : {}),
    ...(options.transfer !== undefined ? { transfer: options.transfer } : {}),
    terminalSize: options.terminalSize ?? DEFAULT_TERMINAL_SIZE,
  });
  const endpoint = await start(prepared);
  return runSession(endpoint, { ...options, marker: prepared.marker, wrapperInput: prepared.input });
}

class SessionRunner {
  private readonly startedMs = Date.now();
  private readonly clientId: string;
  private readonly view: BoundedOutputSink;
  private readonly assembler: OutputAssembler;
  private readonly session: DataChannelSession;
  private connection: DataChannelConnection | null = null;
  private reconnects = 0;
  private lastProgressMs = Date.now();
  private outcome: Outcome | null = null;
  private settle: (outcome: Outcome) => void = () => {};
  private readonly timers: NodeJS.Timeout[] = [];
  private interrupting: TimeoutKind | 'abort' | null = null;
  private resuming = false;
  private pendingInterruptError: SessionError | null = null;
  /** Whether the gateway has answered a ping on this session (it then tells a live socket from a dead one). */
  private pongSeen = false;
  private setupFailure: CommandSetupError | null = null;

  constructor(
    private readonly endpoint: SessionEndpoint,
    private readonly options: RunSessionOptions,
  ) {
    this.clientId = options.clientId ?? randomUUID();
    this.view = new BoundedOutputSink(options.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES);
    this.assembler = new OutputAssembler({
      nonce: options.marker ?? null,
      normalizeNewlines: options.normalizeNewlines ?? true,
      stripAnsi: options.stripAnsi ?? false,
      sink: this.view,
      ...(options.sink ? { fullSink: options.sink } : {}),
      onHeader: (status) => this.onHeader(status),
    });
    this.session = new DataChannelSession({
      sessionId: endpoint.sessionId,
      ...(options.dataKeyProvider ? { dataKeyProvider: options.dataKeyProvider } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      hooks: {
        send: (frame) => this.connection?.sendBinary(frame),
        output: (bytes) => this.assembler.push(bytes),
        closed: (info) => this.finish({ kind: 'closed', info }),
        failed: (error) => this.finish({ kind: 'failed', error }),
        progress: () => {
          this.lastProgressMs = Date.now();
        },
      },
    });
    const size = options.terminalSize === undefined ? DEFAULT_TERMINAL_SIZE : options.terminalSize;
    if (size !== null) this.session.sendSize(encodeSizePayload(size.cols, size.rows));
    if (options.input !== undefined) this.session.sendInput(Buffer.from(options.input));
  }

  /** The wrapper is ready (the pty is raw and silent): its input may go now, in order. */
  private onHeader(status: HeaderStatus): void {
    if (status.kind === 'refused') {
      this.setupFailure = new CommandSetupError(
        status.failure,
        `the command was not started: ${status.text}`,
      );
      return;
    }
    const input = this.options.wrapperInput;
    if (status.kind !== 'ready' || input === null || input === undefined) return;
    for (const frame of inputFrames(input)) this.session.sendInput(frame);
  }

  async run(): Promise<RunResult> {
    const ended = new Promise<Outcome>((resolve) => {
      this.settle = resolve;
    });
    this.startTimers();
    const onAbort = (): void => this.interrupt('abort');
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.options.signal?.aborted) this.interrupt('abort');
    else void this.connect(this.endpoint.streamUrl, this.endpoint.tokenValue);
    const outcome = await ended;
    this.options.signal?.removeEventListener('abort', onAbort);
    for (const timer of this.timers) clearInterval(timer);
    this.connection?.close();
    return this.conclude(outcome);
  }

  private async connect(streamUrl: string, tokenValue: string): Promise<void> {
    try {
      const connection = await DataChannelConnection.open(
        streamUrl,
        {
          binary: (data) => this.session.receive(data),
          closed: (code, reason) => this.onSocketClosed(connection, code, reason),
          alive: () => {
            this.pongSeen = true;
            if (this.session.undeliveredCount === 0) this.lastProgressMs = Date.now();
          },
        },
        this.options.signal ? { signal: this.options.signal } : {},
      );
      if (this.outcome !== null) {
        connection.close();
        return;
      }
      this.connection = connection;
      connection.sendText(
        encodeOpenDataChannel({ requestId: randomUUID(), tokenValue, clientId: this.clientId }),
      );
      this.session.resendOldest();
      const noHandshakeAfterMs = this.options.noHandshakeAfterMs;
      if (noHandshakeAfterMs !== undefined && this.reconnects === 0) {
        this.timers.push(setTimeout(() => this.session.assumeHandshakeSkipped(), noHandshakeAfterMs));
      }
      this.options.logger?.debug('data channel open', {
        sessionId: this.endpoint.sessionId,
        reconnects: this.reconnects,
      });
    } catch (err) {
      if (this.reconnects === 0) this.finish({ kind: 'failed', error: asSessionError(err) });
      else throw err;
    }
  }

  private onSocketClosed(connection: DataChannelConnection, code: number, reason: string): void {
    if (this.connection !== connection) return;
    this.connection = null;
    if (this.outcome !== null || this.session.isFinished) return;
    if (this.assembler.exitMarkerSeen && this.session.undeliveredCount === 0) {
      // The wrapper printed its exit status last and every frame before it arrived in order: the
      // output is complete, only the gateway's channel_closed went missing.
      this.options.logger?.warn('data channel closed without channel_closed after the command finished', {
        sessionId: this.endpoint.sessionId,
        code,
      });
      this.finish({ kind: 'closed', info: { sessionId: this.endpoint.sessionId, output: '' } });
      return;
    }
    this.options.logger?.warn('data channel dropped before the session ended', {
      sessionId: this.endpoint.sessionId,
      code,
      reason,
    });
    void this.resume(code);
  }

  private async resume(code: number): Promise<void> {
    const resume = this.options.resume;
    if (resume === undefined) {
      this.finish({
        kind: 'failed',
        error: new SessionInterruptedError(`the websocket closed (code ${code}) before the session ended`),
      });
      return;
    }
    if (this.resuming) return;
    this.resuming = true;
    const attempts = this.options.maxResumeAttempts ?? DEFAULT_MAX_RESUME_ATTEMPTS;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts && this.outcome === null; attempt++) {
      await delay(RESUME_BASE_DELAY_MS * 2 ** attempt * (1 + Math.random()));
      if (this.outcome !== null) break;
      try {
        const resumed = await resume(this.endpoint.sessionId);
        this.reconnects++;
        await this.connect(resumed.streamUrl ?? this.endpoint.streamUrl, resumed.tokenValue);
        this.resuming = false;
        return;
      } catch (err) {
        lastError = err;
        this.options.logger?.warn('resume attempt failed', {
          sessionId: this.endpoint.sessionId,
          attempt: attempt + 1,
          reason: err instanceof Error ? err.message : String(err),
        });
      }
    }
    this.resuming = false;
    this.finish({
      kind: 'failed',
      error: new SessionInterruptedError(
        `the websocket closed (code ${code}) and the session could not be resumed after ${attempts} attempts`,
        { cause: lastError },
      ),
    });
  }

  private startTimers(): void {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const noProgressMs = this.options.noProgressTimeoutMs ?? DEFAULT_NO_PROGRESS_TIMEOUT_MS;
    this.timers.push(
      setInterval(() => {
        this.session.tick();
        const now = Date.now();
        if (this.interrupting !== null) return;
        // A gateway that never answers pings gives no liveness signal: then only a gap that does
        // not fill counts as no progress, so a silent command is not mistaken for a dead socket.
        if (!this.pongSeen && this.session.undeliveredCount === 0) this.lastProgressMs = now;
        if (now - this.startedMs >= timeoutMs) this.interrupt('deadline');
        else if (now - this.lastProgressMs >= noProgressMs) this.interrupt('no-progress');
      }, RESEND_TICK_MS),
      setInterval(() => this.connection?.ping(), this.options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS),
    );
  }

  /** Ctrl-C the remote command, give the agent a moment to close, then stop for good. */
  private interrupt(kind: TimeoutKind | 'abort'): void {
    if (this.interrupting !== null || this.outcome !== null) return;
    this.interrupting = kind;
    const error =
      kind === 'abort'
        ? new SessionAbortedError('the session was aborted by the caller')
        : new SessionTimeoutError(
            kind,
            kind === 'deadline'
              ? (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
              : (this.options.noProgressTimeoutMs ?? DEFAULT_NO_PROGRESS_TIMEOUT_MS),
          );
    if (this.session.ready && this.connection !== null) this.session.sendInput(CTRL_C);
    const grace = setTimeout(
      () => this.finish({ kind: 'failed', error }),
      this.connection === null ? 0 : (this.options.interruptGraceMs ?? DEFAULT_INTERRUPT_GRACE_MS),
    );
    this.timers.push(grace);
    this.pendingInterruptError = error;
  }

  private finish(outcome: Outcome): void {
    if (this.outcome !== null) return;
    // An interrupted command that then closed is still a timeout, with the output it managed to send.
    this.outcome =
      this.pendingInterruptError !== null ? { kind: 'failed', error: this.pendingInterruptError } : outcome;
    this.session.finish();
    this.settle(this.outcome);
  }

  private async conclude(outcome: Outcome): Promise<RunResult> {
    const assembled = await this.assembler.finish();
    const { exitCode } = assembled;
    const durationMs = Date.now() - this.startedMs;
    if (outcome.kind === 'failed') {
      await this.terminateQuietly();
      throw this.withPartial(outcome.error, assembled);
    }
    if (this.setupFailure !== null) throw this.withPartial(this.setupFailure, assembled);
    const closeMessage = outcome.info.output;
    if (this.session.undeliveredCount > 0) {
      throw this.withPartial(
        new SessionInterruptedError(
          `the session closed with ${this.session.undeliveredCount} output frames stuck behind missing sequence number ${this.session.nextExpectedSequence}`,
        ),
        assembled,
      );
    }
    // Error text in channel_closed means the command did not run to the end, unless the wrapper
    // proved it did by printing its exit status.
    if (closeMessage !== '' && exitCode === null)
      throw this.withPartial(new ChannelClosedError(closeMessage), assembled);
    if (assembled.decodeError !== undefined) {
      throw this.withPartial(
        new OutputDecodeError(
          `the ${assembled.transfer} output could not be decoded: ${assembled.decodeError.message}`,
          { cause: assembled.decodeError },
        ),
        assembled,
      );
    }
    return {
      sessionId: this.endpoint.sessionId,
      output: this.view.text(),
      outputBytes: assembled.fullBytes,
      outputSha256: assembled.outputSha256,
      transfer: assembled.transfer,
      truncated: this.view.truncated,
      omittedBytes: this.view.omittedBytes,
      exitCode,
      encrypted: this.session.encrypted,
      customerMessage: this.session.customerMessage,
      closeMessage,
      durationMs,
      reconnects: this.reconnects,
      stats: { ...this.session.stats },
    };
  }

  private withPartial(error: SessionError, assembled: AssembledOutput): SessionError {
    error.sessionId = this.endpoint.sessionId;
    return error.withPartial({
      output: this.view.text(),
      outputBytes: assembled.fullBytes,
      truncated: this.view.truncated,
    });
  }

  private async terminateQuietly(): Promise<void> {
    const terminate = this.options.terminate;
    if (terminate === undefined) return;
    try {
      await Promise.race([terminate(this.endpoint.sessionId), delay(TERMINATE_TIMEOUT_MS)]);
    } catch (err) {
      this.options.logger?.warn('could not terminate the session', {
        sessionId: this.endpoint.sessionId,
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

function asSessionError(err: unknown): SessionError {
  if (err instanceof SessionError) return err;
  return new SessionInterruptedError(err instanceof Error ? err.message : String(err), { cause: err });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
