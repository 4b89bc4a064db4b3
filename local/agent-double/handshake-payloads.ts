/**
 * The agent's side of the handshake payloads (ssm-protocol.md §4.2, §9): what it sends (built
 * field for field like Go's encoding/json output) and how strictly it reads the client's answers
 * (Go's json.Unmarshal into typed structs: wrong types fail, field names match case-insensitively,
 * unknown fields are ignored, `[]byte` is standard padded base64).
 */
import { HandshakeActionType } from '../../lambda/ssm/constants';

export const SESSION_TYPE_INTERACTIVE_COMMANDS = 'InteractiveCommands';
export const KMS_CUSTOMER_MESSAGE = 'This session is encrypted using AWS KMS.';

export function buildHandshakeRequest(
  agentVersion: string,
  kms: { readonly keyId: string; readonly challenge: string } | undefined,
): Buffer {
  const actions: unknown[] = [
    {
      ActionType: HandshakeActionType.SessionType,
      ActionParameters: { SessionType: SESSION_TYPE_INTERACTIVE_COMMANDS, Properties: null },
    },
  ];
  if (kms !== undefined) {
    actions.push({
      ActionType: HandshakeActionType.KmsEncryption,
      ActionParameters: { KMSKeyId: kms.keyId, Challenge: kms.challenge },
    });
  }
  return Buffer.from(JSON.stringify({ AgentVersion: agentVersion, RequestedClientActions: actions }), 'utf8');
}

/** `HandshakeTimeToComplete` is a Go time.Duration: integer nanoseconds. */
export function buildHandshakeComplete(elapsedNs: number, customerMessage: string): Buffer {
  return Buffer.from(
    JSON.stringify({ HandshakeTimeToComplete: Math.round(elapsedNs), CustomerMessage: customerMessage }),
    'utf8',
  );
}

export interface ProcessedAction {
  readonly actionType: string;
  readonly actionStatus: number;
  readonly actionResult: unknown;
  readonly error: string;
}

export interface HandshakeResponse {
  readonly clientVersion: string;
  readonly actions: readonly ProcessedAction[];
}

export interface KmsEncryptionResult {
  readonly cipherTextKey: Buffer;
  readonly challengeAcknowledgement: boolean;
}

export type Parsed<T> = { readonly value: T } | { readonly error: string };

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_GO_INT = 2 ** 63;

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

function typeError(value: unknown, field: string, goType: string): { error: string } {
  return {
    error: `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${field} of type ${goType}`,
  };
}

/** Go's field matching: the exact name first, then a case-insensitive one. */
function field(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((candidate) => candidate.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseJson(payload: Buffer): Parsed<unknown> {
  try {
    return { value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function readString(object: Record<string, unknown>, name: string, struct: string): Parsed<string> {
  const value = field(object, name);
  if (value === undefined || value === null) return { value: '' };
  return typeof value === 'string' ? { value } : typeError(value, `${struct}.${name}`, 'string');
}

function readInt(object: Record<string, unknown>, name: string, struct: string): Parsed<number> {
  const value = field(object, name);
  if (value === undefined || value === null) return { value: 0 };
  return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < MAX_GO_INT
    ? { value }
    : typeError(value, `${struct}.${name}`, 'int');
}

/** json.Unmarshal into HandshakeResponsePayload. */
export function parseHandshakeResponse(payload: Buffer): Parsed<HandshakeResponse> {
  const parsed = parseJson(payload);
  if ('error' in parsed) return parsed;
  const root = parsed.value;
  if (root === null) return { value: { clientVersion: '', actions: [] } };
  if (!isObject(root))
    return {
      error: `json: cannot unmarshal ${jsonKind(root)} into Go value of type HandshakeResponsePayload`,
    };
  const clientVersion = readString(root, 'ClientVersion', 'HandshakeResponsePayload');
  if ('error' in clientVersion) return clientVersion;
  const list = field(root, 'ProcessedClientActions');
  if (list !== undefined && list !== null && !Array.isArray(list)) {
    return typeError(list, 'HandshakeResponsePayload.ProcessedClientActions', '[]ProcessedClientAction');
  }
  const actions: ProcessedAction[] = [];
  for (const item of list ?? []) {
    if (item === null) {
      actions.push({ actionType: '', actionStatus: 0, actionResult: undefined, error: '' });
      continue;
    }
    if (!isObject(item))
      return typeError(item, 'HandshakeResponsePayload.ProcessedClientActions', 'ProcessedClientAction');
    const actionType = readString(item, 'ActionType', 'ProcessedClientAction');
    if ('error' in actionType) return actionType;
    const actionStatus = readInt(item, 'ActionStatus', 'ProcessedClientAction');
    if ('error' in actionStatus) return actionStatus;
    const error = readString(item, 'Error', 'ProcessedClientAction');
    if ('error' in error) return error;
    actions.push({
      actionType: actionType.value,
      actionStatus: actionStatus.value,
      actionResult: field(item, 'ActionResult'),
      error: error.value,
    });
  }
  return { value: { clientVersion: clientVersion.value, actions } };
}

/** json.Unmarshal of the KMSEncryption ActionResult into KMSEncryptionResponse. */
export function parseKmsEncryptionResult(result: unknown): Parsed<KmsEncryptionResult> {
  if (result === undefined || result === null) {
    return { value: { cipherTextKey: Buffer.alloc(0), challengeAcknowledgement: false } };
  }
  if (!isObject(result))
    return {
      error: `json: cannot unmarshal ${jsonKind(result)} into Go value of type KMSEncryptionResponse`,
    };
  const key = field(result, 'KMSCipherTextKey');
  let cipherTextKey = Buffer.alloc(0);
  if (key !== undefined && key !== null) {
    if (typeof key !== 'string') return typeError(key, 'KMSEncryptionResponse.KMSCipherTextKey', '[]uint8');
    if (!STD_BASE64.test(key)) return { error: 'illegal base64 data at input byte 0' };
    cipherTextKey = Buffer.from(key, 'base64');
  }
  const acknowledgement = field(result, 'ChallengeAcknowledgement');
  if (acknowledgement !== undefined && acknowledgement !== null && typeof acknowledgement !== 'boolean') {
    return typeError(acknowledgement, 'KMSEncryptionResponse.ChallengeAcknowledgement', 'bool');
  }
  return { value: { cipherTextKey, challengeAcknowledgement: acknowledgement === true } };
}

/** json.Unmarshal into EncryptionChallengeResponse: `{"Challenge":"<base64>"}`. */
export function parseChallengeResponse(payload: Buffer): Parsed<Buffer> {
  const parsed = parseJson(payload);
  if ('error' in parsed) return parsed;
  const root = parsed.value;
  if (root === null) return { value: Buffer.alloc(0) };
  if (!isObject(root))
    return {
      error: `json: cannot unmarshal ${jsonKind(root)} into Go value of type EncryptionChallengeResponse`,
    };
  const challenge = field(root, 'Challenge');
  if (challenge === undefined || challenge === null) return { value: Buffer.alloc(0) };
  if (typeof challenge !== 'string')
    return typeError(challenge, 'EncryptionChallengeResponse.Challenge', '[]uint8');
  if (!STD_BASE64.test(challenge)) return { error: 'illegal base64 data at input byte 0' };
  return { value: Buffer.from(challenge, 'base64') };
}

/** json.Unmarshal into SizeData `{"cols":uint32,"rows":uint32}`. */
export function parseSizePayload(payload: Buffer): Parsed<{ cols: number; rows: number }> {
  const parsed = parseJson(payload);
  if ('error' in parsed) return parsed;
  const root = parsed.value;
  if (root === null) return { value: { cols: 0, rows: 0 } };
  if (!isObject(root))
    return { error: `json: cannot unmarshal ${jsonKind(root)} into Go value of type contracts.SizeData` };
  const size = { cols: 0, rows: 0 };
  for (const name of ['cols', 'rows'] as const) {
    const value = field(root, name);
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      return {
        error: `json: cannot unmarshal ${JSON.stringify(value)} into Go struct field SizeData.${name} of type uint32`,
      };
    }
    size[name] = value;
  }
  return { value: size };
}
