/**
 * What happened in one agent-double session, for test assertions. The object returned by
 * `MessageGatewayDouble.session()` is live: its arrays keep growing while the session runs.
 * Token values and keys are never recorded.
 */
import { performance } from 'node:perf_hooks';

export type SessionState = 'waiting-for-client' | 'running' | 'closing' | 'closed' | 'terminated';

export type HandshakeState = 'none' | 'skipped' | 'in-progress' | 'complete' | 'failed';

export interface ExitStatus {
  readonly exitCode: number;
  /** The signal number that ended the process, when one did. */
  readonly signal?: number;
}

export interface ConnectionRecord {
  /** 1 for the first connection, 2 for the first resume, … */
  readonly index: number;
  readonly requestId: string;
  readonly clientId: string;
  readonly clientVersion: string | undefined;
  closed: boolean;
  closeCode: number | undefined;
}

/** A client frame the agent received (acknowledges are listed in `acksReceived` instead). */
export interface ClientFrameRecord {
  readonly messageType: string;
  readonly sequenceNumber: number;
  readonly payloadType: number;
  readonly flags: bigint;
  readonly messageId: string;
  /** As carried: ciphertext for encrypted Output input. */
  readonly payload: Buffer;
}

/** What MGS did with one transmission of an output frame. */
export type RelayFate =
  | 'delivered'
  | 'duplicated'
  | 'dropped'
  | 'corrupted'
  | 'held'
  | 'paused'
  | 'no-client'
  | 'buffered-while-paused';

export interface OutputTransmission {
  readonly sequenceNumber: number;
  readonly payloadType: number;
  /** Payload bytes as carried (ciphertext with KMS). */
  readonly payloadLength: number;
  readonly retransmission: boolean;
  readonly fate: RelayFate;
  /** `performance.now()` when the agent handed it to MGS (or buffered it while paused). */
  readonly atMs: number;
}

export interface HandshakeObservation {
  state: HandshakeState;
  /** The agent's error text when the handshake failed. */
  error: string | undefined;
  /** `ClientVersion` from the HandshakeResponse. */
  clientVersion: string | undefined;
  /** Whether the client sent `ChallengeAcknowledgement: true`. */
  challengeAcknowledged: boolean | undefined;
  /** Whether the client's EncChallengeResponse matched. */
  challengeMatched: boolean | undefined;
}

export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}

export interface AgentSessionObservation {
  readonly sessionId: string;
  readonly state: SessionState;
  /** The command's argv after shlex splitting (undefined for scripts). */
  readonly argv: readonly string[] | undefined;
  readonly pid: number | undefined;
  readonly exit: ExitStatus | undefined;
  readonly connections: readonly ConnectionRecord[];
  readonly clientFrames: readonly ClientFrameRecord[];
  /** AcknowledgedMessageSequenceNumber of every client ack, in arrival order. */
  readonly acksReceived: readonly number[];
  /** Client sequence numbers the agent acked, in order (re-acks of duplicates included). */
  readonly acksSent: readonly number[];
  /** Keyboard bytes written to the pty (or the script), in order, after decryption. */
  readonly inputWritten: readonly Buffer[];
  /** Sizes applied to the pty, after the agent's uint16 truncation. */
  readonly sizesApplied: readonly TerminalSize[];
  /** Every transmission of an output_stream_data frame, retransmissions included. */
  readonly outputFrames: readonly OutputTransmission[];
  readonly retransmissions: number;
  /** Output frames not kept for retransmission because the outgoing buffer was full. */
  readonly notBuffered: number;
  /** Client sequence numbers acked and dropped because the handshake was not done (§4.2). */
  readonly inputDroppedDuringHandshake: readonly number[];
  readonly handshake: HandshakeObservation;
  /** Whether the client's data key decrypted with the agent's context; undefined without KMS. */
  readonly dataKeyContextMatched: boolean | undefined;
  /** Client frames the agent could not process (left unacked), with the agent's reason. */
  readonly processingErrors: readonly string[];
  /** Client frames that were malformed (dropped before the agent saw them). */
  readonly protocolErrors: readonly string[];
  /** Set when the agent's websocket reader would have died (a panic or a blocked channel send). */
  readonly readerStopped: string | undefined;
  readonly pauses: number;
  /** Current retransmission timeout. */
  readonly rtoMs: number;
  /** `Output` MGS ended the session with (sent as channel_closed if a client was connected); undefined while running or with closeWithoutChannelClosed. */
  readonly channelClosedOutput: string | undefined;
  /** All input bytes written so far, concatenated. */
  inputBytes(): Buffer;
  /** Resolves once the command (or script) started, or the session ended without starting it. */
  readonly started: Promise<void>;
  /** `performance.now()` when the command (or script) started; undefined until then. */
  readonly startedAtMs: number | undefined;
  /** Resolves when the channel is closed and the command has exited. */
  readonly ended: Promise<void>;
}

/** The mutable record the double writes; tests read it through AgentSessionObservation. */
export class SessionObservation implements AgentSessionObservation {
  state: SessionState = 'waiting-for-client';
  argv: readonly string[] | undefined;
  pid: number | undefined;
  exit: ExitStatus | undefined;
  readonly connections: ConnectionRecord[] = [];
  readonly clientFrames: ClientFrameRecord[] = [];
  readonly acksReceived: number[] = [];
  readonly acksSent: number[] = [];
  readonly inputWritten: Buffer[] = [];
  readonly sizesApplied: TerminalSize[] = [];
  readonly outputFrames: OutputTransmission[] = [];
  retransmissions = 0;
  notBuffered = 0;
  readonly inputDroppedDuringHandshake: number[] = [];
  readonly handshake: HandshakeObservation = {
    state: 'none',
    error: undefined,
    clientVersion: undefined,
    challengeAcknowledged: undefined,
    challengeMatched: undefined,
  };
  dataKeyContextMatched: boolean | undefined;
  readonly processingErrors: string[] = [];
  readonly protocolErrors: string[] = [];
  readerStopped: string | undefined;
  pauses = 0;
  rtoMs: number;
  channelClosedOutput: string | undefined;
  startedAtMs: number | undefined;
  readonly ended: Promise<void>;
  readonly started: Promise<void>;
  private resolveEnded!: () => void;
  private resolveStarted!: () => void;

  constructor(
    readonly sessionId: string,
    initialRtoMs: number,
  ) {
    this.rtoMs = initialRtoMs;
    this.ended = new Promise<void>((resolve) => {
      this.resolveEnded = resolve;
    });
    this.started = new Promise<void>((resolve) => {
      this.resolveStarted = resolve;
    });
  }

  inputBytes(): Buffer {
    return Buffer.concat(this.inputWritten);
  }

  markStarted(): void {
    this.startedAtMs ??= performance.now();
    this.resolveStarted();
  }

  markEnded(): void {
    this.resolveStarted();
    this.resolveEnded();
  }
}
