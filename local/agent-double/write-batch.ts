/**
 * Binary websocket messages from the gateway to one client, gathered into one socket write per
 * tick. `ws` writes each message as a header buffer plus the payload (two writes, a header
 * allocation and an options object per message), which dominated the double's CPU when it streams
 * output with no inter-chunk delay. The bytes on the wire are exactly what `ws` writes for
 * `ws.send(frame)` on a server socket without compression: FIN, opcode 2 (binary), unmasked
 * (servers never mask), 7-bit / 16-bit / 64-bit payload length.
 *
 * Order: whoever writes to the socket by other means (ws.send with a callback, ws.close, or `ws`
 * itself answering a close or ping while it parses client frames) must call `flush()` first; the
 * relay flushes before its own close calls and after handling each client message, and otherwise
 * the batch is flushed on the next tick, before any other I/O callback can run.
 */
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';

const FIN_BINARY = 0x82;
const MAX_7BIT_LENGTH = 125;
const MAX_16BIT_LENGTH = 0xffff;
const LENGTH_16BIT = 126;
const LENGTH_64BIT = 127;

function headerLength(payloadLength: number): number {
  if (payloadLength <= MAX_7BIT_LENGTH) return 2;
  return payloadLength <= MAX_16BIT_LENGTH ? 4 : 10;
}

/** Writes the header of an unmasked final binary frame at `offset`; returns where the payload goes. */
function writeHeader(target: Buffer, offset: number, payloadLength: number): number {
  target[offset] = FIN_BINARY;
  if (payloadLength <= MAX_7BIT_LENGTH) {
    target[offset + 1] = payloadLength;
    return offset + 2;
  }
  if (payloadLength <= MAX_16BIT_LENGTH) {
    target[offset + 1] = LENGTH_16BIT;
    target.writeUInt16BE(payloadLength, offset + 2);
    return offset + 4;
  }
  target[offset + 1] = LENGTH_64BIT;
  target[offset + 2] = 0;
  target[offset + 3] = 0;
  target.writeUIntBE(payloadLength, offset + 4, 6);
  return offset + 10;
}

export class WebSocketWriteBatch {
  private frames: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;

  /**
   * @param ws the server-side websocket; it must not use permessage-deflate (its sender would
   *   then queue messages, and a raw write could overtake them).
   * @param socket the TCP socket under `ws`.
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
  ) {}

  /** Bytes added but not yet handed to the socket (ws.bufferedAmount does not see them). */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Queues one binary message; `frame` is copied at flush time and must not change until then. */
  add(frame: Buffer): void {
    this.frames.push(frame);
    this.bytes += headerLength(frame.length) + frame.length;
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Writes everything queued, in order, as one socket write (nothing if the websocket is not open). */
  flush(): void {
    if (this.frames.length === 0) return;
    const frames = this.frames;
    const bytes = this.bytes;
    this.discard();
    // ws.send drops messages once the websocket is closing; so does this.
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const out = Buffer.allocUnsafe(bytes);
    let offset = 0;
    for (const frame of frames) {
      offset = writeHeader(out, offset, frame.length);
      offset += frame.copy(out, offset);
    }
    this.socket.write(out);
  }

  /** Forgets what is queued (the socket is being destroyed anyway). */
  discard(): void {
    this.frames = [];
    this.bytes = 0;
  }
}
