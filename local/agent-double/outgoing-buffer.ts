/**
 * The agent's OutgoingMessageBuffer and its retransmission timeout (ssm-protocol.md §5.4,
 * amazon-ssm-agent datachannel.go): messages kept in send order until the client acks their
 * sequence number; every matching ack feeds the RTO estimate, measured from the *last* send of the
 * message (no Karn rule).
 */
import type { ResolvedTiming } from './options';

const RTTVAR_GAIN = 0.25;
const RTT_GAIN = 0.125;
const RTTVAR_MULTIPLIER = 4;

export interface OutgoingMessage {
  readonly sequenceNumber: number;
  readonly payloadType: number;
  /** Encoded once; every retransmission sends these same bytes. */
  readonly frame: Buffer;
  readonly payloadLength: number;
  lastSentMs: number;
}

export type RtoTiming = Pick<
  ResolvedTiming,
  'initialRttMs' | 'initialRtoMs' | 'maxRtoMs' | 'clockGranularityMs' | 'outgoingBufferCapacity'
>;

export class OutgoingBuffer {
  /** Insertion (= send) order, so the first entry is the oldest unacked message. */
  private readonly messages = new Map<number, OutgoingMessage>();
  private roundTripTimeMs: number;
  private roundTripTimeVariationMs = 0;
  private retransmissionTimeoutMs: number;
  private emptyWaiters: (() => void)[] = [];

  constructor(private readonly timing: RtoTiming) {
    this.roundTripTimeMs = timing.initialRttMs;
    this.retransmissionTimeoutMs = timing.initialRtoMs;
  }

  get size(): number {
    return this.messages.size;
  }

  get rtoMs(): number {
    return this.retransmissionTimeoutMs;
  }

  /** False when the buffer is full: the message was sent once and will never be resent (datachannel.go:592-599). */
  add(message: OutgoingMessage): boolean {
    if (this.messages.size >= this.timing.outgoingBufferCapacity) return false;
    this.messages.set(message.sequenceNumber, message);
    return true;
  }

  oldest(): OutgoingMessage | undefined {
    return this.messages.values().next().value;
  }

  /** ProcessAcknowledgedMessage + calculateRetransmissionTimeout; false for an unknown sequence number. */
  acknowledge(sequenceNumber: number, nowMs: number): boolean {
    const message = this.messages.get(sequenceNumber);
    if (message === undefined) return false;
    const sampleMs = nowMs - message.lastSentMs;
    this.roundTripTimeVariationMs =
      (1 - RTTVAR_GAIN) * this.roundTripTimeVariationMs +
      RTTVAR_GAIN * Math.abs(this.roundTripTimeMs - sampleMs);
    this.roundTripTimeMs = (1 - RTT_GAIN) * this.roundTripTimeMs + RTT_GAIN * sampleMs;
    this.retransmissionTimeoutMs = Math.min(
      this.timing.maxRtoMs,
      this.roundTripTimeMs +
        Math.max(this.timing.clockGranularityMs, RTTVAR_MULTIPLIER * this.roundTripTimeVariationMs),
    );
    this.messages.delete(sequenceNumber);
    if (this.messages.size === 0) this.wakeEmptyWaiters();
    return true;
  }

  /** Resolves when every message is acked (or the buffer is released). */
  whenEmpty(): Promise<void> {
    if (this.messages.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** The session is over: nothing will be resent, nobody waits any more. */
  release(): void {
    this.messages.clear();
    this.wakeEmptyWaiters();
  }

  private wakeEmptyWaiters(): void {
    const waiters = this.emptyWaiters;
    this.emptyWaiters = [];
    for (const wake of waiters) wake();
  }
}
