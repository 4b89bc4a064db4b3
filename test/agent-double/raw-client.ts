/**
 * A tiny, deliberately simple data-channel client for testing the agent double: ws + our codec,
 * no production client code. It acks every output frame (duplicates included) unless told not to,
 * reorders by sequence number, answers the KMS handshake with fake-kms, and records everything.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import {
  decodeFrame,
  encodeAcknowledge,
  encodeFrame,
  encodeOpenDataChannel,
  type Frame,
  parseAcknowledgeContent,
} from '../../lambda/ssm/codec';
import { MessageType, PayloadType } from '../../lambda/ssm/constants';
import { type DirectionalKeys, openAesGcm, sealAesGcm, splitDataKey } from '../../lambda/ssm/crypto';
import { SsmProtocolError } from '../../lambda/ssm/errors';
import {
  type ChannelClosed,
  encodeChallenge,
  encodeHandshakeResponse,
  kmsEncryptionResult,
  parseChallenge,
  parseChannelClosed,
  parseHandshakeComplete,
  parseHandshakeRequest,
  readKmsParameters,
  sessionTypeResult,
} from '../../lambda/ssm/handshake';
import { MessageGatewayDouble } from '../../local/agent-double';
import { generateDataKey } from '../../local/fake-kms';

const DEFAULT_WAIT_MS = 5000;
const INPUT_RESEND_TICK_MS = 50;
const INPUT_RESEND_AFTER_MS = 100;

const POLL_MS = 5;

/** Polls state that has no event to await (the double's observation), up to `timeoutMs`. */
export async function eventually(
  predicate: () => boolean,
  what: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export interface RawClientOptions {
  /** Ack output frames (default true). */
  readonly autoAck?: boolean;
  /** Answer a KMS HandshakeRequest with this target id in the encryption context. */
  readonly kmsTargetId?: string;
  /** Send ChallengeAcknowledgement and put aws:ssm:RandomChallenge in the context. */
  readonly challengeAcknowledgement?: boolean;
  /** Never answer the handshake (to see the agent time out). */
  readonly ignoreHandshake?: boolean;
  /** Send this text as the open frame instead of a valid OpenDataChannelInput. */
  readonly openFrame?: string;
}

export interface Arrival {
  readonly frame: Frame;
  readonly atMs: number;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export class RawClient {
  /** Every frame decoded, in arrival order, duplicates included. */
  readonly arrivals: Arrival[] = [];
  /** Stream messages in sequence order, payloads decrypted. */
  readonly delivered: Frame[] = [];
  readonly decodeErrors: string[] = [];
  readonly unknownTypes: string[] = [];
  readonly acksReceived: number[] = [];
  channelClosed: ChannelClosed | undefined;
  customerMessage: string | undefined;
  closeInfo: CloseInfo | undefined;
  private ws: WebSocket | undefined;
  private expected = 0;
  private readonly pending = new Map<number, Frame>();
  private nextInputSeq = 0;
  private readonly unacked = new Map<number, { frame: Buffer; sentAtMs: number }>();
  private keys: DirectionalKeys | undefined;
  private waiters: (() => void)[] = [];
  private readonly resendTimer: NodeJS.Timeout;
  private readonly clientId = randomUUID();

  private constructor(
    readonly sessionId: string,
    private readonly options: RawClientOptions,
  ) {
    this.resendTimer = setInterval(() => this.resendInput(), INPUT_RESEND_TICK_MS);
  }

  static async connect(
    session: { sessionId: string; streamUrl: string; tokenValue: string },
    options: RawClientOptions = {},
  ): Promise<RawClient> {
    const client = new RawClient(session.sessionId, options);
    await client.reconnect(session.streamUrl, session.tokenValue, options.openFrame);
    return client;
  }

  /** Opens a (new) connection and sends the open frame; state is kept, as a resuming client does. */
  async reconnect(streamUrl: string, tokenValue: string, openFrame?: string): Promise<void> {
    const ws = new WebSocket(streamUrl);
    this.ws = ws;
    this.closeInfo = undefined;
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (this.ws === ws)
        this.onMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.ws === ws) this.closeInfo = { code, reason: reason.toString('utf8') };
      this.notify();
    });
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(
      openFrame ?? encodeOpenDataChannel({ requestId: randomUUID(), tokenValue, clientId: this.clientId }),
    );
  }

  /** Output payloads in sequence order, concatenated. */
  output(): Buffer {
    return Buffer.concat(
      this.delivered
        .filter((frame) => frame.payloadType === PayloadType.Output)
        .map((frame) => frame.payload),
    );
  }

  outputText(): string {
    return this.output().toString('utf8');
  }

  /** Sequence numbers of output_stream_data frames in arrival order. */
  arrivalSeqs(): number[] {
    return this.arrivals
      .filter(({ frame }) => frame.messageType === MessageType.OutputStreamData)
      .map(({ frame }) => frame.sequenceNumber);
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  waitForChannelClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.waitFor(() => this.channelClosed !== undefined, 'channel_closed', timeoutMs);
  }

  waitForSocketClose(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.waitFor(() => this.closeInfo !== undefined, 'the socket to close', timeoutMs);
  }

  /** Sends the next input_stream_data and resends it until acked. */
  sendInput(payloadType: number, payload: Buffer | string): number {
    const sequenceNumber = this.nextInputSeq++;
    const frame = this.buildInput(sequenceNumber, payloadType, payload);
    this.unacked.set(sequenceNumber, { frame, sentAtMs: performance.now() });
    this.sendRaw(frame);
    return sequenceNumber;
  }

  /** An input_stream_data frame; Output payloads are encrypted once a data key exists. */
  buildInput(sequenceNumber: number, payloadType: number, payload: Buffer | string): Buffer {
    const bytes = Buffer.from(payload);
    const body =
      this.keys !== undefined && payloadType === PayloadType.Output
        ? sealAesGcm(this.keys.clientToAgent, bytes)
        : bytes;
    return encodeFrame({
      messageType: MessageType.InputStreamData,
      sequenceNumber,
      flags: 0n,
      messageId: randomUUID(),
      payloadType,
      payload: body,
      createdDateMs: Date.now(),
    });
  }

  sendRaw(frame: Buffer): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  ack(frame: Frame): void {
    this.sendRaw(encodeAcknowledge(frame, { createdDateMs: Date.now(), messageId: randomUUID() }));
  }

  /** Drops the socket without a close frame, as a network failure would. */
  cut(): void {
    this.ws?.terminate();
  }

  close(): void {
    clearInterval(this.resendTimer);
    this.ws?.terminate();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.decodeErrors.push('text frame');
      this.notify();
      return;
    }
    let frame: Frame;
    try {
      frame = decodeFrame(data);
    } catch (err) {
      if (err instanceof SsmProtocolError && err.code === 'SSM_ERR_UNKNOWN_MESSAGE_TYPE') {
        this.unknownTypes.push(data.toString('latin1', 4, 36).trim());
      } else {
        this.decodeErrors.push(err instanceof SsmProtocolError ? err.code : String(err));
      }
      this.notify();
      return;
    }
    this.arrivals.push({ frame, atMs: performance.now() });
    switch (frame.messageType) {
      case MessageType.Acknowledge: {
        const seq = parseAcknowledgeContent(frame.payload).AcknowledgedMessageSequenceNumber;
        this.acksReceived.push(seq);
        this.unacked.delete(seq);
        break;
      }
      case MessageType.ChannelClosed:
        this.channelClosed = parseChannelClosed(frame.payload);
        break;
      case MessageType.OutputStreamData:
        this.onOutput(frame);
        break;
      default:
        break;
    }
    this.notify();
  }

  private onOutput(frame: Frame): void {
    if (this.options.autoAck !== false) this.ack(frame);
    if (frame.sequenceNumber < this.expected) return;
    if (frame.sequenceNumber > this.expected) {
      this.pending.set(frame.sequenceNumber, frame);
      return;
    }
    this.deliver(frame);
    for (
      let next = this.pending.get(this.expected);
      next !== undefined;
      next = this.pending.get(this.expected)
    ) {
      this.pending.delete(next.sequenceNumber);
      this.deliver(next);
    }
  }

  private deliver(frame: Frame): void {
    this.expected = frame.sequenceNumber + 1;
    let payload = frame.payload;
    if (this.keys !== undefined && frame.payloadType === PayloadType.Output) {
      payload = openAesGcm(this.keys.agentToClient, payload);
    }
    this.delivered.push({ ...frame, payload });
    if (this.options.ignoreHandshake === true) return;
    if (frame.payloadType === PayloadType.HandshakeRequest) this.answerHandshake(frame.payload);
    if (frame.payloadType === PayloadType.EncChallengeRequest && this.keys !== undefined) {
      const plaintext = openAesGcm(this.keys.agentToClient, parseChallenge(frame.payload));
      this.sendInput(
        PayloadType.EncChallengeResponse,
        encodeChallenge(sealAesGcm(this.keys.clientToAgent, plaintext)),
      );
    }
    if (frame.payloadType === PayloadType.HandshakeComplete) {
      this.customerMessage = parseHandshakeComplete(frame.payload).CustomerMessage;
    }
  }

  private answerHandshake(payload: Buffer): void {
    const request = parseHandshakeRequest(payload);
    const actions = request.RequestedClientActions.map((action) => {
      if (action.ActionType !== 'KMSEncryption') return sessionTypeResult();
      const { KMSKeyId, Challenge } = readKmsParameters(action);
      const context: Record<string, string> = {
        'aws:ssm:SessionId': this.sessionId,
        'aws:ssm:TargetId': this.options.kmsTargetId ?? '',
      };
      const acknowledge = this.options.challengeAcknowledgement === true && Challenge !== undefined;
      if (acknowledge) context['aws:ssm:RandomChallenge'] = Challenge;
      const dataKey = generateDataKey({ keyId: KMSKeyId, numberOfBytes: 64, encryptionContext: context });
      this.keys = splitDataKey(dataKey.plaintext);
      const result = kmsEncryptionResult(dataKey.ciphertextBlob);
      return acknowledge
        ? { ...result, ActionResult: { ...result.ActionResult, ChallengeAcknowledgement: true } }
        : result;
    });
    this.sendInput(PayloadType.HandshakeResponse, encodeHandshakeResponse(actions));
  }

  private resendInput(): void {
    const now = performance.now();
    for (const entry of this.unacked.values()) {
      if (now - entry.sentAtMs > INPUT_RESEND_AFTER_MS) {
        entry.sentAtMs = now;
        this.sendRaw(entry.frame);
      }
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * A fresh gateway per test and every client closed after it: the set-up each agent-double test
 * file shares. Returns `connect`, which opens a RawClient that is closed after the test.
 */
export function useGatewayPerTest(
  onStart: (gateway: MessageGatewayDouble) => void,
): (...args: Parameters<typeof RawClient.connect>) => Promise<RawClient> {
  let gateway: MessageGatewayDouble | undefined;
  const clients: RawClient[] = [];
  beforeEach(async () => {
    gateway = await MessageGatewayDouble.start();
    onStart(gateway);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await gateway?.close();
  });
  return async (...args) => {
    const client = await RawClient.connect(...args);
    clients.push(client);
    return client;
  };
}
