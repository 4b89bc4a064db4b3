/**
 * One session as the SSM agent runs it for ECS Exec (InteractiveCommands in container mode): the
 * data channel (sequence numbers, retransmission, receive rules, pause), the handshake when a KMS
 * key is set (agent-handshake.ts), the shell plugin (pty or script, writePump) and the end of the
 * session. Each rule follows amazon-ssm-agent's datachannel.go / shell.go as ssm-protocol.md
 * §4–§10 describe them; comments name the rule where the code would otherwise look arbitrary.
 *
 * The agent talks only to the message gateway (an AgentLink); it never sees the client's socket.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  decodeFrame,
  encodeAcknowledge,
  encodeFrame,
  type Frame,
  parseAcknowledgeContent,
} from '../../lambda/ssm/codec';
import { ACK_FLAGS, FLAG_SYN, MessageType, PayloadType } from '../../lambda/ssm/constants';
import { shlexSplit } from '../shlex';
import { AgentHandshake } from './agent-handshake';
import { ackRaceDelayMs } from './faults';
import { parseSizePayload } from './handshake-payloads';
import { InputReceiver } from './input-receiver';
import { NOT_READY, OK, type ProcessResult, processingError } from './input-result';
import type { RelayFate, SessionObservation } from './observation';
import { type AgentSessionSpec, DEFAULT_AGENT_VERSION, type ResolvedTiming } from './options';
import { OutgoingBuffer, type OutgoingMessage } from './outgoing-buffer';
import { runOutputPump } from './output-pump';
import { type OutputSource, startCommand, startScript } from './pty-runner';
import { pathWithout } from './restricted-path';
import { scriptedExec } from './scripted-shell';
import { sleep } from './timers';
import { Utf8HoldBack } from './utf8-holdback';

/** The agent's message type for session state reports to MGS (never meant for clients). */
export const AGENT_SESSION_STATE = 'agent_session_state';
const AGENT_SCHEMA_VERSION = 1;
/** The agent truncates Size values to uint16 (shell_unix.go SetSize). */
const UINT16_MASK = 0xffff;
const HANDSHAKE_FAILED_PREFIX = 'Encountered error while initiating handshake. ';
const START_FAILED_PREFIX = 'Unable to start command: ';

export interface DeliveryInfo {
  readonly messageType: string;
  readonly sequenceNumber: number;
  readonly payloadType: number;
  readonly retransmission: boolean;
}

/** The agent's view of the message gateway. */
export interface AgentLink {
  /** Agent → MGS → client. Returns what MGS did with the frame. */
  deliver(frame: Buffer, info: DeliveryInfo): RelayFate;
  /** The agent closed its data channel; MGS ends the client's side with this channel_closed Output. */
  agentClosed(output: string): void;
  /** Present while the client socket is congested (the agent's socket writes would block). */
  whenWritable(): Promise<void> | undefined;
}

/** `SessionId: <id> : ----------ERROR-------\r\n<text>\r\n`, as failed sessions end (real-agent-findings.md). */
export function failedSessionOutput(sessionId: string, text: string): string {
  return `SessionId: ${sessionId} : ----------ERROR-------\r\n${text.trimEnd()}\r\n`;
}

export class AgentSession {
  private readonly abort = new AbortController();
  private started = false;
  private closed = false;
  private paused = false;
  private activeWaiters: (() => void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private resendTimer: NodeJS.Timeout | undefined;
  private nextSequenceNumber = 0;
  private readonly outgoing: OutgoingBuffer;
  private readonly receiver: InputReceiver;
  private readonly handshake: AgentHandshake;
  private source: OutputSource | undefined;

  constructor(
    private readonly sessionId: string,
    private readonly spec: AgentSessionSpec,
    private readonly timing: ResolvedTiming,
    private readonly link: AgentLink,
    private readonly observation: SessionObservation,
  ) {
    this.outgoing = new OutgoingBuffer(timing);
    this.receiver = new InputReceiver(
      {
        processStreamDataMessage: (frame) => this.processStreamDataMessage(frame),
        sendAcknowledgeMessage: (frame) => this.sendAcknowledgeMessage(frame),
        reportFailure: (message) => this.observation.processingErrors.push(message),
      },
      timing.incomingBufferCapacity,
    );
    this.handshake = new AgentHandshake(
      {
        sessionId,
        agentVersion: spec.agentVersion ?? DEFAULT_AGENT_VERSION,
        timeoutMs: timing.handshakeTimeoutMs,
        observation,
        signal: this.abort.signal,
        sendStreamDataMessage: (payloadType, payload) => this.sendStreamDataMessage(payloadType, payload),
      },
      spec.kms,
    );
  }

  get isStarted(): boolean {
    return this.started;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Starts the session; the double starts it when the client's first open frame arrives. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.observation.state = 'running';
    this.resendTimer = setInterval(() => this.resendOldest(), this.timing.resendTickMs);
    this.run().catch((err: unknown) => {
      // A bug in the double, not agent behaviour: fail the session loudly rather than hang.
      this.observation.processingErrors.push(`agent double crashed: ${String(err)}`);
      this.closeChannel(failedSessionOutput(this.sessionId, String(err)));
    });
  }

  /** MGS's pause_publication (§10.2): stop sending, resending and reading the pty. */
  pausePublication(): void {
    if (!this.paused) this.observation.pauses++;
    this.setPaused(true);
  }

  /** MGS's start_publication. */
  startPublication(): void {
    this.setPaused(false);
  }

  /**
   * TerminateSession / shutdown: the shell plugin SIGKILLs the direct child and closes the pty; the
   * agent sends nothing more (MGS sends the client's channel_closed).
   */
  terminate(): void {
    if (this.closed) return;
    this.finish();
    this.observation.state = 'terminated';
    this.source?.kill();
  }

  /** A frame MGS relayed from the client. */
  receiveFromClient(raw: Buffer): void {
    // A dead reader goroutine reads nothing more at all.
    if (this.closed || this.observation.readerStopped !== undefined) return;
    let frame: Frame;
    try {
      frame = decodeFrame(raw);
    } catch (err) {
      this.observation.protocolErrors.push(err instanceof Error ? err.message : String(err));
      return;
    }
    switch (frame.messageType) {
      case MessageType.InputStreamData:
        this.observation.clientFrames.push({
          messageType: frame.messageType,
          sequenceNumber: frame.sequenceNumber,
          payloadType: frame.payloadType,
          flags: frame.flags,
          messageId: frame.messageId,
          payload: frame.payload,
        });
        // Any client stream message or ack clears Pause (datachannel.go:691,745).
        this.setPaused(false);
        this.receiver.receive(frame);
        break;
      case MessageType.Acknowledge:
        this.setPaused(false);
        this.handleAcknowledgeMessage(frame);
        break;
      default:
        this.observation.protocolErrors.push(`unexpected ${frame.messageType} from the client`);
    }
  }

  // ---- session flow -------------------------------------------------------------------------

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    this.sendAgentSessionState('Connected');
    if (this.spec.kms !== undefined) {
      const error = await this.handshake.perform();
      if (signal.aborted) return;
      if (error !== undefined) {
        await this.prepareToCloseChannel();
        this.closeChannel(failedSessionOutput(this.sessionId, HANDSHAKE_FAILED_PREFIX + error));
        return;
      }
    } else {
      // InteractiveCommands needs no handshake, so without a KMS key the agent skips it (§4.1).
      this.handshake.skip();
    }
    if (this.timing.ptyStartDelayMs > 0 && !(await sleep(this.timing.ptyStartDelayMs, signal))) return;

    const startError = this.startSource();
    if (startError !== undefined) {
      // shell.go sleeps 2 s before failing a session whose command did not start.
      if (!(await sleep(this.timing.startFailureDelayMs, signal))) return;
      await this.prepareToCloseChannel();
      this.closeChannel(failedSessionOutput(this.sessionId, START_FAILED_PREFIX + startError));
      return;
    }
    const source = this.source;
    if (source === undefined) return;
    await runOutputPump(
      source.output,
      new Utf8HoldBack(this.spec.faults?.fffdBug === true),
      {
        isActive: () => !this.paused,
        whenActive: () => this.whenActive(),
        sendOutput: (payload) => this.sendStreamDataMessage(PayloadType.Output, payload),
        whenWritable: () => this.link.whenWritable(),
      },
      this.timing,
      signal,
    );
    if (signal.aborted) return;
    // §7.1: PrepareToCloseChannel after EOF, Terminating, then the session plugin's own wait.
    this.observation.state = 'closing';
    await this.prepareToCloseChannel();
    this.sendAgentSessionState('Terminating');
    await this.prepareToCloseChannel();
    this.closeChannel(this.spec.faults?.channelClosedOutput ?? '');
  }

  /** Returns the agent's error text when the command cannot start. */
  private startSource(): string | undefined {
    if (this.spec.script !== undefined) {
      this.attachSource(startScript(this.spec.script, this.spec.rawScript === true));
      return undefined;
    }
    if (this.spec.scriptedShell !== undefined) return this.startScriptedShell(this.spec.scriptedShell);
    const started = startCommand(this.spec.command ?? '', { env: this.commandEnv(), cwd: this.spec.cwd });
    this.observation.argv = started.argv;
    if ('error' in started) {
      this.observation.markStarted();
      return started.error;
    }
    this.attachSource(started.source);
    return undefined;
  }

  /** The spec's environment, with a PATH that lacks `missingTools` when the spec names some. */
  private commandEnv(): Readonly<Record<string, string>> | undefined {
    const missing = this.spec.missingTools;
    if (missing === undefined || missing.length === 0) return this.spec.env;
    return { ...this.spec.env, PATH: pathWithout(this.spec.env?.PATH ?? process.env.PATH ?? '', missing) };
  }

  /** The command split as the agent splits it, answered by a scripted container (no pty). */
  private startScriptedShell(shell: NonNullable<AgentSessionSpec['scriptedShell']>): string | undefined {
    let argv: string[];
    try {
      argv = shlexSplit(this.spec.command ?? '');
    } catch (err) {
      this.observation.markStarted();
      return `Failed to parse commands input: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.observation.argv = argv;
    try {
      this.attachSource(startScript(scriptedExec(argv, shell), false));
      return undefined;
    } catch (err) {
      this.observation.markStarted();
      return err instanceof Error ? err.message : String(err);
    }
  }

  private attachSource(source: OutputSource): void {
    this.source = source;
    this.observation.pid = source.pid;
    this.observation.markStarted();
    source.exited.then(
      (status) => {
        this.observation.exit = status;
      },
      () => undefined,
    );
  }

  /** PrepareToCloseChannel: wait until every sent message is acked, at most closeAckWaitMs. */
  private async prepareToCloseChannel(): Promise<void> {
    if (this.outgoing.size === 0) return;
    const deadline = new AbortController();
    const stop = (): void => deadline.abort();
    this.abort.signal.addEventListener('abort', stop, { once: true });
    await Promise.race([this.outgoing.whenEmpty(), sleep(this.timing.closeAckWaitMs, deadline.signal)]);
    deadline.abort();
    this.abort.signal.removeEventListener('abort', stop);
  }

  private closeChannel(output: string): void {
    if (this.closed) return;
    this.finish();
    this.observation.state = 'closed';
    this.link.agentClosed(output);
  }

  private finish(): void {
    this.closed = true;
    this.abort.abort();
    if (this.resendTimer !== undefined) clearInterval(this.resendTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.outgoing.release();
    this.setPaused(false);
    const exited = this.source?.exited ?? Promise.resolve();
    exited.then(
      () => this.observation.markEnded(),
      () => this.observation.markEnded(),
    );
  }

  // ---- output side (§5.4) ---------------------------------------------------------------------

  /** SendStreamDataMessage: number, encrypt, send unless paused, keep for retransmission. */
  private sendStreamDataMessage(payloadType: number, payload: Buffer): void {
    // Empty payloads are never sent (datachannel.go:407-410).
    if (payload.length === 0 || this.closed) return;
    const body = this.handshake.encryptOutput(payloadType, payload);
    const sequenceNumber = this.nextSequenceNumber;
    const message: OutgoingMessage = {
      sequenceNumber,
      payloadType,
      // Encoded once: retransmissions resend these exact bytes, as the agent does.
      frame: encodeFrame({
        messageType: MessageType.OutputStreamData,
        sequenceNumber,
        // SYN only on the stream's first message (datachannel.go:423-426).
        flags: sequenceNumber === 0 ? FLAG_SYN : 0n,
        messageId: randomUUID(),
        payloadType,
        payload: body,
        createdDateMs: Date.now(),
      }),
      payloadLength: body.length,
      lastSentMs: 0,
    };
    // While paused the message is numbered and kept but not sent (datachannel.go:445-452).
    if (this.paused) this.record(message, false, 'buffered-while-paused');
    else this.transmit(message, false);
    // LastSentTime is taken after the send; the ack-race fault widens that gap.
    message.lastSentMs = performance.now();
    this.nextSequenceNumber = sequenceNumber + 1;
    const raceDelayMs = ackRaceDelayMs(this.spec.faults?.ackRace, sequenceNumber);
    if (raceDelayMs === undefined) this.addToOutgoingBuffer(message);
    else this.setTimer(() => this.addToOutgoingBuffer(message), raceDelayMs);
  }

  private addToOutgoingBuffer(message: OutgoingMessage): void {
    if (!this.closed && !this.outgoing.add(message)) this.observation.notBuffered++;
  }

  private transmit(message: OutgoingMessage, retransmission: boolean): void {
    const fate = this.link.deliver(message.frame, {
      messageType: MessageType.OutputStreamData,
      sequenceNumber: message.sequenceNumber,
      payloadType: message.payloadType,
      retransmission,
    });
    this.record(message, retransmission, fate);
    if (retransmission) this.observation.retransmissions++;
  }

  private record(message: OutgoingMessage, retransmission: boolean, fate: RelayFate): void {
    this.observation.outputFrames.push({
      sequenceNumber: message.sequenceNumber,
      payloadType: message.payloadType,
      payloadLength: message.payloadLength,
      retransmission,
      fate,
      atMs: performance.now(),
    });
  }

  /** ResendStreamDataMessageScheduler: only the oldest unacked message, once per tick, when older than RTO. */
  private resendOldest(): void {
    if (this.paused || this.closed) return;
    const oldest = this.outgoing.oldest();
    if (oldest === undefined || performance.now() - oldest.lastSentMs <= this.outgoing.rtoMs) return;
    this.transmit(oldest, true);
    oldest.lastSentMs = performance.now();
  }

  private sendAgentSessionState(state: 'Connected' | 'Terminating'): void {
    const payload = Buffer.from(
      JSON.stringify({ SchemaVersion: AGENT_SCHEMA_VERSION, SessionState: state, SessionId: this.sessionId }),
      'utf8',
    );
    const frame = encodeFrame({
      messageType: AGENT_SESSION_STATE,
      sequenceNumber: 0,
      flags: ACK_FLAGS,
      messageId: randomUUID(),
      payloadType: PayloadType.None,
      payload,
      createdDateMs: Date.now(),
    });
    this.link.deliver(frame, {
      messageType: AGENT_SESSION_STATE,
      sequenceNumber: 0,
      payloadType: PayloadType.None,
      retransmission: false,
    });
  }

  // ---- input side (§5.3; the ordering rules live in InputReceiver) ---------------------------

  /** processStreamDataMessage: decrypt Output first, then handshake payloads, then the plugin. */
  private processStreamDataMessage(frame: Frame): ProcessResult {
    let payload = frame.payload;
    if (frame.payloadType === PayloadType.Output) {
      const decrypted = this.handshake.decryptInput(payload, frame.sequenceNumber);
      if (!Buffer.isBuffer(decrypted)) return decrypted;
      payload = decrypted;
    }
    switch (frame.payloadType) {
      case PayloadType.HandshakeResponse:
        return this.handshake.onHandshakeResponse(payload);
      case PayloadType.EncChallengeResponse:
        return this.handshake.onChallengeResponse(payload);
      default:
        // Until the handshake is done or skipped, everything else is acked and dropped (§4.2).
        if (!this.handshake.isDone) {
          this.observation.inputDroppedDuringHandshake.push(frame.sequenceNumber);
          return OK;
        }
        return this.handleInput(frame.payloadType, payload);
    }
  }

  /** The shell plugin's InputStreamMessageHandler (shell_unix.go:427-480). */
  private handleInput(payloadType: number, payload: Buffer): ProcessResult {
    const source = this.source;
    if (source === undefined) return NOT_READY;
    if (payloadType === PayloadType.Output) {
      const error = source.writeInput(payload);
      if (error !== undefined) return processingError(`Unable to write to stdin, err: ${error}.`);
      this.observation.inputWritten.push(Buffer.from(payload));
      return OK;
    }
    if (payloadType === PayloadType.Size) {
      const parsed = parseSizePayload(payload);
      if ('error' in parsed) return processingError(`Invalid size message: ${parsed.error}`);
      const size = { cols: parsed.value.cols & UINT16_MASK, rows: parsed.value.rows & UINT16_MASK };
      const error = source.resize(size);
      if (error !== undefined) return processingError(`Unable to set pty size: ${error}`);
      this.observation.sizesApplied.push(size);
      return OK;
    }
    // Flag and every other type: ignored, but acked.
    return OK;
  }

  private handleAcknowledgeMessage(frame: Frame): void {
    let sequenceNumber: number;
    try {
      sequenceNumber = parseAcknowledgeContent(frame.payload).AcknowledgedMessageSequenceNumber;
    } catch (err) {
      this.observation.processingErrors.push(
        `acknowledge: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    this.observation.acksReceived.push(sequenceNumber);
    if (this.outgoing.acknowledge(sequenceNumber, performance.now()))
      this.observation.rtoMs = this.outgoing.rtoMs;
  }

  private sendAcknowledgeMessage(frame: Frame): void {
    const send = (): void => {
      if (this.closed) return;
      const ack = encodeAcknowledge(frame, { createdDateMs: Date.now(), messageId: randomUUID() });
      this.link.deliver(ack, {
        messageType: MessageType.Acknowledge,
        sequenceNumber: 0,
        payloadType: PayloadType.None,
        retransmission: false,
      });
      this.observation.acksSent.push(frame.sequenceNumber);
    };
    const delayMs = this.spec.faults?.delayAcksMs;
    if (delayMs !== undefined && delayMs > 0) this.setTimer(send, delayMs);
    else send();
  }

  // ---- small helpers --------------------------------------------------------------------------

  private setPaused(paused: boolean): void {
    this.paused = paused;
    // Runs for every client frame (acks included): nothing to allocate when nobody waits.
    if (paused || this.activeWaiters.length === 0) return;
    const waiters = this.activeWaiters;
    this.activeWaiters = [];
    for (const wake of waiters) wake();
  }

  private whenActive(): Promise<void> {
    if (!this.paused) return Promise.resolve();
    return new Promise((resolve) => this.activeWaiters.push(resolve));
  }

  private setTimer(callback: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, delayMs);
    this.timers.add(timer);
  }
}
