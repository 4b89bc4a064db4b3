import { createHash } from 'node:crypto';
import {
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
  MessageType,
  PAYLOAD_DIGEST_OFFSET,
  PAYLOAD_DIGEST_SIZE,
  PAYLOAD_LENGTH_OFFSET,
  PAYLOAD_OFFSET,
  PAYLOAD_TYPE_OFFSET,
  PayloadType,
  SCHEMA_VERSION,
  SCHEMA_VERSION_OFFSET,
  SEQUENCE_NUMBER_OFFSET,
} from './constants';
import { SsmProtocolError } from './errors';

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

export function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** 32 bytes, left-aligned, padded with spaces as both reference serializers do. */
export function writeMessageType(target: Buffer, messageType: string): void {
  const encoded = Buffer.from(messageType, 'ascii');
  if (encoded.length > MESSAGE_TYPE_SIZE) {
    throw new RangeError(`message type "${messageType}" is longer than ${MESSAGE_TYPE_SIZE} bytes`);
  }
  target.fill(SPACE, MESSAGE_TYPE_OFFSET, MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE);
  encoded.copy(target, MESSAGE_TYPE_OFFSET);
}

/** Readers strip NULs, then whitespace, so NUL padding is accepted too. */
export function readMessageType(frame: Buffer): string {
  return frame
    .toString('latin1', MESSAGE_TYPE_OFFSET, MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE)
    .replace(/\0/g, '')
    .trim();
}

/** The agent expects the UUID's low half first (session-manager-plugin putUuid). */
export function writeMessageId(target: Buffer, uuid: string): void {
  if (!UUID_PATTERN.test(uuid)) throw new RangeError(`not a UUID: ${uuid}`);
  const bytes = Buffer.from(uuid.replace(/-/g, ''), 'hex');
  bytes.copy(target, MESSAGE_ID_OFFSET, UUID_HALF_BYTES, MESSAGE_ID_SIZE);
  bytes.copy(target, MESSAGE_ID_OFFSET + UUID_HALF_BYTES, 0, UUID_HALF_BYTES);
}

export function readMessageId(frame: Buffer): string {
  const low = frame.subarray(MESSAGE_ID_OFFSET, MESSAGE_ID_OFFSET + UUID_HALF_BYTES);
  const high = frame.subarray(MESSAGE_ID_OFFSET + UUID_HALF_BYTES, MESSAGE_ID_OFFSET + MESSAGE_ID_SIZE);
  const hex = Buffer.concat([high, low]).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function toSafeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new SsmProtocolError('SSM_ERR_NUMBER_RANGE', `${field} ${value} is outside the safe integer range`);
  }
  return Number(value);
}

/** Serializes a frame: HeaderLength 116, digest and length computed from the payload. */
export function encodeFrame(fields: FrameFields): Buffer {
  const frame = Buffer.alloc(PAYLOAD_OFFSET + fields.payload.length);
  frame.writeUInt32BE(HEADER_LENGTH, HEADER_LENGTH_OFFSET);
  writeMessageType(frame, fields.messageType);
  frame.writeUInt32BE(fields.schemaVersion ?? SCHEMA_VERSION, SCHEMA_VERSION_OFFSET);
  frame.writeBigUInt64BE(BigInt(fields.createdDateMs), CREATED_DATE_OFFSET);
  frame.writeBigInt64BE(BigInt(fields.sequenceNumber), SEQUENCE_NUMBER_OFFSET);
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
  const createdDate = frame.readBigUInt64BE(CREATED_DATE_OFFSET);
  if (createdDate === 0n) throw new SsmProtocolError('SSM_ERR_ZERO_CREATED_DATE', 'CreatedDate is 0');
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
    createdDateMs: toSafeNumber(createdDate, 'CreatedDate'),
    sequenceNumber: toSafeNumber(frame.readBigInt64BE(SEQUENCE_NUMBER_OFFSET), 'SequenceNumber'),
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
