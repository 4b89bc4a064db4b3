import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { ConnectError } from './errors';
import { type ReadModerationOptions, ReadModerator } from './read-moderation';

/** How long a websocket may take to open; the token is short-lived, so this is short too. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface ConnectionHandlers {
  binary(data: Buffer): void;
  /** The socket closed for whatever reason (normal or not). */
  closed(code: number, reason: string): void;
  /** A pong came back: the path to the gateway is alive. */
  alive?(): void;
}

export interface ConnectionOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** How the socket is read while frames trickle in; see read-moderation.ts. */
  readonly readModeration?: ReadModerationOptions;
}

/** The only code that touches `ws`: one websocket to the gateway, binary frames in and out. */
export class DataChannelConnection {
  private closedOnce = false;
  private corked = false;
  private readonly reads: ReadModerator;

  private constructor(
    private readonly socket: WebSocket,
    private readonly handlers: ConnectionHandlers,
    private readonly tcp: Socket | undefined,
    readModeration: ReadModerationOptions | undefined,
  ) {
    this.reads = new ReadModerator(socket, readModeration);
    // Added after ws's own listener: the frames of this read are handled (and acked) first.
    tcp?.on('data', (chunk: Buffer) => this.reads.afterRead(chunk.length));
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!isBinary) return; // the data channel speaks binary only after the open frame
      this.batchWrites();
      this.handlers.binary(toBuffer(data));
    });
    socket.on('pong', () => this.handlers.alive?.());
    socket.on('close', (code: number, reason: Buffer) => {
      this.reads.stop();
      this.notifyClosed(code, reason.toString('utf8'));
    });
    socket.on('error', () => {
      // 'close' always follows 'error' in ws; handle the end there, once.
    });
  }

  /** Dials `url` exactly as given (no subprotocol, no extra headers) and waits until it is open. */
  static open(
    url: string,
    handlers: ConnectionHandlers,
    options: ConnectionOptions = {},
  ): Promise<DataChannelConnection> {
    const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      const fail = (err: Error): void => {
        cleanup();
        // terminate() on a socket still connecting makes ws emit 'error' once more; with no
        // listener left that would be an uncaught exception that kills the whole process.
        socket.on('error', () => {});
        socket.terminate();
        reject(new ConnectError(`could not open the data channel websocket: ${err.message}`, { cause: err }));
      };
      const onError = (err: Error): void => fail(err);
      const onAbort = (): void => fail(new Error('aborted'));
      const onUnexpected = (_req: unknown, res: { statusCode?: number }): void =>
        fail(new Error(`gateway answered HTTP ${res.statusCode ?? '?'}`));
      let tcp: Socket | undefined;
      const onUpgrade = (response: IncomingMessage): void => {
        tcp = response.socket;
      };
      const onOpen = (): void => {
        cleanup();
        resolve(new DataChannelConnection(socket, handlers, tcp, options.readModeration));
      };
      const cleanup = (): void => {
        socket.off('open', onOpen);
        socket.off('upgrade', onUpgrade);
        socket.off('error', onError);
        socket.off('unexpected-response', onUnexpected);
        options.signal?.removeEventListener('abort', onAbort);
      };
      socket.once('upgrade', onUpgrade);
      socket.once('open', onOpen);
      socket.once('error', onError);
      socket.once('unexpected-response', onUnexpected);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  sendText(text: string): void {
    if (this.isOpen) this.socket.send(text, { binary: false });
  }

  sendBinary(frame: Buffer): void {
    if (this.isOpen) this.socket.send(frame, { binary: true });
  }

  ping(): void {
    if (this.isOpen) this.socket.ping();
  }

  /** Bytes queued in the socket but not yet written; used for flow control. */
  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(1000);
      // A peer that never answers the close handshake must not keep us waiting.
      setTimeout(() => this.socket.terminate(), 1000).unref();
    }
  }

  terminate(): void {
    this.socket.terminate();
  }

  /**
   * Every received frame is answered with an ack; one TCP read often holds many frames (read
   * moderation sees to that at the agent's pace). Corking until the end of the tick turns their
   * acks into one write instead of one syscall each.
   */
  private batchWrites(): void {
    if (this.corked || this.tcp === undefined) return;
    this.corked = true;
    this.tcp.cork();
    process.nextTick(() => {
      this.corked = false;
      this.tcp?.uncork();
    });
  }

  private notifyClosed(code: number, reason: string): void {
    if (this.closedOnce) return;
    this.closedOnce = true;
    this.handlers.closed(code, reason);
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
