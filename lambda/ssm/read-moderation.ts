/**
 * Reads a trickling socket in batches, like a network card's interrupt moderation.
 *
 * Why: the real agent sends one frame, then sleeps ≥ 1 ms (real-agent-findings.md), so without
 * this every frame costs the client its own wake-up, socket read and — because each frame is
 * acked — socket write: a third of the client's CPU went to those ack writes alone. After a small
 * read the socket is left unread for a few milliseconds; the frames that arrive meanwhile wait in
 * the kernel, are read together, and their acks leave in one socket write at the end of that turn
 * (the transport corks the socket while it handles a read). Every frame is still acked,
 * duplicates included; only the reads and writes are shared.
 *
 * The pause bounds how late an ack can be. The agent resends a frame once it is older than its
 * retransmission timeout, its smoothed round trip plus at least 10 ms (200 ms before the first
 * sample); the round trips it measures include this pause, so a pause under that margin never
 * makes it resend.
 *
 * Only a trickle is moderated: when more than `streamingBytes` arrived within about one pause
 * (several times what the agent's pace allows), output is streaming (a local agent double without
 * pacing, a burst of acks for our input) and the socket is read without pauses, as fast as it fills.
 */

/** How long the socket stays unread after a read while data trickles in. */
export const READ_PAUSE_MS = 10;
/**
 * Bytes per pause period from which the socket counts as streaming: 32 KiB per 10 ms is 3.3 MB/s,
 * five times the real agent's ~0.65 MB/s.
 */
export const STREAMING_BYTES = 32 * 1024;

/** Runs `callback` after `delayMs`; returns a function that cancels it. */
export type Schedule = (callback: () => void, delayMs: number) => () => void;

export const scheduleWithTimer: Schedule = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  return () => clearTimeout(timer);
};

/** What the moderator pauses: the websocket (its `pause` stops reading the socket under it). */
export interface PausableReader {
  pause(): void;
  resume(): void;
}

export interface ReadModerationOptions {
  /** 0 turns moderation off. @default READ_PAUSE_MS */
  readonly pauseMs?: number;
  /** @default STREAMING_BYTES */
  readonly streamingBytes?: number;
  /** The timer seam. @default scheduleWithTimer */
  readonly schedule?: Schedule;
  /** The clock seam, in milliseconds. @default performance.now */
  readonly now?: () => number;
}

export class ReadModerator {
  private cancelResume: (() => void) | undefined;
  /** Bytes read lately, decaying by e every pause period: the recent read rate times the period. */
  private recentBytes = 0;
  private lastReadMs: number;
  private readonly pauseMs: number;
  private readonly streamingBytes: number;
  private readonly schedule: Schedule;
  private readonly now: () => number;

  constructor(
    private readonly reader: PausableReader,
    options: ReadModerationOptions = {},
  ) {
    this.pauseMs = options.pauseMs ?? READ_PAUSE_MS;
    this.streamingBytes = options.streamingBytes ?? STREAMING_BYTES;
    this.schedule = options.schedule ?? scheduleWithTimer;
    this.now = options.now ?? (() => performance.now());
    this.lastReadMs = this.now();
  }

  /** True while the socket is left unread. */
  get paused(): boolean {
    return this.cancelResume !== undefined;
  }

  /** Called after each socket read with its size. */
  afterRead(bytes: number): void {
    if (this.pauseMs === 0) return;
    const nowMs = this.now();
    this.recentBytes = this.recentBytes * Math.exp(-(nowMs - this.lastReadMs) / this.pauseMs) + bytes;
    this.lastReadMs = nowMs;
    if (this.paused || this.recentBytes >= this.streamingBytes) return;
    this.reader.pause();
    this.cancelResume = this.schedule(() => {
      this.cancelResume = undefined;
      this.reader.resume();
    }, this.pauseMs);
  }

  /** Forgets a pending resume (the socket is closing). */
  stop(): void {
    this.cancelResume?.();
    this.cancelResume = undefined;
  }
}
