import { parseJsonObject } from './codec';
import { ActionStatus, CLIENT_VERSION, HandshakeActionType } from './constants';
import { SsmProtocolError } from './errors';

export interface RequestedClientAction {
  readonly ActionType: string;
  readonly ActionParameters: Record<string, unknown> | null;
}

export interface HandshakeRequest {
  readonly AgentVersion: string;
  readonly RequestedClientActions: readonly RequestedClientAction[];
}

export interface ProcessedClientAction {
  readonly ActionType: string;
  readonly ActionStatus: number;
  readonly ActionResult: Record<string, unknown> | null;
  readonly Error: string;
}

export interface KmsEncryptionParameters {
  readonly KMSKeyId: string;
  /** Base64 of 16 random bytes (agents since Dec 2022); absent on older agents. */
  readonly Challenge?: string;
}

/** String(value) throws a TypeError for objects such as {"toString":null}; only primitives are text. */
function textField(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : '';
}

export function parseHandshakeRequest(payload: Buffer): HandshakeRequest {
  const parsed = parseJsonObject(payload, 'HandshakeRequest');
  const actions = parsed.RequestedClientActions;
  if (!Array.isArray(actions)) {
    throw new SsmProtocolError('SSM_ERR_BAD_PAYLOAD', 'HandshakeRequest has no RequestedClientActions');
  }
  return {
    AgentVersion: textField(parsed.AgentVersion),
    RequestedClientActions: actions.map((action: unknown) => {
      if (action === null || typeof action !== 'object') {
        throw new SsmProtocolError('SSM_ERR_BAD_PAYLOAD', 'HandshakeRequest action is not an object');
      }
      const { ActionType, ActionParameters } = action as Record<string, unknown>;
      return {
        ActionType: textField(ActionType),
        ActionParameters:
          ActionParameters && typeof ActionParameters === 'object'
            ? (ActionParameters as Record<string, unknown>)
            : null,
      };
    }),
  };
}

export function readKmsParameters(action: RequestedClientAction): KmsEncryptionParameters {
  const keyId = action.ActionParameters?.KMSKeyId;
  if (typeof keyId !== 'string' || keyId === '') {
    throw new SsmProtocolError('SSM_ERR_BAD_PAYLOAD', 'KMSEncryption action without a KMSKeyId');
  }
  const challenge = action.ActionParameters?.Challenge;
  return typeof challenge === 'string' ? { KMSKeyId: keyId, Challenge: challenge } : { KMSKeyId: keyId };
}

export function sessionTypeResult(): ProcessedClientAction {
  return {
    ActionType: HandshakeActionType.SessionType,
    ActionStatus: ActionStatus.Success,
    ActionResult: null,
    Error: '',
  };
}

/**
 * With `challengeAcknowledged` the agent adds `aws:ssm:RandomChallenge` to its Decrypt context
 * (agents that send a Challenge); agents configured with RequireKMSChallengeResponse demand it.
 */
export function kmsEncryptionResult(
  ciphertextBlob: Uint8Array,
  challengeAcknowledged = false,
): ProcessedClientAction {
  return {
    ActionType: HandshakeActionType.KmsEncryption,
    ActionStatus: ActionStatus.Success,
    ActionResult: {
      KMSCipherTextKey: Buffer.from(ciphertextBlob).toString('base64'),
      KMSCipherTextHash: null,
      ...(challengeAcknowledged ? { ChallengeAcknowledgement: true } : {}),
    },
    Error: '',
  };
}

/** An action we cannot honour; the agent treats any status other than Success as fatal. */
export function failedActionResult(actionType: string, status: number, error: string): ProcessedClientAction {
  return { ActionType: actionType, ActionStatus: status, ActionResult: null, Error: error };
}

/** Field order as Go's encoding/json writes HandshakeResponsePayload (vectors V5, V6). */
export function encodeHandshakeResponse(
  actions: readonly ProcessedClientAction[],
  clientVersion = CLIENT_VERSION,
) {
  return Buffer.from(
    JSON.stringify({ ClientVersion: clientVersion, ProcessedClientActions: actions, Errors: null }),
    'utf8',
  );
}

export interface HandshakeComplete {
  readonly HandshakeTimeToCompleteNs: number;
  readonly CustomerMessage: string;
}

export function parseHandshakeComplete(payload: Buffer): HandshakeComplete {
  const parsed = parseJsonObject(payload, 'HandshakeComplete');
  const duration = parsed.HandshakeTimeToComplete;
  return {
    HandshakeTimeToCompleteNs: typeof duration === 'number' ? duration : 0,
    CustomerMessage: typeof parsed.CustomerMessage === 'string' ? parsed.CustomerMessage : '',
  };
}

/** EncChallengeRequest / EncChallengeResponse: `{"Challenge":"<base64(nonce‖ct‖tag)>"}`. */
export function parseChallenge(payload: Buffer): Buffer {
  const parsed = parseJsonObject(payload, 'EncChallenge');
  if (typeof parsed.Challenge !== 'string') {
    throw new SsmProtocolError('SSM_ERR_BAD_PAYLOAD', 'encryption challenge without a Challenge');
  }
  return Buffer.from(parsed.Challenge, 'base64');
}

export function encodeChallenge(sealed: Buffer): Buffer {
  return Buffer.from(JSON.stringify({ Challenge: sealed.toString('base64') }), 'utf8');
}

export interface ChannelClosed {
  readonly sessionId: string;
  /** Empty on a normal end; the agent's or service's error text otherwise. */
  readonly output: string;
}

/** Lenient: the service builds this message and its exact shape is not specified anywhere. */
export function parseChannelClosed(payload: Buffer): ChannelClosed {
  try {
    const parsed = parseJsonObject(payload, 'channel_closed');
    return {
      sessionId: typeof parsed.SessionId === 'string' ? parsed.SessionId : '',
      output: typeof parsed.Output === 'string' ? parsed.Output : '',
    };
  } catch {
    // Not JSON: keep whatever text the service sent rather than lose an error message.
    return { sessionId: '', output: payload.toString('utf8').trim() };
  }
}
