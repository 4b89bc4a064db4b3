/**
 * Errors of the data-channel client. Each sets `name` as a string literal so that it survives
 * minification and can be matched by name (Step Functions Retry/Catch, logs).
 */

export type SsmProtocolErrorCode =
  | 'SSM_ERR_SHORT_FRAME'
  | 'SSM_ERR_HEADER_LENGTH'
  | 'SSM_ERR_LENGTH_MISMATCH'
  | 'SSM_ERR_DIGEST_MISMATCH'
  | 'SSM_ERR_UNKNOWN_MESSAGE_TYPE'
  | 'SSM_ERR_ZERO_CREATED_DATE'
  | 'SSM_ERR_NUMBER_RANGE'
  | 'SSM_ERR_BAD_PAYLOAD'
  | 'SSM_ERR_DECRYPT'
  | 'SSM_ERR_TEXT_FRAME';

/** A frame that cannot be trusted: it is dropped (and not acked), never delivered. */
export class SsmProtocolError extends Error {
  constructor(
    readonly code: SsmProtocolErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SsmProtocolError';
  }
}

/** What a failed session had received before it failed; never presented as a success. */
export interface PartialResult {
  /** Output assembled so far (after the sink's bounds). */
  readonly output: string;
  /** Every output byte received in order, including those the sink did not keep. */
  readonly outputBytes: number;
  readonly truncated: boolean;
}

/** Base class of errors that end a session; carries the output received until then. */
export abstract class SessionError extends Error {
  partial: PartialResult = { output: '', outputBytes: 0, truncated: false };
  sessionId?: string;
  withPartial(partial: PartialResult): this {
    this.partial = partial;
    return this;
  }
}

/** The agent or the service closed the channel with an error text (`channel_closed.Output`). */
export class ChannelClosedError extends SessionError {
  constructor(
    readonly agentMessage: string,
    options?: ErrorOptions,
  ) {
    super(`session closed by the agent: ${agentMessage}`, options);
    this.name = 'ChannelClosedError';
  }
}

export type HandshakeFailure =
  | 'timeout'
  | 'data-key'
  | 'challenge'
  | 'unsupported-action'
  | 'bad-request'
  | 'no-key-provider';

/** The handshake or the KMS encryption challenge could not be completed. */
export class HandshakeError extends SessionError {
  constructor(
    readonly reason: HandshakeFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HandshakeError';
  }
}

export type TimeoutKind = 'deadline' | 'no-progress';

/** The overall deadline passed or nothing arrived for too long; the remote command was interrupted. */
export class SessionTimeoutError extends SessionError {
  constructor(
    readonly kind: TimeoutKind,
    readonly afterMs: number,
    options?: ErrorOptions,
  ) {
    super(
      kind === 'deadline'
        ? `session did not finish within ${afterMs} ms`
        : `no progress on the session for ${afterMs} ms`,
      options,
    );
    this.name = 'SessionTimeoutError';
  }
}

/** The websocket dropped before channel_closed and could not be resumed. */
export class SessionInterruptedError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SessionInterruptedError';
  }
}

/** The session was aborted by the caller's AbortSignal. */
export class SessionAbortedError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SessionAbortedError';
  }
}

/** The websocket could not be opened at all. */
export class ConnectError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectError';
  }
}

/**
 * The wrapper refused to start the command: a working directory, user or requested transfer the
 * container cannot provide (transfer/header.ts lists the reasons). Nothing ran.
 */
export class CommandSetupError extends SessionError {
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CommandSetupError';
  }
}

/** The compressed output could not be decoded to its end (corrupt or cut short); the partial output is kept. */
export class OutputDecodeError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OutputDecodeError';
  }
}
