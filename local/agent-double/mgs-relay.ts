/**
 * The message gateway's part of one session: it relays agent frames to the client's current socket
 * and client frames to the agent, ends the client's side with channel_closed, and injects the
 * gateway-level faults. How MGS really behaves is closed source (ssm-protocol.md marks it
 * [service]); the choices here are the likely ones and are written down where they are made:
 *
 * - The agent starts when the client's first open frame arrives, so no output is produced before a
 *   subscriber exists.
 * - When the client's socket goes away without channel_closed, MGS pauses the agent
 *   (pause_publication, §10.2) and un-pauses it when the client resumes; frames the agent sends
 *   meanwhile are lost and come back through its resend scheduler.
 * - channel_closed is a normal binary frame with a valid digest, seq 0, flags 3 (vector V13).
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { encodeFrame } from '../../lambda/ssm/codec';
import { ACK_FLAGS, MessageType, PAYLOAD_DIGEST_OFFSET, PayloadType } from '../../lambda/ssm/constants';
import { AGENT_SESSION_STATE, type AgentLink, AgentSession, type DeliveryInfo } from './agent-session';
import {
  type AgentFaults,
  DEFAULT_REORDER_AFTER_FRAMES,
  DEFAULT_REORDER_MAX_HOLD_MS,
  selects,
} from './faults';
import type { ConnectionRecord, RelayFate, SessionObservation } from './observation';
import type { AgentSessionSpec, ResolvedTiming } from './options';
import { WebSocketWriteBatch } from './write-batch';

/** Above this many unsent bytes on the client socket the agent's writes "block". */
const CONGESTION_HIGH_WATER_BYTES = 4 * 1024 * 1024;
const CONGESTION_LOW_WATER_BYTES = 1024 * 1024;
const CONGESTION_POLL_MS = 1;
export const CLOSE_NORMAL = 1000;
const CORRUPT_DIGEST_MASK = 0xff;
const NO_FLAGS = 0n;
const EMPTY = Buffer.alloc(0);

export interface OpenDataChannelRecord {
  readonly requestId: string;
  readonly clientId: string;
  readonly clientVersion: string | undefined;
}

interface HeldFrame {
  readonly frame: Buffer;
  remainingFrames: number;
  readonly timer: NodeJS.Timeout;
}

export class SessionRelay implements AgentLink {
  readonly agent: AgentSession;
  private readonly faults: AgentFaults;
  private client: WebSocket | undefined;
  /** Frames for `client`, written to its TCP socket once per tick (see write-batch.ts). */
  private clientWrites: WebSocketWriteBatch | undefined;
  private connectionCount = 0;
  private outputOnFirstConnection = 0;
  /** Output sequence numbers relayed at least once: faults hit first relays only. */
  private readonly relayed = new Set<number>();
  private held: HeldFrame[] = [];
  /** Client frames held while a pausePublication fault is active. */
  private clientHold: Buffer[] | undefined;
  private pauseTriggered = false;
  private gone = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** `DestinationId` of channel_closed: the agent's target id. */
  private readonly destinationId: string;

  constructor(
    private readonly sessionId: string,
    spec: AgentSessionSpec,
    timing: ResolvedTiming,
    private readonly observation: SessionObservation,
    /** Called once when the session is over for MGS (tokens stop working, resume fails). */
    private readonly onGone: () => void,
  ) {
    this.faults = spec.faults ?? {};
    this.destinationId = spec.kms?.targetId ?? spec.targetId ?? '';
    this.agent = new AgentSession(sessionId, spec, timing, this, observation);
  }

  get isGone(): boolean {
    return this.gone;
  }

  /**
   * A client socket passed the open frame check.
   * @param socket the TCP socket under `ws`, used only to batch writes; `ws` must not compress.
   */
  attach(ws: WebSocket, socket: Duplex, open: OpenDataChannelRecord): void {
    if (this.gone) {
      ws.close(CLOSE_NORMAL, 'session is no longer active');
      return;
    }
    const previous = this.client;
    if (previous !== undefined) {
      this.flushWrites();
      this.client = undefined;
      previous.close(CLOSE_NORMAL, 'replaced by a newer connection');
    }
    this.connectionCount++;
    const record: ConnectionRecord = {
      index: this.connectionCount,
      requestId: open.requestId,
      clientId: open.clientId,
      clientVersion: open.clientVersion,
      closed: false,
      closeCode: undefined,
    };
    this.observation.connections.push(record);
    this.client = ws;
    this.clientWrites = new WebSocketWriteBatch(ws, socket);
    ws.on('close', (code: number) => {
      record.closed = true;
      record.closeCode = code;
      if (this.client === ws) this.clientLeft();
    });
    if (this.faults.startPublicationFirst === true) this.send(ws, serviceFrame(MessageType.StartPublication));
    if (!this.agent.isStarted) this.agent.start();
    else this.agent.startPublication();
    // Like fromClient: this runs while `ws` parses the client's open frame.
    this.flushWrites();
  }

  /** A binary frame from a client socket. */
  fromClient(ws: WebSocket, data: Buffer): void {
    if (ws !== this.client || this.gone) return;
    if (this.clientHold !== undefined) this.clientHold.push(data);
    else this.agent.receiveFromClient(data);
    // What the agent sent in reply goes out before `ws` parses the next client frame, which may
    // be a close that `ws` answers on the socket at once.
    this.flushWrites();
  }

  /** ssm:TerminateSession. */
  terminate(): void {
    if (this.gone) return;
    this.agent.terminate();
    this.endClientSide('');
  }

  /** Gateway shutdown: kill everything, no goodbyes. */
  shutdown(): void {
    this.agent.terminate();
    this.markGone();
    this.clearTimers();
    // The socket is destroyed: what is still queued is lost, as corked writes would be.
    this.clientWrites?.discard();
    this.clientWrites = undefined;
    this.client?.terminate();
    this.client = undefined;
  }

  // ---- AgentLink ------------------------------------------------------------------------------

  deliver(frame: Buffer, info: DeliveryInfo): RelayFate {
    const ws = this.client;
    if (this.gone || ws === undefined) return 'no-client';
    if (info.messageType === AGENT_SESSION_STATE) {
      // Meant for MGS; forwarding it is the unknownFrames fault.
      if (this.faults.unknownFrames !== true) return 'dropped';
      this.send(ws, frame);
      return 'delivered';
    }
    if (info.messageType !== MessageType.OutputStreamData) {
      this.send(ws, frame);
      return 'delivered';
    }
    const seq = info.sequenceNumber;
    const first = !this.relayed.has(seq);
    this.relayed.add(seq);
    if (!first) {
      this.sendOutput(ws, frame);
      return 'delivered';
    }
    const pause = this.faults.pausePublication;
    if (pause !== undefined && !this.pauseTriggered && seq === pause.atFrame) {
      this.triggerPause(ws, pause.resumeAfterMs);
      return 'paused';
    }
    if (this.faults.drop?.seqs.includes(seq) === true) return 'dropped';
    let out = frame;
    let fate: RelayFate = 'delivered';
    if (this.faults.corruptSeqs?.includes(seq) === true) {
      out = Buffer.from(frame);
      out[PAYLOAD_DIGEST_OFFSET] = (out[PAYLOAD_DIGEST_OFFSET] ?? 0) ^ CORRUPT_DIGEST_MASK;
      fate = 'corrupted';
    }
    const reorder = this.faults.reorder;
    if (reorder?.seqs.includes(seq) === true) {
      this.hold(
        out,
        reorder.afterFrames ?? DEFAULT_REORDER_AFTER_FRAMES,
        reorder.maxHoldMs ?? DEFAULT_REORDER_MAX_HOLD_MS,
      );
      return 'held';
    }
    this.sendOutput(ws, out);
    if (selects(this.faults.duplicate, seq) && this.client === ws) {
      this.sendOutput(ws, out);
      fate = fate === 'corrupted' ? fate : 'duplicated';
    }
    return fate;
  }

  agentClosed(output: string): void {
    this.endClientSide(output);
  }

  whenWritable(): Promise<void> | undefined {
    const ws = this.client;
    if (ws === undefined || this.unsentBytes(ws) < CONGESTION_HIGH_WATER_BYTES) return undefined;
    return new Promise((resolve) => {
      const poll = (): void => {
        if (
          this.client !== ws ||
          ws.readyState !== WebSocket.OPEN ||
          this.unsentBytes(ws) < CONGESTION_LOW_WATER_BYTES
        ) {
          resolve();
        } else {
          setTimeout(poll, CONGESTION_POLL_MS);
        }
      };
      poll();
    });
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Bytes for `ws` not yet taken by the kernel: the socket's buffer plus this tick's batch. */
  private unsentBytes(ws: WebSocket): number {
    return ws.bufferedAmount + (this.clientWrites?.pendingBytes ?? 0);
  }

  private flushWrites(): void {
    this.clientWrites?.flush();
  }

  private endClientSide(output: string): void {
    if (this.gone) return;
    this.markGone();
    const ws = this.client;
    // Everything MGS still holds goes out before the end, on the same socket.
    if (ws !== undefined) this.releaseHeld(ws, () => true);
    this.clearTimers();
    if (this.faults.closeWithoutChannelClosed === true) {
      this.observation.channelClosedOutput = undefined;
    } else {
      this.observation.channelClosedOutput = output;
      if (ws !== undefined) this.send(ws, this.channelClosedFrame(output));
    }
    this.flushWrites();
    ws?.close(CLOSE_NORMAL);
  }

  private markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.onGone();
  }

  private clientLeft(): void {
    // Frames already sent on this connection still go out if it is open (closeAfterFrames).
    this.flushWrites();
    this.client = undefined;
    this.clientWrites = undefined;
    for (const held of this.held) this.clearTimer(held.timer);
    this.held = [];
    // MGS tells the agent its subscriber is gone; it stops publishing until the client resumes.
    if (!this.gone && this.agent.isStarted && !this.agent.isClosed) this.agent.pausePublication();
  }

  /** Relays one output frame and applies closeAfterFrames and reorder bookkeeping. */
  private sendOutput(ws: WebSocket, frame: Buffer): void {
    const limit = this.faults.closeAfterFrames;
    if (limit !== undefined && this.connectionCount === 1) {
      this.outputOnFirstConnection++;
      if (this.outputOnFirstConnection >= limit) {
        // Cut the socket once this frame has reached the kernel: no close frame, no channel_closed.
        this.clientLeft();
        this.send(ws, frame, () => ws.terminate());
        return;
      }
    }
    this.send(ws, frame);
    this.countTowardsHeld(ws);
  }

  private hold(frame: Buffer, afterFrames: number, maxHoldMs: number): void {
    const entry: HeldFrame = {
      frame,
      remainingFrames: afterFrames,
      timer: this.setTimer(() => {
        const ws = this.client;
        if (ws !== undefined) this.releaseHeld(ws, (other) => other === entry);
      }, maxHoldMs),
    };
    this.held.push(entry);
  }

  private countTowardsHeld(ws: WebSocket): void {
    if (this.held.length === 0) return;
    for (const entry of this.held) entry.remainingFrames--;
    this.releaseHeld(ws, (entry) => entry.remainingFrames <= 0);
  }

  /** Sends, in the order they were held, the held frames whose turn has come. */
  private releaseHeld(ws: WebSocket, isDue: (entry: HeldFrame) => boolean): void {
    const due = this.held.filter(isDue);
    if (due.length === 0) return;
    this.held = this.held.filter((entry) => !due.includes(entry));
    for (const entry of due) {
      this.clearTimer(entry.timer);
      this.send(ws, entry.frame);
    }
  }

  /** pause_publication to the client and the agent; client frames wait in MGS until start_publication. */
  private triggerPause(ws: WebSocket, resumeAfterMs: number): void {
    this.pauseTriggered = true;
    this.send(ws, serviceFrame(MessageType.PausePublication));
    this.agent.pausePublication();
    this.clientHold = [];
    this.setTimer(() => {
      const waiting = this.clientHold ?? [];
      this.clientHold = undefined;
      if (this.gone) return;
      if (this.client !== undefined) this.send(this.client, serviceFrame(MessageType.StartPublication));
      this.agent.startPublication();
      for (const data of waiting) this.agent.receiveFromClient(data);
    }, resumeAfterMs);
  }

  private channelClosedFrame(output: string): Buffer {
    const messageId = randomUUID();
    const createdDateMs = Date.now();
    // Field order of the plugin's ChannelClosed struct; CreatedDate is a string here (§7.2).
    const payload = Buffer.from(
      JSON.stringify({
        MessageId: messageId,
        CreatedDate: new Date(createdDateMs).toISOString(),
        DestinationId: this.destinationId,
        SessionId: this.sessionId,
        MessageType: MessageType.ChannelClosed,
        SchemaVersion: 1,
        Output: output,
      }),
      'utf8',
    );
    return encodeFrame({
      messageType: MessageType.ChannelClosed,
      sequenceNumber: 0,
      flags: ACK_FLAGS,
      messageId,
      payloadType: PayloadType.None,
      payload,
      createdDateMs,
    });
  }

  /**
   * ws.send(frame), except that frames sent in one synchronous burst (the agent's reads with no
   * inter-chunk delay) go out in one socket write, which is what keeps the double fast enough for
   * throughput benchmarks. Order and bytes are unchanged.
   */
  private send(ws: WebSocket, frame: Buffer, afterFlush?: () => void): void {
    if (ws.readyState !== WebSocket.OPEN) {
      afterFlush?.();
      return;
    }
    const writes = this.clientWrites;
    if (afterFlush === undefined && writes !== undefined && ws === this.client) {
      writes.add(frame);
      return;
    }
    // Whatever was batched for this socket goes first.
    this.flushWrites();
    if (afterFlush === undefined) ws.send(frame);
    else ws.send(frame, () => afterFlush());
  }

  private setTimer(callback: () => void, delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, delayMs);
    this.timers.add(timer);
    return timer;
  }

  private clearTimer(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/** start_publication / pause_publication: MGS's own frames, no payload. */
function serviceFrame(messageType: string): Buffer {
  return encodeFrame({
    messageType,
    sequenceNumber: 0,
    flags: NO_FLAGS,
    messageId: randomUUID(),
    payloadType: PayloadType.None,
    payload: EMPTY,
    createdDateMs: Date.now(),
  });
}
