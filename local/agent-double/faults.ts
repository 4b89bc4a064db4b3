/**
 * Faults the double can inject. Each one is off by default and reproduces something the real
 * message gateway (MGS) or agent can do to a client (ssm-protocol.md §5, §10, §11 and
 * real-agent-findings.md). Faults on output frames apply to the *first* relay of a sequence
 * number only, so the agent's retransmission always repairs them.
 */

export interface SeqSelector {
  /** Exactly these sequence numbers. */
  readonly seqs?: readonly number[];
  /** Every n-th output frame: seq n-1, 2n-1, … */
  readonly everyNth?: number;
}

export interface ReorderFault {
  /** Frames held back on their first relay. */
  readonly seqs: readonly number[];
  /** Released after this many later output frames went out. @default 2 */
  readonly afterFrames?: number;
  /** Released after this long even if no later frame comes (the last frames of a session). @default 100 */
  readonly maxHoldMs?: number;
}

export interface PausePublicationFault {
  /** Output sequence number at which MGS pauses publication (that frame goes out only via the resend scheduler). */
  readonly atFrame: number;
  readonly resumeAfterMs: number;
}

export interface AckRaceFault {
  /** Frames affected; all when absent. */
  readonly seqs?: readonly number[];
  /** How late the agent records a sent frame as awaiting its ack. @default 20 */
  readonly delayMs?: number;
}

export interface AgentFaults {
  /** MGS relays these output frames twice. */
  readonly duplicate?: SeqSelector;
  /** MGS holds these output frames back and relays them after later ones. */
  readonly reorder?: ReorderFault;
  /** MGS loses the first transmission of these output frames. */
  readonly drop?: { readonly seqs: readonly number[] };
  /** MGS relays these output frames once with a wrong PayloadDigest. */
  readonly corruptSeqs?: readonly number[];
  /** MGS cuts the client's first connection (no close frame, no channel_closed) after this many output frames. */
  readonly closeAfterFrames?: number;
  /** MGS sends pause_publication to the client and pauses the agent (§10.2), then resumes it. */
  readonly pausePublication?: PausePublicationFault;
  /** MGS sends start_publication right after each successful open. */
  readonly startPublicationFirst?: boolean;
  /** The agent sends its acks of client input this much later. */
  readonly delayAcksMs?: number;
  /** The agent records a sent frame as awaiting ack only after a delay, so a very fast ack is ignored. */
  readonly ackRace?: boolean | AckRaceFault;
  /** Overrides `timing.handshakeTimeoutMs`. */
  readonly handshakeTimeoutMs?: number;
  /** MGS ends the session by closing the socket (code 1000) without a channel_closed. */
  readonly closeWithoutChannelClosed?: boolean;
  /** `Output` of the final channel_closed instead of "". */
  readonly channelClosedOutput?: string;
  /** MGS forwards the agent's `agent_session_state` frames, which a client must ignore. */
  readonly unknownFrames?: boolean;
  /** The agent's U+FFFD bug (§8.2): a valid U+FFFD is held back like an invalid byte and sent as the single byte EF. */
  readonly fffdBug?: boolean;
}

export const DEFAULT_REORDER_AFTER_FRAMES = 2;
export const DEFAULT_REORDER_MAX_HOLD_MS = 100;
export const DEFAULT_ACK_RACE_DELAY_MS = 20;

export function selects(selector: SeqSelector | undefined, seq: number): boolean {
  if (selector === undefined) return false;
  if (selector.seqs?.includes(seq)) return true;
  const n = selector.everyNth;
  return n !== undefined && n > 0 && (seq + 1) % n === 0;
}

/** The ack-race delay for a frame, or undefined when the frame is recorded at once. */
export function ackRaceDelayMs(fault: AgentFaults['ackRace'], seq: number): number | undefined {
  if (fault === undefined || fault === false) return undefined;
  if (fault === true) return DEFAULT_ACK_RACE_DELAY_MS;
  if (fault.seqs !== undefined && !fault.seqs.includes(seq)) return undefined;
  return fault.delayMs ?? DEFAULT_ACK_RACE_DELAY_MS;
}
