import crypto, { createHash } from 'node:crypto';
import * as wire from './constants';
import { MessageType, PayloadType } from './constants';
import { SsmProtocolError } from './errors';

// Copied once at load: transpiled CommonJS (tsx, swc) turns every named-import read into a getter
// call, which shows up on the per-frame path. Bundled (production) code is unaffected either way.
const {
  ACK_FLAGS,
  CLIENT_VERSION,
  CREATED_DATE_OFFSET,
  FLAGS_OFFSET,
  HEADER_LENGTH,
  HEADER_LENGTH_OFFSET,
  MESSAGE_ID_OFFSET,
  MESSAGE_ID_SIZE,
  MESSAGE_SCHEMA_VERSION,
  MESSAGE_TYPE_OFFSET,
  MESSAGE_TYPE_SIZE,
  PAYLOAD_DIGEST_OFFSET,
  PAYLOAD_DIGEST_SIZE,
  PAYLOAD_LENGTH_OFFSET,
  PAYLOAD_OFFSET,
  PAYLOAD_TYPE_OFFSET,
  SCHEMA_VERSION,
  SCHEMA_VERSION_OFFSET,
  SEQUENCE_NUMBER_OFFSET,
} = wire;

/** One decoded data-channel frame. `payload` is a view into the received buffer. */
export interface Frame {
  readonly messageType: string;
  readonly schemaVersion: number;
  readonly createdDateMs: number;
  readonly sequenceNumber: number;
  readonly flags: bigint;
  /** Canonical lower-case 8-4-4-4-12 UUID (halves already swapped back). */
  readonly messageId: string;
  readonly payloadType: number;
  readonly payload: Buffer;
}

export interface FrameFields {
  readonly messageType: string;
  readonly sequenceNumber: number;
  readonly flags: bigint;
  readonly messageId: string;
  readonly payloadType: number;
  readonly payload: Buffer;
  readonly createdDateMs: number;
  readonly schemaVersion?: number;
}

const KNOWN_MESSAGE_TYPES: ReadonlySet<string> = new Set(Object.values(MessageType));
/** The plugin validates nothing on these two service messages, so neither do we. */
const UNVALIDATED_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  MessageType.StartPublication,
  MessageType.PausePublication,
]);
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_HALF_BYTES = MESSAGE_ID_SIZE / 2;
const SPACE = 0x20;

type OneShotHash = (algorithm: string, data: Buffer, outputEncoding: 'buffer') => Buffer;
/** crypto.hash (Node >= 20.12) skips the Hash object and is noticeably cheaper per frame. */
const oneShotHash = (crypto as unknown as { hash?: OneShotHash }).hash;

export function sha256(bytes: Buffer): Buffer {
  return oneShotHash ? oneShotHash('sha256', bytes, 'buffer') : createHash('sha256').update(bytes).digest();
}

/** 32 bytes, left-aligned, padded with spaces as both reference serializers do. */
export function writeMessageType(target: Buffer, messageType: string): void {
  paddedMessageType(messageType).copy(target, MESSAGE_TYPE_OFFSET);
}

const paddedTypes = new Map<string, Buffer>();

function paddedMessageType(messageType: string): Buffer {
  const cached = paddedTypes.get(messageType);
  if (cached !== undefined) return cached;
  const encoded = Buffer.from(messageType, 'ascii');
  if (encoded.length > MESSAGE_TYPE_SIZE) {
    throw new RangeError(`message type "${messageType}" is longer than ${MESSAGE_TYPE_SIZE} bytes`);
  }
  const padded = Buffer.alloc(MESSAGE_TYPE_SIZE, SPACE);
  encoded.copy(padded);
  if (KNOWN_MESSAGE_TYPES.has(messageType)) paddedTypes.set(messageType, padded);
  return padded;
}

/** Space-padded wire forms of the known types, for a lookup without trimming. */
const KNOWN_PADDED_TYPES: ReadonlyMap<string, string> = new Map(
  [...KNOWN_MESSAGE_TYPES].map((type) => [paddedMessageType(type).toString('latin1'), type] as const),
);

/** Readers strip NULs, then whitespace, so NUL padding is accepted too. */
export function readMessageType(frame: Buffer): string {
  const raw = frame.toString('latin1', MESSAGE_TYPE_OFFSET, MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE);
  return KNOWN_PADDED_TYPES.get(raw) ?? raw.replace(/\0/g, '').trim();
}

/** Where each UUID byte's two hex digits start in the 8-4-4-4-12 form. */
const UUID_BYTE_POSITIONS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const UUID_DASH_POSITIONS = [8, 13, 18, 23];
const UUID_STRING_LENGTH = 36;

function hexNibble(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30; // 0-9
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10; // a-f
  return -1;
}

/** The agent expects the UUID's low half first (session-manager-plugin putUuid). */
export function writeMessageId(target: Buffer, uuid: string): void {
  // Hand-rolled parse: this runs for every frame we send, and slicing plus Buffer#write is slower.
  let valid =
    uuid.length === UUID_STRING_LENGTH && UUID_DASH_POSITIONS.every((i) => uuid.charCodeAt(i) === 0x2d);
  for (let byte = 0; valid && byte < MESSAGE_ID_SIZE; byte++) {
    const at = UUID_BYTE_POSITIONS[byte] as number;
    const high = hexNibble(uuid.charCodeAt(at));
    const low = hexNibble(uuid.charCodeAt(at + 1));
    if (high < 0 || low < 0) valid = false;
    // UUID bytes 8..15 go first on the wire, then bytes 0..7.
    else target[MESSAGE_ID_OFFSET + ((byte + UUID_HALF_BYTES) % MESSAGE_ID_SIZE)] = (high << 4) | low;
  }
  if (!valid) throw new RangeError(`not a UUID: ${uuid}`);
}

export function readMessageId(frame: Buffer): string {
  const low = frame.toString('hex', MESSAGE_ID_OFFSET, MESSAGE_ID_OFFSET + UUID_HALF_BYTES);
  const high = frame.toString(
    'hex',
    MESSAGE_ID_OFFSET + UUID_HALF_BYTES,
    MESSAGE_ID_OFFSET + MESSAGE_ID_SIZE,
  );
  return `${high.slice(0, 8)}-${high.slice(8, 12)}-${high.slice(12, 16)}-${low.slice(0, 4)}-${low.slice(4)}`;
}

const TWO_POW_32 = 0x1_0000_0000;

/**
 * A 64-bit big-endian integer as a number, read as two 32-bit halves (much cheaper than BigInt on
 * the per-frame path). Exact for every safe integer; anything else is a protocol error.
 */
function readInt64(frame: Buffer, offset: number, signed: boolean, field: string): number {
  const high = signed ? frame.readInt32BE(offset) : frame.readUInt32BE(offset);
  const value = high * TWO_POW_32 + frame.readUInt32BE(offset + 4);
  if (!Number.isSafeInteger(value)) {
    const exact = signed ? frame.readBigInt64BE(offset) : frame.readBigUInt64BE(offset);
    throw new SsmProtocolError('SSM_ERR_NUMBER_RANGE', `${field} ${exact} is outside the safe integer range`);
  }
  return value;
}

function writeInt64(frame: Buffer, value: number, offset: number, field: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${field} must be a safe integer, got ${value}`);
  const high = Math.floor(value / TWO_POW_32);
  frame.writeInt32BE(high, offset);
  frame.writeUInt32BE(value - high * TWO_POW_32, offset + 4);
}

/** Serializes a frame: HeaderLength 116, digest and length computed from the payload. */
export function encodeFrame(fields: FrameFields): Buffer {
  // Every one of the 120 header bytes is written below and the payload copied after them, so
  // the uninitialised (pooled, much cheaper) allocation never leaks old memory.
  const frame = Buffer.allocUnsafe(PAYLOAD_OFFSET + fields.payload.length);
  frame.writeUInt32BE(HEADER_LENGTH, HEADER_LENGTH_OFFSET);
  writeMessageType(frame, fields.messageType);
  frame.writeUInt32BE(fields.schemaVersion ?? SCHEMA_VERSION, SCHEMA_VERSION_OFFSET);
  if (fields.createdDateMs < 0)
    throw new RangeError(`CreatedDate must not be negative, got ${fields.createdDateMs}`);
  writeInt64(frame, fields.createdDateMs, CREATED_DATE_OFFSET, 'CreatedDate');
  writeInt64(frame, fields.sequenceNumber, SEQUENCE_NUMBER_OFFSET, 'SequenceNumber');
  frame.writeBigUInt64BE(fields.flags, FLAGS_OFFSET);
  writeMessageId(frame, fields.messageId);
  sha256(fields.payload).copy(frame, PAYLOAD_DIGEST_OFFSET);
  frame.writeUInt32BE(fields.payloadType, PAYLOAD_TYPE_OFFSET);
  frame.writeUInt32BE(fields.payload.length, PAYLOAD_LENGTH_OFFSET);
  fields.payload.copy(frame, PAYLOAD_OFFSET);
  return frame;
}

/**
 * Parses and validates one frame. Stricter than both reference parsers (which ignore
 * PayloadLength): HeaderLength must be 116 and the frame exactly 120 + PayloadLength bytes.
 * start_publication / pause_publication are returned with whatever fields can be read.
 */
export function decodeFrame(frame: Buffer): Frame {
  if (frame.length < MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE) {
    throw new SsmProtocolError('SSM_ERR_SHORT_FRAME', `frame of ${frame.length} bytes has no message type`);
  }
  const messageType = readMessageType(frame);
  if (UNVALIDATED_MESSAGE_TYPES.has(messageType)) return decodeLeniently(frame, messageType);
  if (!KNOWN_MESSAGE_TYPES.has(messageType)) {
    throw new SsmProtocolError('SSM_ERR_UNKNOWN_MESSAGE_TYPE', `unknown message type "${messageType}"`);
  }
  if (frame.length < PAYLOAD_OFFSET) {
    throw new SsmProtocolError('SSM_ERR_SHORT_FRAME', `frame of ${frame.length} bytes < ${PAYLOAD_OFFSET}`);
  }
  const headerLength = frame.readUInt32BE(HEADER_LENGTH_OFFSET);
  if (headerLength !== HEADER_LENGTH) {
    throw new SsmProtocolError('SSM_ERR_HEADER_LENGTH', `HeaderLength ${headerLength} != ${HEADER_LENGTH}`);
  }
  const payloadLength = frame.readUInt32BE(PAYLOAD_LENGTH_OFFSET);
  if (PAYLOAD_OFFSET + payloadLength !== frame.length) {
    throw new SsmProtocolError(
      'SSM_ERR_LENGTH_MISMATCH',
      `payload length ${payloadLength} does not fit the frame: ${PAYLOAD_OFFSET} + ${payloadLength} != ${frame.length}`,
    );
  }
  if (frame.readUInt32BE(CREATED_DATE_OFFSET) === 0 && frame.readUInt32BE(CREATED_DATE_OFFSET + 4) === 0) {
    throw new SsmProtocolError('SSM_ERR_ZERO_CREATED_DATE', 'CreatedDate is 0');
  }
  const payload = frame.subarray(PAYLOAD_OFFSET);
  if (payloadLength > 0) {
    const digest = frame.subarray(PAYLOAD_DIGEST_OFFSET, PAYLOAD_DIGEST_OFFSET + PAYLOAD_DIGEST_SIZE);
    if (!sha256(payload).equals(digest)) {
      throw new SsmProtocolError('SSM_ERR_DIGEST_MISMATCH', `payload digest mismatch (${messageType})`);
    }
  }
  return {
    messageType,
    schemaVersion: frame.readUInt32BE(SCHEMA_VERSION_OFFSET),
    createdDateMs: readInt64(frame, CREATED_DATE_OFFSET, false, 'CreatedDate'),
    sequenceNumber: readInt64(frame, SEQUENCE_NUMBER_OFFSET, true, 'SequenceNumber'),
    flags: frame.readBigUInt64BE(FLAGS_OFFSET),
    messageId: readMessageId(frame),
    payloadType: frame.readUInt32BE(PAYLOAD_TYPE_OFFSET),
    payload,
  };
}

function decodeLeniently(frame: Buffer, messageType: string): Frame {
  const has = (offset: number, size: number): boolean => frame.length >= offset + size;
  return {
    messageType,
    schemaVersion: has(SCHEMA_VERSION_OFFSET, 4) ? frame.readUInt32BE(SCHEMA_VERSION_OFFSET) : 0,
    createdDateMs: has(CREATED_DATE_OFFSET, 8) ? Number(frame.readBigUInt64BE(CREATED_DATE_OFFSET)) : 0,
    sequenceNumber: has(SEQUENCE_NUMBER_OFFSET, 8) ? Number(frame.readBigInt64BE(SEQUENCE_NUMBER_OFFSET)) : 0,
    flags: has(FLAGS_OFFSET, 8) ? frame.readBigUInt64BE(FLAGS_OFFSET) : 0n,
    messageId: has(MESSAGE_ID_OFFSET, MESSAGE_ID_SIZE) ? readMessageId(frame) : '',
    payloadType: has(PAYLOAD_TYPE_OFFSET, 4) ? frame.readUInt32BE(PAYLOAD_TYPE_OFFSET) : 0,
    payload: frame.length > PAYLOAD_OFFSET ? frame.subarray(PAYLOAD_OFFSET) : Buffer.alloc(0),
  };
}

export interface AcknowledgeContent {
  readonly AcknowledgedMessageType: string;
  readonly AcknowledgedMessageId: string;
  readonly AcknowledgedMessageSequenceNumber: number;
  readonly IsSequentialMessage: boolean;
}

/** Field order as Go's encoding/json writes the struct (vector V12). */
export function buildAcknowledgeContent(acked: Pick<Frame, 'messageType' | 'messageId' | 'sequenceNumber'>) {
  // Sent once per received frame: when both strings need no JSON escaping (always, for frames we
  // decoded) a template is several times cheaper than JSON.stringify and gives the same bytes.
  if (KNOWN_MESSAGE_TYPES.has(acked.messageType) && UUID_PATTERN.test(acked.messageId)) {
    return Buffer.from(
      `{"AcknowledgedMessageType":"${acked.messageType}","AcknowledgedMessageId":"${acked.messageId}","AcknowledgedMessageSequenceNumber":${acked.sequenceNumber},"IsSequentialMessage":true}`,
      'latin1',
    );
  }
  const content: AcknowledgeContent = {
    AcknowledgedMessageType: acked.messageType,
    AcknowledgedMessageId: acked.messageId,
    AcknowledgedMessageSequenceNumber: acked.sequenceNumber,
    IsSequentialMessage: true,
  };
  return Buffer.from(JSON.stringify(content), 'utf8');
}

export interface FrameIdentity {
  readonly createdDateMs: number;
  readonly messageId: string;
}

/** An `acknowledge` frame: seq 0, flags SYN|FIN, PayloadType 0, JSON naming the acked frame. */
export function encodeAcknowledge(
  acked: Pick<Frame, 'messageType' | 'messageId' | 'sequenceNumber'>,
  identity: FrameIdentity,
): Buffer {
  return encodeFrame({
    messageType: MessageType.Acknowledge,
    sequenceNumber: 0,
    flags: ACK_FLAGS,
    messageId: identity.messageId,
    payloadType: PayloadType.None,
    payload: buildAcknowledgeContent(acked),
    createdDateMs: identity.createdDateMs,
  });
}

/** Parses an acknowledge payload; only the sequence number matters to either end. */
export function parseAcknowledgeContent(payload: Buffer): AcknowledgeContent {
  const parsed = parseJsonObject(payload, 'acknowledge');
  const sequenceNumber = parsed.AcknowledgedMessageSequenceNumber;
  if (typeof sequenceNumber !== 'number' || !Number.isSafeInteger(sequenceNumber)) {
    throw new SsmProtocolError('SSM_ERR_BAD_PAYLOAD', 'acknowledge without a sequence number');
  }
  return {
    AcknowledgedMessageType: textField(parsed.AcknowledgedMessageType),
    AcknowledgedMessageId: textField(parsed.AcknowledgedMessageId),
    AcknowledgedMessageSequenceNumber: sequenceNumber,
    IsSequentialMessage: parsed.IsSequentialMessage !== false,
  };
}

/** String(value) throws a TypeError for objects such as {"toString":null}; only primitives are text. */
function textField(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : '';
}

export function parseJsonObject(payload: Buffer, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new SsmProtocolError('SSM_ERR_BAD_PAYLOAD', `${what} payload is not JSON`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SsmProtocolError('SSM_ERR_BAD_PAYLOAD', `${what} payload is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

export interface OpenDataChannelInput {
  readonly requestId: string;
  readonly tokenValue: string;
  readonly clientId: string;
  readonly clientVersion?: string;
}

/** The first (text) frame on a new or resumed connection, field order as the plugin writes it (V0). */
export function encodeOpenDataChannel(input: OpenDataChannelInput): string {
  return JSON.stringify({
    MessageSchemaVersion: MESSAGE_SCHEMA_VERSION,
    RequestId: input.requestId,
    TokenValue: input.tokenValue,
    ClientId: input.clientId,
    ClientVersion: input.clientVersion ?? CLIENT_VERSION,
  });
}

/** Flag payloads are one big-endian uint32 (V11). */
export function encodeFlagPayload(flag: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(flag, 0);
  return payload;
}

/** Size payload as the agent parses it; values are whole numbers the agent truncates to uint16. */
export function encodeSizePayload(cols: number, rows: number): Buffer {
  if (
    !Number.isInteger(cols) ||
    !Number.isInteger(rows) ||
    cols < 1 ||
    rows < 1 ||
    cols > 65535 ||
    rows > 65535
  ) {
    throw new RangeError(`terminal size must be whole numbers in 1..65535, got ${cols}x${rows}`);
  }
  return Buffer.from(JSON.stringify({ cols, rows }), 'utf8');
}
