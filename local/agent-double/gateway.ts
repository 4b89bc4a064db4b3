/**
 * A local double of the SSM message gateway (MGS, `ssmmessages`) with an agent behind each session:
 * the websocket server a client dials at `streamUrl`, the tokens it authenticates with, and
 * ssm:ExecuteCommand / ResumeSession / TerminateSession as plain method calls.
 *
 * A connection must open with one text frame (OpenDataChannelInput, ssm-protocol.md §4): JSON with
 * MessageSchemaVersion "1.0", RequestId, ClientId and a TokenValue that is valid, unused and meant
 * for this session. Anything else closes the socket with 1008 and a short reason. Tokens are never
 * logged or recorded.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { MESSAGE_SCHEMA_VERSION } from '../../lambda/ssm/constants';
import { SessionRelay } from './mgs-relay';
import { type AgentSessionObservation, SessionObservation } from './observation';
import { type AgentSessionSpec, resolveTiming, validateSpec } from './options';

export interface GatewayOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
}

export interface CreatedSession {
  readonly sessionId: string;
  readonly streamUrl: string;
  readonly tokenValue: string;
}

const DATA_CHANNEL_PATH = /^\/v1\/data-channel\/([^/]+)$/;
const ROLE = 'publish_subscribe';
const SESSION_ID_PREFIX = 'ecs-execute-command-';
/** Real ids end in 17 hex digits (`ecs-execute-command-0123456789abcdef0`). */
const SESSION_ID_HEX_DIGITS = 17;
const TOKEN_BYTES = 96;
const CLOSE_POLICY_VIOLATION = 1008;
/** How long close() waits for killed commands to be reaped before it gives up on them. */
const SHUTDOWN_EXIT_WAIT_MS = 2000;

interface TokenRecord {
  readonly sessionId: string;
  readonly expiresAtMs: number;
}

interface SessionEntry {
  readonly relay: SessionRelay;
  readonly observation: SessionObservation;
  readonly tokenTtlMs: number;
}

type OpenCheck =
  | { readonly requestId: string; readonly clientId: string; readonly clientVersion?: string }
  | { readonly error: string };

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export class MessageGatewayDouble {
  readonly url: string;
  private readonly sessions = new Map<string, SessionEntry>();
  /** tokenValue → session; a token is deleted when used, so it works once. */
  private readonly tokens = new Map<string, TokenRecord>();
  private closing: Promise<void> | undefined;
  /** Sessions created and not ended yet. */
  private readonly live = new Set<string>();
  private peak = 0;

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    host: string,
    port: number,
  ) {
    this.url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}`;
    server.on('upgrade', (request, socket, head) => this.onUpgrade(request, socket, head));
  }

  static async start(options: GatewayOptions = {}): Promise<MessageGatewayDouble> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer((_request, response) => {
      response.writeHead(404).end();
    });
    // No compression: the real services do not negotiate it, and it would only cost CPU here.
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    return new MessageGatewayDouble(server, wss, host, address.port);
  }

  /** ecs:ExecuteCommand: a new session with its stream URL and a first single-use token. */
  createSession(spec: AgentSessionSpec): CreatedSession {
    if (this.closing !== undefined) throw new Error('the gateway is closed');
    validateSpec(spec);
    const timing = resolveTiming(spec);
    const sessionId = `${SESSION_ID_PREFIX}${randomBytes(SESSION_ID_HEX_DIGITS).toString('hex').slice(0, SESSION_ID_HEX_DIGITS)}`;
    const observation = new SessionObservation(sessionId, timing.initialRtoMs);
    const relay = new SessionRelay(sessionId, spec, timing, observation, () => this.forgetTokens(sessionId));
    this.sessions.set(sessionId, { relay, observation, tokenTtlMs: timing.tokenTtlMs });
    this.live.add(sessionId);
    this.peak = Math.max(this.peak, this.live.size);
    const ended = (): void => {
      this.live.delete(sessionId);
    };
    observation.ended.then(ended, ended);
    return {
      sessionId,
      streamUrl: this.streamUrl(sessionId),
      tokenValue: this.issueToken(sessionId, timing.tokenTtlMs),
    };
  }

  /** ssm:ResumeSession: a new single-use token for the same stream URL. */
  resumeSession(sessionId: string): { tokenValue: string; streamUrl: string } {
    const entry = this.entry(sessionId);
    if (entry.relay.isGone) throw new Error(`session ${sessionId} is no longer active`);
    return { tokenValue: this.issueToken(sessionId, entry.tokenTtlMs), streamUrl: this.streamUrl(sessionId) };
  }

  /** ssm:TerminateSession: SIGKILL the command, close its pty, send channel_closed. Idempotent. */
  terminateSession(sessionId: string): void {
    this.entry(sessionId).relay.terminate();
  }

  /** Sessions created and not ended yet: what a container's exec-session quota would count. */
  get liveSessionCount(): number {
    return this.live.size;
  }

  /** Whether session `sessionId` was created here and has not ended. */
  isLive(sessionId: string): boolean {
    return this.live.has(sessionId);
  }

  /** The most sessions live at once since the gateway started or {@link resetPeakLiveSessions}. */
  get peakLiveSessions(): number {
    return this.peak;
  }

  resetPeakLiveSessions(): void {
    this.peak = this.live.size;
  }

  /** The live record of what happened in a session. */
  session(sessionId: string): AgentSessionObservation {
    return this.entry(sessionId).observation;
  }

  /** Kills every command and closes every socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const { relay } of this.sessions.values()) relay.shutdown();
    this.tokens.clear();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const ended = Promise.all([...this.sessions.values()].map(({ observation }) => observation.ended));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ended,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_EXIT_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  private entry(sessionId: string): SessionEntry {
    const entry = this.sessions.get(sessionId);
    if (entry === undefined) throw new Error(`unknown session ${sessionId}`);
    return entry;
  }

  private streamUrl(sessionId: string): string {
    return `${this.url}/v1/data-channel/${sessionId}?role=${ROLE}`;
  }

  private issueToken(sessionId: string, ttlMs: number): string {
    const nowMs = Date.now();
    for (const [unused, token] of this.tokens) if (token.expiresAtMs < nowMs) this.tokens.delete(unused);
    const tokenValue = randomBytes(TOKEN_BYTES).toString('base64url');
    this.tokens.set(tokenValue, { sessionId, expiresAtMs: nowMs + ttlMs });
    return tokenValue;
  }

  private forgetTokens(sessionId: string): void {
    for (const [tokenValue, token] of this.tokens) {
      if (token.sessionId === sessionId) this.tokens.delete(tokenValue);
    }
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing !== undefined) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://gateway.invalid');
    const sessionId = DATA_CHANNEL_PATH.exec(url.pathname)?.[1];
    if (sessionId === undefined || url.searchParams.get('role') !== ROLE) {
      rejectUpgrade(socket, 400, 'Bad Request');
      return;
    }
    const entry = this.sessions.get(sessionId);
    if (entry === undefined) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws, socket, sessionId, entry));
  }

  private onConnection(ws: WebSocket, socket: Duplex, sessionId: string, entry: SessionEntry): void {
    let opened = false;
    // Errors surface as 'close'; without a listener ws would throw them.
    ws.on('error', () => undefined);
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (opened) {
        if (!isBinary) {
          entry.observation.protocolErrors.push('text frame after the open frame');
          return;
        }
        entry.relay.fromClient(ws, toBuffer(data));
        return;
      }
      const open = this.checkOpenFrame(sessionId, toBuffer(data), isBinary);
      if ('error' in open) {
        entry.observation.protocolErrors.push(`open frame rejected: ${open.error}`);
        ws.close(CLOSE_POLICY_VIOLATION, open.error);
        return;
      }
      opened = true;
      entry.relay.attach(ws, socket, {
        requestId: open.requestId,
        clientId: open.clientId,
        clientVersion: open.clientVersion,
      });
    });
  }

  private checkOpenFrame(sessionId: string, data: Buffer, isBinary: boolean): OpenCheck {
    if (isBinary) return { error: 'expected a text OpenDataChannelInput frame' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch {
      return { error: 'OpenDataChannelInput is not JSON' };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { error: 'OpenDataChannelInput is not a JSON object' };
    }
    const open = parsed as Record<string, unknown>;
    if (open.MessageSchemaVersion !== MESSAGE_SCHEMA_VERSION)
      return { error: 'MessageSchemaVersion must be "1.0"' };
    const { RequestId, ClientId, TokenValue, ClientVersion } = open;
    if (typeof RequestId !== 'string' || RequestId === '') return { error: 'RequestId is missing' };
    if (typeof ClientId !== 'string' || ClientId === '') return { error: 'ClientId is missing' };
    if (ClientVersion !== undefined && typeof ClientVersion !== 'string')
      return { error: 'ClientVersion is not a string' };
    if (typeof TokenValue !== 'string') return { error: 'TokenValue is missing' };
    const token = this.tokens.get(TokenValue);
    if (token === undefined || token.sessionId !== sessionId || token.expiresAtMs < Date.now()) {
      return { error: 'invalid or expired TokenValue' };
    }
    this.tokens.delete(TokenValue);
    return ClientVersion === undefined
      ? { requestId: RequestId, clientId: ClientId }
      : { requestId: RequestId, clientId: ClientId, clientVersion: ClientVersion };
  }
}
