/**
 * What a test (or the local "run without AWS" mode) can ask of one agent-double session, and the
 * agent's own defaults. Every default is the real agent's value (ssm-protocol.md §5.4, §8, §4.2);
 * tests pass smaller timings to stay fast.
 */
import type { AgentFaults } from './faults';
import { validateMissingTools } from './restricted-path';

/** One step of scripted output, used instead of a real process. */
export type ScriptStep = { readonly output: string | Buffer } | { readonly delayMs: number };

/** What a scripted container prints for one command, and the status the command exits with. */
export interface ShellAnswer {
  readonly output: string;
  readonly exitCode: number;
  /** How long the command runs before it prints its output and exits. @default 0 */
  readonly durationMs?: number;
}

/** Answers `command` (as `sh -c` would get it). Must be cheap and pure. */
export type ScriptedCommand = (command: string) => ShellAnswer;

export interface AgentTimingOptions {
  /** The agent's writePump sleeps this long before its first pty read (`initialWaitSecond = 1`). */
  readonly initialReadDelayMs?: number;
  /**
   * Bytes per read of writePump's buffered reader, i.e. the largest plaintext payload before UTF-8
   * hold-back (`StreamDataPayloadSize`).
   */
  readonly chunkBytes?: number;
  /**
   * Bytes one refill of that buffered reader takes from the pty. The agent reads through a
   * `bufio.Reader` (4096 bytes) and one read of a Linux pty master returns at most 4095 bytes, so a
   * busy command's output comes as frames of 1024, 1024, 1024, 1023 bytes, repeating.
   */
  readonly ptyReadBytes?: number;
  /** Sleep after each read (writePump's `time.Sleep(time.Millisecond)`); 0 means "as fast as the socket takes it". */
  readonly interChunkDelayMs?: number;
  /** Resend scheduler tick (`ResendSleepInterval`). */
  readonly resendTickMs?: number;
  /** Initial smoothed round-trip time (`DefaultRoundTripTime`). */
  readonly initialRttMs?: number;
  /** Initial retransmission timeout (`DefaultTransmissionTimeout`). */
  readonly initialRtoMs?: number;
  /** Cap on the retransmission timeout (`MaxTransmissionTimeout`). */
  readonly maxRtoMs?: number;
  /** Lower bound of the RTO's variance term (`ClockGranularity`). */
  readonly clockGranularityMs?: number;
  /** `PrepareToCloseChannel`'s longest wait for the client's acks; the agent waits twice at the end. */
  readonly closeAckWaitMs?: number;
  /** How long the agent waits for the HandshakeResponse, and again for the EncChallengeResponse. */
  readonly handshakeTimeoutMs?: number;
  /** Messages kept for retransmission; beyond this, output is sent once and never resent. */
  readonly outgoingBufferCapacity?: number;
  /** Out-of-order client messages the agent keeps (`IncomingMessageBufferCapacity`). */
  readonly incomingBufferCapacity?: number;
  /** How long an unused tokenValue stays valid. */
  readonly tokenTtlMs?: number;
  /** The shell plugin sleeps this long after a command fails to start, before failing the session. */
  readonly startFailureDelayMs?: number;
  /**
   * Delay between the end (or skip) of the handshake and the pty's creation. Input that arrives in
   * this window is refused with ErrHandlerNotReady (not acked). The real window is a few ms.
   */
  readonly ptyStartDelayMs?: number;
}

export type ResolvedTiming = Required<AgentTimingOptions>;

/**
 * The real agent's output pacing (`agent/session/shell/shell.go` writePump): sleep 1 s, then read at
 * most 1 KiB from a buffered reader over the pty, send it as one frame, sleep 1 ms, repeat. It caps
 * every client at ~0.65 MB/s (real-agent-findings.md). These are the double's defaults; benchmarks
 * pass them explicitly to say what they measure.
 */
export const REAL_AGENT_PACING = {
  initialReadDelayMs: 1000,
  chunkBytes: 1024,
  ptyReadBytes: 4095,
  interChunkDelayMs: 1,
} as const satisfies AgentTimingOptions;

/** No artificial delays: output goes as fast as the client takes it (fast tests, client-throughput benchmarks). */
export const UNPACED = {
  initialReadDelayMs: 0,
  interChunkDelayMs: 0,
} as const satisfies AgentTimingOptions;

export const DEFAULT_TIMING: ResolvedTiming = {
  ...REAL_AGENT_PACING,
  resendTickMs: 100,
  initialRttMs: 100,
  initialRtoMs: 200,
  maxRtoMs: 1000,
  clockGranularityMs: 10,
  closeAckWaitMs: 2000,
  handshakeTimeoutMs: 15_000,
  outgoingBufferCapacity: 100_000,
  incomingBufferCapacity: 100_000,
  tokenTtlMs: 60_000,
  startFailureDelayMs: 2000,
  ptyStartDelayMs: 0,
};

export interface AgentKmsOptions {
  /** The cluster's `executeCommandConfiguration.kmsKeyId`, sent as `KMSKeyId` in the HandshakeRequest. */
  readonly keyId: string;
  /** The agent's instance id, `ecs:<cluster>_<taskId>_<runtimeId>`; part of the Decrypt context. */
  readonly targetId: string;
  /** The agent's `Kms.RequireKMSChallengeResponse` (default false): demand `ChallengeAcknowledgement`. */
  readonly requireChallengeResponse?: boolean;
}

export interface AgentSessionSpec {
  /** Run like the agent in ECS container mode: shlex split, PATH lookup, exec on a pty, no shell. */
  readonly command?: string;
  /** Scripted output instead of a process. */
  readonly script?: readonly ScriptStep[];
  /** Send scripted output as given; by default LF becomes CRLF, as a pty's ONLCR does. */
  readonly rawScript?: boolean;
  /**
   * With `command`: a cheap scripted container. The command is split as the agent splits it, then
   * answered by this function instead of a process on a pty (scripted-shell.ts).
   */
  readonly scriptedShell?: ScriptedCommand;
  /** Added to the child's environment (after TERM and LANG). Its PATH, if any, is also used for the lookup. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Command names the container lacks, e.g. `['zstd', 'xz', 'gzip', 'base64']`: the command gets a
   * PATH without them (restricted-path.ts). Absolute paths still reach them.
   */
  readonly missingTools?: readonly string[];
  readonly cwd?: string;
  /** Turns KMS encryption on: full handshake, encryption challenge, encrypted Output payloads. */
  readonly kms?: AgentKmsOptions;
  /** `DestinationId` in channel_closed when there is no KMS target id. */
  readonly targetId?: string;
  readonly timing?: AgentTimingOptions;
  readonly faults?: AgentFaults;
  /** Sent as `AgentVersion` in the HandshakeRequest. @default '3.3.987.0' */
  readonly agentVersion?: string;
}

export const DEFAULT_AGENT_VERSION = '3.3.987.0';

export function resolveTiming(spec: AgentSessionSpec): ResolvedTiming {
  const timing: ResolvedTiming = { ...DEFAULT_TIMING, ...definedOnly(spec.timing ?? {}) };
  const faultTimeout = spec.faults?.handshakeTimeoutMs;
  return faultTimeout === undefined ? timing : { ...timing, handshakeTimeoutMs: faultTimeout };
}

function definedOnly(timing: AgentTimingOptions): AgentTimingOptions {
  return Object.fromEntries(Object.entries(timing).filter(([, value]) => value !== undefined));
}

/** Fails fast on a spec the double cannot run, naming the bad value. */
export function validateSpec(spec: AgentSessionSpec): void {
  const hasCommand = spec.command !== undefined;
  const hasScript = spec.script !== undefined;
  if (hasCommand === hasScript) {
    throw new TypeError('an AgentSessionSpec needs exactly one of `command` and `script`');
  }
  const timing = resolveTiming(spec);
  for (const [name, value] of Object.entries(timing)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`timing.${name} must be a finite number >= 0, got ${String(value)}`);
    }
  }
  for (const name of ['chunkBytes', 'ptyReadBytes'] as const) {
    if (timing[name] < 1) throw new RangeError(`timing.${name} must be >= 1, got ${timing[name]}`);
  }
  if (timing.resendTickMs < 1) {
    throw new RangeError(`timing.resendTickMs must be >= 1, got ${timing.resendTickMs}`);
  }
  validateMissingTools(spec.missingTools ?? []);
  if (spec.kms && (spec.kms.keyId === '' || spec.kms.targetId === '')) {
    throw new TypeError('kms.keyId and kms.targetId must not be empty');
  }
  validateFaults(spec.faults ?? {});
}

function requireWhole(name: string, value: number | undefined, minimum: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < minimum)) {
    throw new RangeError(`faults.${name} must be a whole number >= ${minimum}, got ${value}`);
  }
}

function validateFaults(faults: AgentFaults): void {
  requireWhole('closeAfterFrames', faults.closeAfterFrames, 1);
  requireWhole('duplicate.everyNth', faults.duplicate?.everyNth, 1);
  requireWhole('reorder.afterFrames', faults.reorder?.afterFrames, 1);
  requireWhole('pausePublication.atFrame', faults.pausePublication?.atFrame, 0);
  for (const [name, value] of [
    ['delayAcksMs', faults.delayAcksMs],
    ['reorder.maxHoldMs', faults.reorder?.maxHoldMs],
    ['pausePublication.resumeAfterMs', faults.pausePublication?.resumeAfterMs],
    ['ackRace.delayMs', typeof faults.ackRace === 'object' ? faults.ackRace.delayMs : undefined],
  ] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new RangeError(`faults.${name} must be a finite number >= 0, got ${value}`);
    }
  }
}
