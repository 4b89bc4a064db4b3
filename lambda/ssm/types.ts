/** Public types of the data-channel client's high-level API. */

/** Where a session's output goes once it is decoded, normalised and stripped of the exit marker. */
export interface OutputSink {
  /** Receives the processed output as UTF-8 bytes, in order. Never holds a reference to `chunk` after returning. */
  write(chunk: Buffer): void;
  /** Called once when the stream ends (also on failure, with what was received). */
  end(): void;
}

/** A sink that keeps a bounded view of the output (the default). */
export interface OutputView {
  /** The kept text: all of it, or head + an omission notice + tail. */
  text(): string;
  /** Every byte written to the sink, kept or not. */
  readonly totalBytes: number;
  readonly truncated: boolean;
  /** Bytes left out of `text()` (0 unless truncated). */
  readonly omittedBytes: number;
}

export interface SessionEndpoint {
  readonly sessionId: string;
  readonly streamUrl: string;
  readonly tokenValue: string;
}

export interface DataKeyRequest {
  readonly keyId: string;
  readonly sessionId: string;
  /** The agent's `Challenge` string, for callers that send ChallengeAcknowledgement. */
  readonly challenge?: string;
}

export interface DataKey {
  /** 64 bytes: K[0:32] decrypts agent output, K[32:64] encrypts client input. Never logged. */
  readonly plaintext: Uint8Array;
  /** KMS CiphertextBlob, passed to the agent in the HandshakeResponse. */
  readonly ciphertextBlob: Uint8Array;
  /**
   * True when the key was generated with `aws:ssm:RandomChallenge` = the request's challenge in its
   * encryption context; the client then sends ChallengeAcknowledgement so the agent does the same.
   */
  readonly challengeAcknowledged?: boolean;
}

/** Supplies the KMS data key (the Lambda calls kms:GenerateDataKey with the §9 encryption context). */
export type DataKeyProvider = (request: DataKeyRequest) => Promise<DataKey>;

/** Resumes a session after a dropped socket (the Lambda calls ssm:ResumeSession). */
export type ResumeSession = (
  sessionId: string,
) => Promise<{ readonly tokenValue: string; readonly streamUrl?: string }>;

/** Minimal structured logger; Powertools' Logger fits. Never receives tokens or keys. */
export interface SessionLogger {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
}

export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}
