import { randomUUID } from 'node:crypto';
import { decodeFrame, encodeAcknowledge, encodeFrame, type Frame, parseAcknowledgeContent } from './codec';
import { ActionStatus, HandshakeActionType, MessageType, PayloadType } from './constants';
import { type DirectionalKeys, openAesGcm, sealAesGcm, splitDataKey } from './crypto';
import { HandshakeError, type SessionError, SessionInterruptedError, SsmProtocolError } from './errors';
import {
  type ChannelClosed,
  encodeChallenge,
  encodeHandshakeResponse,
  failedActionResult,
  kmsEncryptionResult,
  type ProcessedClientAction,
  parseChallenge,
  parseChannelClosed,
  parseHandshakeComplete,
  parseHandshakeRequest,
  readKmsParameters,
  sessionTypeResult,
} from './handshake';
import type { DataKeyProvider, SessionLogger } from './types';

/** Plugin defaults (session-manager-plugin config.go); the agent uses the same RTO algorithm. */
export const RESEND_TICK_MS = 100;
export const INITIAL_RTT_MS = 100;
export const INITIAL_RTO_MS = 200;
export const MAX_RTO_MS = 1000;
export const MIN_RTO_VARIANCE_TERM_MS = 10;
export const INCOMING_BUFFER_CAPACITY = 10_000;
export const OUTGOING_BUFFER_CAPACITY = 10_000;
/** The agent gives the client 15 s per handshake step; a data key must arrive well before that. */
export const DATA_KEY_TIMEOUT_MS = 12_000;

const RTT_GAIN = 1 / 8;
const RTTVAR_GAIN = 1 / 4;
const RTTVAR_MULTIPLIER = 4;

/**
 * Where the session stands on the agent's handshake. ECS Exec without a KMS key skips it, and the
 * client only learns that from the first Output frame, so input waits until then.
 */
export type HandshakeState = 'unknown' | 'in-progress' | 'done' | 'skipped';

export interface SessionHooks {
  /** Send one binary frame on the current connection (dropped silently if there is none). */
  send(frame: Buffer): void;
  /** In-order, decrypted Output bytes. */
  output(bytes: Buffer): void;
  /** channel_closed arrived: the session is over. */
  closed(info: ChannelClosed): void;
  /** The session cannot go on (handshake failure and the like). */
  failed(error: SessionError): void;
  /** Something new happened: new data, a handshake step, an ack of our input. */
  progress?(): void;
}

export interface DataChannelSessionOptions {
  readonly sessionId: string;
  readonly hooks: SessionHooks;
  readonly dataKeyProvider?: DataKeyProvider;
  readonly logger?: SessionLogger;
  readonly now?: () => number;
  readonly newMessageId?: () => string;
  readonly incomingBufferCapacity?: number;
  readonly dataKeyTimeoutMs?: number;
}

export interface SessionStats {
  framesReceived: number;
  outputFrames: number;
  duplicateFrames: number;
  outOfOrderFrames: number;
  invalidFrames: number;
  ignoredFrames: number;
  acksSent: number;
  inputFramesSent: number;
  retransmissions: number;
}

interface OutgoingFrame {
  readonly frame: Buffer;
  lastSentMs: number;
  sends: number;
}

interface PendingInput {
  readonly payloadType: number;
  readonly payload: Buffer;
}

/**
 * The data-channel protocol state machine of one session, without sockets: feed it received
 * frames and clock ticks, and it emits frames to send, ordered output and the end of the session.
 */
export class DataChannelSession {
  readonly stats: SessionStats = {
    framesReceived: 0,
    outputFrames: 0,
    duplicateFrames: 0,
    outOfOrderFrames: 0,
    invalidFrames: 0,
    ignoredFrames: 0,
    acksSent: 0,
    inputFramesSent: 0,
    retransmissions: 0,
  };
  private handshake: HandshakeState = 'unknown';
  private expectedSequence = 0;
  private readonly incoming = new Map<number, Frame>();
  private readonly outgoing = new Map<number, OutgoingFrame>();
  private nextInputSequence = 0;
  private readonly pendingInput: PendingInput[] = [];
  private keys: DirectionalKeys | null = null;
  /** Set while the HandshakeRequest waits for its data key: later frames queue behind it. */
  private deliveryBlocked = false;
  private finished = false;
  private rttMs = INITIAL_RTT_MS;
  private rttVarianceMs = 0;
  private rtoMs = INITIAL_RTO_MS;
  private customerMessageText = '';
  private agentVersionText = '';
  private readonly now: () => number;
  private readonly newMessageId: () => string;
  private readonly incomingCapacity: number;

  constructor(private readonly options: DataChannelSessionOptions) {
    this.now = options.now ?? Date.now;
    this.newMessageId = options.newMessageId ?? randomUUID;
    this.incomingCapacity = options.incomingBufferCapacity ?? INCOMING_BUFFER_CAPACITY;
  }

  get handshakeState(): HandshakeState {
    return this.handshake;
  }

  /** True once input may be sent: the handshake completed, or the agent skipped it. */
  get ready(): boolean {
    return this.handshake === 'done' || this.handshake === 'skipped';
  }

  get encrypted(): boolean {
    return this.keys !== null;
  }

  get customerMessage(): string {
    return this.customerMessageText;
  }

  get agentVersion(): string {
    return this.agentVersionText;
  }

  get retransmissionTimeoutMs(): number {
    return this.rtoMs;
  }

  get unackedInputCount(): number {
    return this.outgoing.size;
  }

  /** Frames that arrived beyond a gap and were never delivered. */
  get undeliveredCount(): number {
    return this.incoming.size;
  }

  get nextExpectedSequence(): number {
    return this.expectedSequence;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Handles one binary websocket message. Invalid frames are dropped unacked so the agent resends them. */
  receive(data: Buffer): void {
    if (this.finished) return;
    let frame: Frame;
    try {
      frame = decodeFrame(data);
    } catch (err) {
      if (!(err instanceof SsmProtocolError)) throw err;
      this.stats.invalidFrames++;
      this.options.logger?.warn('dropped an invalid frame', { code: err.code, reason: err.message });
      return;
    }
    this.stats.framesReceived++;
    switch (frame.messageType) {
      case MessageType.OutputStreamData:
        this.receiveStreamData(frame);
        return;
      case MessageType.Acknowledge:
        this.receiveAcknowledge(frame);
        return;
      case MessageType.ChannelClosed:
        this.finish();
        this.options.hooks.closed(parseChannelClosed(frame.payload));
        return;
      default:
        // start_publication / pause_publication concern the agent; input_stream_data never comes our way.
        this.stats.ignoredFrames++;
        this.options.logger?.debug('ignored a frame', { messageType: frame.messageType });
    }
  }

  /**
   * For targets known to have no KMS key (so the agent skips the handshake): lets queued input go
   * before the first output, for commands that read before they print. Never call it otherwise:
   * input that reaches the agent during a handshake is dropped, or worse (spec §11.10).
   */
  assumeHandshakeSkipped(): void {
    if (this.handshake === 'unknown' && !this.finished) this.becomeReady('skipped');
  }

  /** Queues keyboard bytes (PayloadType Output); sent once the session is ready. */
  sendInput(bytes: Buffer): void {
    this.enqueueInput(PayloadType.Output, Buffer.from(bytes));
  }

  /** Queues a terminal Size; sent once the session is ready. */
  sendSize(payload: Buffer): void {
    this.enqueueInput(PayloadType.Size, payload);
  }

  /** Resends the oldest unacked input once it is older than the RTO (as both reference ends do). */
  tick(): void {
    if (this.finished) return;
    const oldest = this.outgoing.values().next();
    if (oldest.done) return;
    if (this.now() - oldest.value.lastSentMs <= this.rtoMs) return;
    this.resend(oldest.value);
  }

  /** After a reconnect: resend the oldest unacked input at once instead of waiting a tick. */
  resendOldest(): void {
    const oldest = this.outgoing.values().next();
    if (oldest.done || this.finished) return;
    this.resend(oldest.value);
  }

  private resend(entry: OutgoingFrame): void {
    entry.lastSentMs = this.now();
    entry.sends++;
    this.stats.retransmissions++;
    this.options.hooks.send(entry.frame);
  }

  /** Stops all processing; later frames are ignored. */
  finish(): void {
    this.finished = true;
  }

  private receiveStreamData(frame: Frame): void {
    const sequence = frame.sequenceNumber;
    if (sequence < this.expectedSequence) {
      // Already delivered: our ack was lost or raced the agent; ack again so it stops resending.
      this.stats.duplicateFrames++;
      this.acknowledge(frame);
      return;
    }
    if (sequence > this.expectedSequence || this.deliveryBlocked) {
      if (this.incoming.has(sequence)) {
        this.stats.duplicateFrames++;
        this.acknowledge(frame);
        return;
      }
      if (this.incoming.size >= this.incomingCapacity) return; // unacked: the agent will resend it
      this.stats.outOfOrderFrames += sequence > this.expectedSequence ? 1 : 0;
      this.incoming.set(sequence, frame);
      // Once acked the agent forgets the frame, so it must never be discarded from here on.
      this.acknowledge(frame);
      this.options.hooks.progress?.();
      return;
    }
    this.acknowledge(frame);
    this.deliver(frame);
    this.drainIncoming();
  }

  private drainIncoming(): void {
    while (!this.deliveryBlocked && !this.finished) {
      const next = this.incoming.get(this.expectedSequence);
      if (next === undefined) return;
      this.incoming.delete(this.expectedSequence);
      this.deliver(next);
    }
  }

  private deliver(frame: Frame): void {
    this.expectedSequence = frame.sequenceNumber + 1;
    this.options.hooks.progress?.();
    switch (frame.payloadType) {
      case PayloadType.Output:
      case PayloadType.StdErr:
        this.deliverOutput(frame);
        return;
      case PayloadType.HandshakeRequest:
        this.handleHandshakeRequest(frame);
        return;
      case PayloadType.EncChallengeRequest:
        this.handleEncryptionChallenge(frame);
        return;
      case PayloadType.HandshakeComplete:
        this.handleHandshakeComplete(frame);
        return;
      default:
        // ExitCode and the rest never come from InteractiveCommands; the sequence number is consumed.
        this.stats.ignoredFrames++;
        this.options.logger?.debug('ignored a stream payload', { payloadType: frame.payloadType });
    }
  }

  private deliverOutput(frame: Frame): void {
    if (this.handshake === 'unknown') this.becomeReady('skipped');
    let bytes = frame.payload;
    if (this.keys !== null) {
      try {
        bytes = openAesGcm(this.keys.agentToClient, frame.payload);
      } catch (err) {
        this.fail(
          new HandshakeError('challenge', 'could not decrypt agent output with the session key', {
            cause: err,
          }),
        );
        return;
      }
    }
    this.stats.outputFrames++;
    if (bytes.length > 0) this.options.hooks.output(bytes);
  }

  private handleHandshakeRequest(frame: Frame): void {
    this.handshake = 'in-progress';
    let request: ReturnType<typeof parseHandshakeRequest>;
    try {
      request = parseHandshakeRequest(frame.payload);
    } catch (err) {
      this.fail(new HandshakeError('bad-request', 'unreadable HandshakeRequest', { cause: err }));
      return;
    }
    this.agentVersionText = request.AgentVersion;
    const kmsAction = request.RequestedClientActions.find(
      (a) => a.ActionType === HandshakeActionType.KmsEncryption,
    );
    // Answer every action in the order asked; anything but Success makes the agent fail the session.
    const resultsWith = (kmsResult: ProcessedClientAction): ProcessedClientAction[] =>
      request.RequestedClientActions.map((a) => {
        if (a.ActionType === HandshakeActionType.SessionType) return sessionTypeResult();
        if (a === kmsAction) return kmsResult;
        return failedActionResult(
          a.ActionType,
          ActionStatus.Unsupported,
          `unsupported action ${a.ActionType}`,
        );
      });
    if (kmsAction === undefined) {
      this.sendHandshakeResponse(resultsWith(sessionTypeResult()));
      return;
    }
    const provider = this.options.dataKeyProvider;
    if (provider === undefined) {
      this.sendHandshakeResponse(
        resultsWith(
          failedActionResult(
            kmsAction.ActionType,
            ActionStatus.Failed,
            'client has no KMS data key provider',
          ),
        ),
      );
      this.fail(
        new HandshakeError(
          'no-key-provider',
          'the agent requires KMS encryption but no data key provider was given',
        ),
      );
      return;
    }
    let keyId: string;
    let challenge: string | undefined;
    try {
      ({ KMSKeyId: keyId, Challenge: challenge } = readKmsParameters(kmsAction));
    } catch (err) {
      this.fail(new HandshakeError('bad-request', 'KMSEncryption action without a key id', { cause: err }));
      return;
    }
    // Hold later frames until the key is here: they may be encrypted (the plugin blocks the same way).
    this.deliveryBlocked = true;
    const timeoutMs = this.options.dataKeyTimeoutMs ?? DATA_KEY_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no data key within ${timeoutMs} ms`)), timeoutMs);
    });
    Promise.race([
      provider({ keyId, sessionId: this.options.sessionId, ...(challenge ? { challenge } : {}) }),
      timeout,
    ])
      .then(
        (dataKey) => {
          if (this.finished) return;
          try {
            this.keys = splitDataKey(dataKey.plaintext);
          } catch (err) {
            this.fail(
              new HandshakeError('data-key', 'the data key provider returned an unusable key', {
                cause: err,
              }),
            );
            return;
          }
          this.sendHandshakeResponse(
            resultsWith(kmsEncryptionResult(dataKey.ciphertextBlob, dataKey.challengeAcknowledged === true)),
          );
          this.deliveryBlocked = false;
          this.drainIncoming();
        },
        (err: unknown) => {
          if (this.finished) return;
          this.sendHandshakeResponse(
            resultsWith(
              failedActionResult(kmsAction.ActionType, ActionStatus.Failed, 'could not generate a data key'),
            ),
          );
          this.fail(
            new HandshakeError('data-key', 'could not get a KMS data key for the session', { cause: err }),
          );
        },
      )
      .finally(() => clearTimeout(timer));
  }

  private sendHandshakeResponse(actions: readonly ProcessedClientAction[]): void {
    this.sendStreamFrame(PayloadType.HandshakeResponse, encodeHandshakeResponse(actions));
  }

  private handleEncryptionChallenge(frame: Frame): void {
    if (this.keys === null) {
      this.fail(new HandshakeError('challenge', 'encryption challenge before a data key was agreed'));
      return;
    }
    try {
      const plaintext = openAesGcm(this.keys.agentToClient, parseChallenge(frame.payload));
      this.sendStreamFrame(
        PayloadType.EncChallengeResponse,
        encodeChallenge(sealAesGcm(this.keys.clientToAgent, plaintext)),
      );
    } catch (err) {
      this.fail(new HandshakeError('challenge', 'could not answer the encryption challenge', { cause: err }));
    }
  }

  private handleHandshakeComplete(frame: Frame): void {
    try {
      this.customerMessageText = parseHandshakeComplete(frame.payload).CustomerMessage;
    } catch {
      // The message only carries a notice for humans; completion itself is what matters.
    }
    this.becomeReady('done');
  }

  private becomeReady(state: 'done' | 'skipped'): void {
    this.handshake = state;
    for (const input of this.pendingInput.splice(0)) this.sendStreamFrame(input.payloadType, input.payload);
  }

  private enqueueInput(payloadType: number, payload: Buffer): void {
    if (this.finished) return;
    if (this.ready) this.sendStreamFrame(payloadType, payload);
    else this.pendingInput.push({ payloadType, payload });
  }

  private sendStreamFrame(payloadType: number, payload: Buffer): void {
    if (this.outgoing.size >= OUTGOING_BUFFER_CAPACITY) {
      this.fail(
        new SessionInterruptedError(`the agent left ${OUTGOING_BUFFER_CAPACITY} input frames unacknowledged`),
      );
      return;
    }
    // Only keyboard bytes are encrypted; Size and handshake payloads stay plaintext (spec §9.4).
    const body =
      payloadType === PayloadType.Output && this.keys !== null
        ? sealAesGcm(this.keys.clientToAgent, payload)
        : payload;
    const sequenceNumber = this.nextInputSequence++;
    const frame = encodeFrame({
      messageType: MessageType.InputStreamData,
      sequenceNumber,
      flags: 0n,
      messageId: this.newMessageId(),
      payloadType,
      payload: body,
      createdDateMs: this.now(),
    });
    this.outgoing.set(sequenceNumber, { frame, lastSentMs: this.now(), sends: 1 });
    this.stats.inputFramesSent++;
    this.options.hooks.send(frame);
  }

  private receiveAcknowledge(frame: Frame): void {
    let sequenceNumber: number;
    try {
      sequenceNumber = parseAcknowledgeContent(frame.payload).AcknowledgedMessageSequenceNumber;
    } catch (err) {
      this.stats.invalidFrames++;
      this.options.logger?.warn('dropped an unreadable acknowledge', { reason: (err as Error).message });
      return;
    }
    const entry = this.outgoing.get(sequenceNumber);
    if (entry === undefined) return;
    this.outgoing.delete(sequenceNumber);
    this.updateRto(this.now() - entry.lastSentMs);
    this.options.hooks.progress?.();
  }

  private updateRto(sampleMs: number): void {
    this.rttVarianceMs =
      (1 - RTTVAR_GAIN) * this.rttVarianceMs + RTTVAR_GAIN * Math.abs(this.rttMs - sampleMs);
    this.rttMs = (1 - RTT_GAIN) * this.rttMs + RTT_GAIN * sampleMs;
    this.rtoMs = Math.min(
      MAX_RTO_MS,
      this.rttMs + Math.max(MIN_RTO_VARIANCE_TERM_MS, RTTVAR_MULTIPLIER * this.rttVarianceMs),
    );
  }

  private acknowledge(frame: Frame): void {
    this.stats.acksSent++;
    this.options.hooks.send(
      encodeAcknowledge(frame, { createdDateMs: this.now(), messageId: this.newMessageId() }),
    );
  }

  private fail(error: SessionError): void {
    if (this.finished) return;
    this.finished = true;
    this.options.hooks.failed(error);
  }
}
