/**
 * A faithful local double of the SSM agent (InteractiveCommands, ECS container mode) behind a
 * message-gateway websocket server, for tests and for running the Lambda without AWS.
 *
 *   const gateway = await MessageGatewayDouble.start();
 *   const { sessionId, streamUrl, tokenValue } = gateway.createSession({ command: "sh -c 'echo hi'" });
 *   // … a client dials streamUrl, sends the open frame with tokenValue, acks, reads channel_closed …
 *   await gateway.session(sessionId).ended;
 *   await gateway.close();
 *
 * Every default timing is the real agent's (1 s before the first read, 1 KiB reads, RTO 200 ms…);
 * `faults` inject what MGS or the agent can do to a client. See options.ts and faults.ts.
 */
export type { AckRaceFault, AgentFaults, PausePublicationFault, ReorderFault, SeqSelector } from './faults';
export { type CreatedSession, type GatewayOptions, MessageGatewayDouble } from './gateway';
export type {
  AgentSessionObservation,
  ClientFrameRecord,
  ConnectionRecord,
  ExitStatus,
  HandshakeObservation,
  HandshakeState,
  OutputTransmission,
  RelayFate,
  SessionState,
  TerminalSize,
} from './observation';
export {
  type AgentKmsOptions,
  type AgentSessionSpec,
  type AgentTimingOptions,
  DEFAULT_AGENT_VERSION,
  DEFAULT_TIMING,
  REAL_AGENT_PACING,
  type ScriptStep,
  UNPACED,
} from './options';
export { fleetShell, type ScriptedCommand, type ShellAnswer, scriptedExec } from './scripted-shell';
