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
const SPACE = 0x20;

type OneShotHash = {
  (algorithm: string, data: Buffer, outputEncoding: 'buffer'): Buffer;
  (algorithm: string, data: Buffer, outputEncoding: 'latin1'): string;
};
/** crypto.hash (Node >= 20.12) skips the Hash object and is noticeably cheaper per frame. */
const oneShotHash = (crypto as unknown as { hash?: OneShotHash }).hash;

export function sha256(bytes: Buffer): Buffer {
  return oneShotHash ? oneShotHash('sha256', bytes, 'buffer') : createHash('sha256').update(bytes).digest();
}

/**
 * The digest as a 32-character latin1 string (one character per byte). For the per-frame path:
 * a string result costs far less than a Buffer made in native code (about 1 µs per frame).
 */
function sha256Latin1(bytes: Buffer): string {
  return oneShotHash
    ? oneShotHash('sha256', bytes, 'latin1')
    : createHash('sha256').update(bytes).digest('binary'); // 'binary' is latin1
}

/** 32 bytes, left-aligned, padded with spaces as both reference serializers do. */
export function writeMessageType(target: Buffer, messageType: string): void {
  const padded = paddedMessageType(messageType);
  // TypedArray#set skips Buffer#copy's argument checks; copy keeps its silent truncation for short targets.
  if (target.length >= MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE) target.set(padded, MESSAGE_TYPE_OFFSET);
  else padded.copy(target, MESSAGE_TYPE_OFFSET);
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

/**
 * The known types by their first byte (all different today; a list in case that changes), so the
 * common case is one byte comparison loop and no string at all.
 */
const KNOWN_TYPES_BY_FIRST_BYTE = new Map<number, { readonly padded: Buffer; readonly type: string }[]>();
for (const type of KNOWN_MESSAGE_TYPES) {
  const padded = paddedMessageType(type);
  const first = padded[0] as number;
  KNOWN_TYPES_BY_FIRST_BYTE.set(first, [...(KNOWN_TYPES_BY_FIRST_BYTE.get(first) ?? []), { padded, type }]);
}

function hasBytesAt(frame: Buffer, offset: number, expected: Buffer): boolean {
  if (frame.length < offset + expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (frame[offset + i] !== expected[i]) return false;
  return true;
}

/** Readers strip NULs, then whitespace, so NUL padding is accepted too. */
export function readMessageType(frame: Buffer): string {
  const candidates = KNOWN_TYPES_BY_FIRST_BYTE.get(frame[MESSAGE_TYPE_OFFSET] as number);
  if (candidates !== undefined) {
    for (const known of candidates)
      if (hasBytesAt(frame, MESSAGE_TYPE_OFFSET, known.padded)) return known.type;
  }
  const raw = frame.toString('latin1', MESSAGE_TYPE_OFFSET, MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE);
  return KNOWN_PADDED_TYPES.get(raw) ?? raw.replace(/\0/g, '').trim();
}

/**
 * Where the two hex digits of each message id byte *on the wire* go in the 8-4-4-4-12 form: the
 * agent expects the UUID's low half first (session-manager-plugin putUuid), so wire bytes 0..7 are
 * UUID bytes 8..15 and wire bytes 8..15 are UUID bytes 0..7.
 */
const WIRE_BYTE_TEXT_POSITIONS = Uint8Array.from([19, 21, 24, 26, 28, 30, 32, 34, 0, 2, 4, 6, 9, 11, 14, 16]);
const UUID_DASH_POSITIONS = Uint8Array.from([8, 13, 18, 23]);
const UUID_STRING_LENGTH = 36;
const DASH = 0x2d;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Hex digit value by character code (either case), -1 for anything else. */
const HEX_VALUES = new Int8Array(128).fill(-1);
for (let value = 0; value < 16; value++) {
  HEX_VALUES[value.toString(16).charCodeAt(0)] = value;
  HEX_VALUES[value.toString(16).toUpperCase().charCodeAt(0)] = value;
}

function hexValue(code: number): number {
  return code < HEX_VALUES.length ? (HEX_VALUES[code] as number) : -1;
}

/** True for the 8-4-4-4-12 hex form (either case), which needs no JSON escaping. */
function isUuidText(uuid: string): boolean {
  if (uuid.length !== UUID_STRING_LENGTH) return false;
  for (let i = 0; i < UUID_STRING_LENGTH; i++) {
    const code = uuid.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23 ? code !== DASH : hexValue(code) < 0) return false;
  }
  return true;
}

/** The agent expects the UUID's low half first (session-manager-plugin putUuid). */
export function writeMessageId(target: Buffer, uuid: string): void {
  // Hand-rolled parse: this runs for every frame we send, and slicing plus Buffer#write is slower.
  let valid = uuid.length === UUID_STRING_LENGTH;
  for (let i = 0; valid && i < UUID_DASH_POSITIONS.length; i++) {
    valid = uuid.charCodeAt(UUID_DASH_POSITIONS[i] as number) === DASH;
  }
  for (let byte = 0; valid && byte < MESSAGE_ID_SIZE; byte++) {
    const at = WIRE_BYTE_TEXT_POSITIONS[byte] as number;
    const high = hexValue(uuid.charCodeAt(at));
    const low = hexValue(uuid.charCodeAt(at + 1));
    if (high < 0 || low < 0) valid = false;
    else target[MESSAGE_ID_OFFSET + byte] = (high << 4) | low;
  }
  if (!valid) throw new RangeError(`not a UUID: ${uuid}`);
}

/** Scratch space for readMessageId: one latin1 decode of it gives a flat string in one native call. */
const messageIdText = Buffer.alloc(UUID_STRING_LENGTH, DASH);

export function readMessageId(frame: Buffer): string {
  if (frame.length < MESSAGE_ID_OFFSET + MESSAGE_ID_SIZE) return readTruncatedMessageId(frame);
  // Runs for every received frame: a table walk beats hex-encoding both halves and slicing them.
  for (let byte = 0; byte < MESSAGE_ID_SIZE; byte++) {
    const value = frame[MESSAGE_ID_OFFSET + byte] as number;
    const at = WIRE_BYTE_TEXT_POSITIONS[byte] as number;
    messageIdText[at] = HEX_DIGITS[value >> 4] as number;
    messageIdText[at + 1] = HEX_DIGITS[value & 0xf] as number;
  }
  return messageIdText.toString('latin1', 0, UUID_STRING_LENGTH);
}

/** What readMessageId always returned for a frame too short to hold a whole id. */
function readTruncatedMessageId(frame: Buffer): string {
  const half = MESSAGE_ID_SIZE / 2;
  const low = frame.toString('hex', MESSAGE_ID_OFFSET, MESSAGE_ID_OFFSET + half);
  const high = frame.toString('hex', MESSAGE_ID_OFFSET + half, MESSAGE_ID_OFFSET + MESSAGE_ID_SIZE);
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

/** Flags the protocol uses (0, SYN, FIN, SYN|FIN), shared so that reading them allocates no BigInt. */
const SMALL_FLAGS: readonly bigint[] = [0n, 1n, 2n, 3n];
const UINT32_MAX_BIGINT = 0xffff_ffffn;

function readFlags(frame: Buffer): bigint {
  if (frame.readUInt32BE(FLAGS_OFFSET) === 0) {
    const low = frame.readUInt32BE(FLAGS_OFFSET + 4);
    if (low < SMALL_FLAGS.length) return SMALL_FLAGS[low] as bigint;
  }
  return frame.readBigUInt64BE(FLAGS_OFFSET);
}

/**
 * Big-endian uint32 into a frame this module allocated (so the 120 header bytes exist) without
 * Buffer#writeUInt32BE's checks; `value` must be a whole number in 0..2^32-1.
 */
function putUint32(frame: Buffer, offset: number, value: number): void {
  frame[offset] = value >>> 24;
  frame[offset + 1] = value >>> 16;
  frame[offset + 2] = value >>> 8;
  frame[offset + 3] = value;
}

/** A caller's uint32 field: anything putUint32 cannot take goes to writeUInt32BE (and its errors). */
function writeUint32Field(frame: Buffer, offset: number, value: number): void {
  if (Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) putUint32(frame, offset, value);
  else frame.writeUInt32BE(value, offset);
}

function writeFlags(frame: Buffer, flags: bigint): void {
  // writeBigUInt64BE does several BigInt operations; every flag value in use fits in 32 bits.
  if (typeof flags === 'bigint' && flags >= 0n && flags <= UINT32_MAX_BIGINT) {
    putUint32(frame, FLAGS_OFFSET, 0);
    putUint32(frame, FLAGS_OFFSET + 4, Number(flags));
  } else {
    frame.writeBigUInt64BE(flags, FLAGS_OFFSET);
  }
}

/** Compares the PayloadDigest field with a latin1 digest (one character per byte), allocating nothing. */
function digestMatches(frame: Buffer, digest: string): boolean {
  for (let i = 0; i < PAYLOAD_DIGEST_SIZE; i++) {
    if (frame[PAYLOAD_DIGEST_OFFSET + i] !== digest.charCodeAt(i)) return false;
  }
  return true;
}

function writeInt64(frame: Buffer, value: number, offset: number, field: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${field} must be a safe integer, got ${value}`);
  const high = Math.floor(value / TWO_POW_32);
  // A safe integer's high half fits in an int32; >>> 0 gives its two's-complement bytes.
  putUint32(frame, offset, high >>> 0);
  putUint32(frame, offset + 4, value - high * TWO_POW_32);
}

/** Serializes a frame: HeaderLength 116, digest and length computed from the payload. */
export function encodeFrame(fields: FrameFields): Buffer {
  // Every one of the 120 header bytes is written below and the payload copied after them, so
  // the uninitialised (pooled, much cheaper) allocation never leaks old memory.
  const frame = Buffer.allocUnsafe(PAYLOAD_OFFSET + fields.payload.length);
  writeHeader(frame, fields, fields.payload);
  fields.payload.copy(frame, PAYLOAD_OFFSET);
  return frame;
}

type HeaderFields = Omit<FrameFields, 'payload'>;

/** All 120 header bytes of `frame` for `payload` (which may already sit at PAYLOAD_OFFSET in it). */
function writeHeader(frame: Buffer, fields: HeaderFields, payload: Buffer): void {
  putUint32(frame, HEADER_LENGTH_OFFSET, HEADER_LENGTH);
  writeMessageType(frame, fields.messageType);
  writeUint32Field(frame, SCHEMA_VERSION_OFFSET, fields.schemaVersion ?? SCHEMA_VERSION);
  if (fields.createdDateMs < 0)
    throw new RangeError(`CreatedDate must not be negative, got ${fields.createdDateMs}`);
  writeInt64(frame, fields.createdDateMs, CREATED_DATE_OFFSET, 'CreatedDate');
  writeInt64(frame, fields.sequenceNumber, SEQUENCE_NUMBER_OFFSET, 'SequenceNumber');
  writeFlags(frame, fields.flags);
  writeMessageId(frame, fields.messageId);
  frame.write(sha256Latin1(payload), PAYLOAD_DIGEST_OFFSET, PAYLOAD_DIGEST_SIZE, 'latin1');
  writeUint32Field(frame, PAYLOAD_TYPE_OFFSET, fields.payloadType);
  writeUint32Field(frame, PAYLOAD_LENGTH_OFFSET, payload.length);
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
  if (payloadLength > 0 && !digestMatches(frame, sha256Latin1(payload))) {
    throw new SsmProtocolError('SSM_ERR_DIGEST_MISMATCH', `payload digest mismatch (${messageType})`);
  }
  return {
    messageType,
    schemaVersion: frame.readUInt32BE(SCHEMA_VERSION_OFFSET),
    createdDateMs: readInt64(frame, CREATED_DATE_OFFSET, false, 'CreatedDate'),
    sequenceNumber: readInt64(frame, SEQUENCE_NUMBER_OFFSET, true, 'SequenceNumber'),
    flags: readFlags(frame),
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

type AckedFrame = Pick<Frame, 'messageType' | 'messageId' | 'sequenceNumber'>;

/**
 * The acknowledge JSON as a template when both strings need no JSON escaping (always, for frames
 * we decoded): several times cheaper than JSON.stringify, and the same bytes. Undefined otherwise.
 */
function templateAcknowledgeContent(acked: AckedFrame): string | undefined {
  if (!KNOWN_MESSAGE_TYPES.has(acked.messageType) || !isUuidText(acked.messageId)) return undefined;
  return `{"AcknowledgedMessageType":"${acked.messageType}","AcknowledgedMessageId":"${acked.messageId}","AcknowledgedMessageSequenceNumber":${acked.sequenceNumber},"IsSequentialMessage":true}`;
}

/** Field order as Go's encoding/json writes the struct (vector V12). */
export function buildAcknowledgeContent(acked: AckedFrame) {
  // Sent once per received frame, so the common case skips JSON.stringify.
  const template = templateAcknowledgeContent(acked);
  if (template !== undefined) return Buffer.from(template, 'latin1');
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
export function encodeAcknowledge(acked: AckedFrame, identity: FrameIdentity): Buffer {
  const header: HeaderFields = {
    messageType: MessageType.Acknowledge,
    sequenceNumber: 0,
    flags: ACK_FLAGS,
    messageId: identity.messageId,
    payloadType: PayloadType.None,
    createdDateMs: identity.createdDateMs,
  };
  const template = templateAcknowledgeContent(acked);
  if (template === undefined) return encodeFrame({ ...header, payload: buildAcknowledgeContent(acked) });
  // The (ASCII) template is written straight into the frame: no intermediate payload buffer.
  const frame = Buffer.allocUnsafe(PAYLOAD_OFFSET + template.length);
  frame.write(template, PAYLOAD_OFFSET, 'latin1');
  writeHeader(frame, header, frame.subarray(PAYLOAD_OFFSET));
  return frame;
}

/**
 * The exact shape both ends write (buildAcknowledgeContent, the agent's Go struct): no whitespace,
 * strings without escapes or non-ASCII, an integer short enough to be safe. Anything else goes
 * through JSON.parse, so this only skips work and never changes a result.
 */
const PLAIN_ACKNOWLEDGE_CONTENT =
  /^\{"AcknowledgedMessageType":"([\x20\x21\x23-\x5b\x5d-\x7e]*)","AcknowledgedMessageId":"([\x20\x21\x23-\x5b\x5d-\x7e]*)","AcknowledgedMessageSequenceNumber":(-?(?:0|[1-9][0-9]{0,14})),"IsSequentialMessage":(true|false)\}$/;

/** Parses an acknowledge payload; only the sequence number matters to either end. */
export function parseAcknowledgeContent(payload: Buffer): AcknowledgeContent {
  // Every client frame an agent receives is mostly acks: a match is cheaper than JSON.parse.
  const plain = PLAIN_ACKNOWLEDGE_CONTENT.exec(payload.toString('latin1'));
  if (plain !== null) {
    return {
      AcknowledgedMessageType: plain[1] as string,
      AcknowledgedMessageId: plain[2] as string,
      AcknowledgedMessageSequenceNumber: Number(plain[3]),
      IsSequentialMessage: plain[4] === 'true',
    };
  }
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
