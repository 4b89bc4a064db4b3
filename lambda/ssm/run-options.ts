/** The options and the result of run() and runSession() (run.ts). */
import type { SessionStats } from './session';
import type { Transfer, TransferRequest } from './transfer/modes';
import type { DataKeyProvider, OutputSink, ResumeSession, SessionLogger, TerminalSize } from './types';
import type { Environment } from './wrapper/input';

export interface RunSessionOptions {
  /** Exit-marker nonce from `buildCommand`; null or absent for raw commands (exitCode is then null). */
  readonly marker?: string | null;
  /** Keyboard bytes sent on the data channel once the session is ready (the pty echoes them). */
  readonly input?: Buffer | string;
  /**
   * Shell mode: the wrapper's input (`PreparedCommand.input`: environment script and stdin), sent
   * once the wrapper's header says the pty is raw and silent.
   */
  readonly wrapperInput?: Buffer | null;
  /**
   * Only for targets whose cluster has no ECS Exec KMS key: if no HandshakeRequest came this long
   * after connecting, send queued input without waiting for the first output (a command that reads
   * stdin before printing would otherwise wait forever). Unset: input waits for output or HandshakeComplete.
   */
  readonly noHandshakeAfterMs?: number;
  /** Terminal size sent once the session is ready; null sends none. @default 200x50 */
  readonly terminalSize?: TerminalSize | null;
  /** Turn the pty's CRLF into LF. @default true */
  readonly normalizeNewlines?: boolean;
  /** Remove ANSI escape sequences. @default false */
  readonly stripAnsi?: boolean;
  /** Bytes of output kept in `output` (head and tail); every byte is still counted. @default 256 KiB */
  readonly outputLimitBytes?: number;
  /**
   * Receives the full output, e.g. to stream it to S3: the command's exact bytes on a compressed
   * transfer, the processed text on the plain path.
   */
  readonly sink?: OutputSink;
  /** Overall deadline from the start of `runSession`. @default 300 s */
  readonly timeoutMs?: number;
  /** Fail when nothing moves (no new data, no live socket) for this long. @default 120 s */
  readonly noProgressTimeoutMs?: number;
  /** @default 3 s */
  readonly interruptGraceMs?: number;
  /** @default 20 s */
  readonly pingIntervalMs?: number;
  readonly dataKeyProvider?: DataKeyProvider;
  /** Called to get a fresh token when the socket drops before the session ended. */
  readonly resume?: ResumeSession;
  /** @default 3 */
  readonly maxResumeAttempts?: number;
  /** Best-effort hard stop of the remote session (ssm:TerminateSession) after a timeout, abort or failure. */
  readonly terminate?: (sessionId: string) => Promise<void>;
  readonly signal?: AbortSignal;
  readonly logger?: SessionLogger;
  /** Identifies this client across reconnects. @default a random UUID */
  readonly clientId?: string;
}

export interface RunResult {
  readonly sessionId: string;
  /** The command's output: all of it, or head + notice + tail when longer than the limit. */
  readonly output: string;
  /** Bytes of the full output (what `sink` received and `outputSha256` covers), kept in `output` or not. */
  readonly outputBytes: number;
  /** Hex SHA-256 of the full output: the command's exact bytes unless `transfer` is plain. */
  readonly outputSha256: string;
  /** How the output travelled: a compressor + base64 (exact bytes) or the plain pty. */
  readonly transfer: Transfer;
  readonly truncated: boolean;
  readonly omittedBytes: number;
  /** The command's exit status from the marker; null in raw mode or when the wrapper never reported it. */
  readonly exitCode: number | null;
  readonly encrypted: boolean;
  /** HandshakeComplete's notice (e.g. "This session is encrypted using AWS KMS."); never part of output. */
  readonly customerMessage: string;
  /** Text the agent put into channel_closed on an otherwise complete run. */
  readonly closeMessage: string;
  readonly durationMs: number;
  readonly reconnects: number;
  readonly stats: Readonly<SessionStats>;
}

export interface RunCommandOptions extends RunSessionOptions {
  /** Wrap in `sh -c` with an exit-code marker. @default true */
  readonly shell?: boolean;
  /** Keep the pty as the command's stdout (colours, columns). @default true */
  readonly tty?: boolean;
  /**
   * Bytes for the command's stdin, byte-exact, followed by EOF; at most MAX_STDIN_BYTES. Sent on the
   * data channel after the wrapper made the pty raw (never echoed, never on the command line).
   */
  readonly stdin?: string | Buffer;
  /** Exported to the command; sent like stdin, never on the command line. Names: [A-Za-z_][A-Za-z0-9_]*. */
  readonly environment?: Environment;
  /** Run as this user (the container must run as root; needs setpriv, runuser or su). */
  readonly user?: string;
  /** Run in this directory. */
  readonly workingDirectory?: string;
  /** Output path without tty. @default 'auto' (zstd, xz, gzip, else plain) */
  readonly transfer?: TransferRequest;
}
