/**
 * `ecs-exec-runner/client`: the ECS Exec data-channel client for your own Node code. It speaks
 * the SSM Session Manager protocol over the session's websocket and needs nothing but `ws`: start
 * the session yourself (ecs:ExecuteCommand with any SDK) and inject what needs AWS — the KMS data
 * key, resuming a dropped socket, terminating the session — as functions.
 */

export { buildCommand, DEFAULT_TERMINAL_SIZE, type PreparedCommand } from '../lambda/ssm/command';
export {
  ChannelClosedError,
  ConnectError,
  HandshakeError,
  type HandshakeFailure,
  type PartialResult,
  SessionAbortedError,
  SessionError,
  SessionInterruptedError,
  SessionTimeoutError,
  SsmProtocolError,
  type SsmProtocolErrorCode,
  type TimeoutKind,
} from '../lambda/ssm/errors';
export {
  DEFAULT_MAX_RESUME_ATTEMPTS,
  DEFAULT_NO_PROGRESS_TIMEOUT_MS,
  DEFAULT_OUTPUT_LIMIT_BYTES,
  DEFAULT_TIMEOUT_MS,
  type RunCommandOptions,
  type RunResult,
  type RunSessionOptions,
  run,
  runSession,
} from '../lambda/ssm/run';
export { BoundedOutputSink, CallbackSink, TeeSink } from '../lambda/ssm/sinks';
export type {
  DataKey,
  DataKeyProvider,
  DataKeyRequest,
  OutputSink,
  OutputView,
  ResumeSession,
  SessionEndpoint,
  SessionLogger,
  TerminalSize,
} from '../lambda/ssm/types';
