/**
 * Faults a test can inject into the fake endpoint. Rules are consumed in order: a rule answers
 * `times` requests (default 1; `Infinity` for ever), then the next one applies. The SDK retries
 * throttling and 5xx errors by itself (3 attempts by default), and each attempt consumes one use.
 */
import type { AgentKmsOptions, AgentSessionSpec } from '../agent-double/options';

export type ExecuteCommandFaultError =
  | 'InvalidParameterException'
  | 'TargetNotConnectedException'
  | 'ThrottlingException'
  | 'AccessDeniedException'
  | 'ClusterNotFoundException'
  | 'ServerException';

export type KmsFaultError =
  | 'AccessDeniedException'
  | 'NotFoundException'
  | 'DisabledException'
  | 'KMSInvalidStateException'
  | 'ThrottlingException'
  | 'KMSInternalException';

export interface FaultRule<E extends string = string> {
  readonly error: E;
  /** How many requests this rule answers. @default 1 */
  readonly times?: number;
  /** @default the service's usual text for `error` */
  readonly message?: string;
}

/**
 * Overrides applied to the agent-double spec of each session ExecuteCommand creates: timings,
 * faults, scripted output (`script` replaces the command), a stricter or mismatched KMS setup.
 */
export interface SessionOverrides extends Partial<Omit<AgentSessionSpec, 'kms'>> {
  readonly kms?: Partial<AgentKmsOptions>;
}

/**
 * Agent timings for tests: the first read after 10 ms instead of 1 s, quick resends, short waits
 * at close. Pass as `sessionDefaults`; the double's own defaults are the real agent's.
 */
export const FAST_SESSION_DEFAULTS: SessionOverrides = {
  timing: {
    initialReadDelayMs: 10,
    interChunkDelayMs: 0,
    resendTickMs: 20,
    initialRttMs: 20,
    initialRtoMs: 50,
    maxRtoMs: 200,
    closeAckWaitMs: 200,
    handshakeTimeoutMs: 2000,
    startFailureDelayMs: 50,
  },
};

export interface FaultPlan {
  /** Answered before any validation, so they apply to whatever task the call names. */
  executeCommand: FaultRule<ExecuteCommandFaultError>[];
  kms: {
    /** A bare error name fails every GenerateDataKey. */
    generateDataKey?: KmsFaultError | FaultRule<KmsFaultError>;
  };
  /** 'fail' makes every ResumeSession answer InternalServerError. */
  resumeSession?: 'fail' | FaultRule;
  /** Applied to every session ExecuteCommand creates, after the `sessionDefaults` option. */
  session?: SessionOverrides;
  /** Faults for any operation, keyed `<service>.<Operation>`, e.g. `ecs.DescribeTasks`. */
  operations: Record<string, FaultRule[]>;
}

export function emptyFaultPlan(): FaultPlan {
  return { executeCommand: [], kms: {}, operations: {} };
}

const uses = new WeakMap<FaultRule, number>();

/** The first rule with uses left, counting this use; rules stay in the list for inspection. */
export function takeFault<E extends string>(
  rules: readonly FaultRule<E>[] | undefined,
): FaultRule<E> | undefined {
  for (const rule of rules ?? []) {
    const used = uses.get(rule) ?? 0;
    if (used < (rule.times ?? 1)) {
      uses.set(rule, used + 1);
      return rule;
    }
  }
  return undefined;
}

/** A bare error name is a rule that never runs out. */
export function takeSingleFault<E extends string>(
  fault: E | FaultRule<E> | undefined,
): FaultRule<E> | undefined {
  if (fault === undefined) return undefined;
  if (typeof fault === 'string') return { error: fault, times: Number.POSITIVE_INFINITY };
  return takeFault([fault]);
}

/**
 * Merges session overrides, later layers winning; `timing`, `faults`, `env` and `kms` merge per
 * field. A partial `kms` changes only sessions that have KMS (their cluster has a key), unless it
 * brings both `keyId` and `targetId`.
 */
export function mergeSessionSpec(
  base: AgentSessionSpec,
  layers: readonly (SessionOverrides | undefined)[],
): AgentSessionSpec {
  let spec: AgentSessionSpec = base;
  for (const layer of layers) {
    if (layer === undefined) continue;
    const { timing, faults, env, kms, script, command, ...rest } = layer;
    spec = {
      ...spec,
      ...rest,
      timing: { ...spec.timing, ...timing },
      faults: { ...spec.faults, ...faults },
      env: { ...spec.env, ...env },
    };
    if (script !== undefined) spec = { ...spec, script, command: undefined };
    if (command !== undefined) spec = { ...spec, command, script: undefined };
    if (kms !== undefined) {
      const { keyId, targetId } = { ...spec.kms, ...kms };
      if (keyId !== undefined && targetId !== undefined) {
        spec = { ...spec, kms: { ...spec.kms, ...kms, keyId, targetId } };
      }
    }
  }
  return spec;
}
