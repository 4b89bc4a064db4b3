import * as fc from 'fast-check';
import {
  buildAcknowledgeContent,
  decodeFrame,
  encodeAcknowledge,
  encodeFlagPayload,
  encodeFrame,
  encodeOpenDataChannel,
  encodeSizePayload,
  type Frame,
  type FrameFields,
  parseAcknowledgeContent,
  parseJsonObject,
  readMessageId,
  readMessageType,
  sha256,
  writeMessageId,
  writeMessageType,
} from '../../lambda/ssm/codec';
import {
  ACK_FLAGS,
  CLIENT_VERSION,
  CREATED_DATE_OFFSET,
  CREATED_DATE_SIZE,
  FLAG_FIN,
  FLAG_SYN,
  FLAGS_OFFSET,
  FLAGS_SIZE,
  FlagValue,
  HEADER_LENGTH,
  HEADER_LENGTH_OFFSET,
  HEADER_LENGTH_SIZE,
  MESSAGE_ID_OFFSET,
  MESSAGE_ID_SIZE,
  MESSAGE_SCHEMA_VERSION,
  MESSAGE_TYPE_OFFSET,
  MESSAGE_TYPE_SIZE,
  MessageType,
  PAYLOAD_DIGEST_OFFSET,
  PAYLOAD_DIGEST_SIZE,
  PAYLOAD_LENGTH_OFFSET,
  PAYLOAD_LENGTH_SIZE,
  PAYLOAD_OFFSET,
  PAYLOAD_TYPE_OFFSET,
  PAYLOAD_TYPE_SIZE,
  PayloadType,
  SCHEMA_VERSION,
  SCHEMA_VERSION_OFFSET,
  SCHEMA_VERSION_SIZE,
  SEQUENCE_NUMBER_OFFSET,
  SEQUENCE_NUMBER_SIZE,
} from '../../lambda/ssm/constants';
import { SsmProtocolError, type SsmProtocolErrorCode } from '../../lambda/ssm/errors';
import {
  assertProperty,
  expectProtocolError,
  type FrameVector,
  formatUuid,
  frameVector,
  frameVectors,
  fromHex,
  loadVectors,
  openVector,
  toHex,
} from '../support/hex';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KNOWN_TYPES = Object.values(MessageType);
/** Every known type except the two service messages that are decoded leniently. */
const STRICT_TYPES: ReadonlySet<string> = new Set(
  KNOWN_TYPES.filter((t) => t !== MessageType.StartPublication && t !== MessageType.PausePublication),
);

function frameOf(vector: FrameVector): Buffer {
  return fromHex(vector.frameHex);
}

function fieldsOf(vector: FrameVector): FrameFields {
  const { header } = vector;
  return {
    messageType: header.messageType,
    schemaVersion: header.schemaVersion,
    createdDateMs: header.createdDateMs,
    sequenceNumber: header.sequenceNumber,
    flags: BigInt(header.flags),
    messageId: header.messageId,
    payloadType: header.payloadType,
    payload: fromHex(vector.payloadHex),
  };
}

/** A copy of `frame` with `edit` applied to it. */
function mutated(frame: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(frame);
  edit(copy);
  return copy;
}

function withMessageType(frame: Buffer, raw: Buffer): Buffer {
  return mutated(frame, (copy) => {
    copy.fill(0x20, MESSAGE_TYPE_OFFSET, MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE);
    raw.copy(copy, MESSAGE_TYPE_OFFSET);
  });
}

/** The contract of decodeFrame on hostile input: a well-formed Frame or an SsmProtocolError. */
function decodeOrReject(bytes: Buffer): Frame | SsmProtocolError {
  try {
    return decodeFrame(bytes);
  } catch (err) {
    if (err instanceof SsmProtocolError) return err;
    throw err;
  }
}

/** What a strictly decoded frame always satisfies. */
function expectStrictInvariants(bytes: Buffer, frame: Frame): void {
  expect(STRICT_TYPES.has(frame.messageType)).toBe(true);
  expect(bytes.readUInt32BE(HEADER_LENGTH_OFFSET)).toBe(HEADER_LENGTH);
  expect(frame.payload.length).toBe(bytes.readUInt32BE(PAYLOAD_LENGTH_OFFSET));
  expect(bytes.length).toBe(PAYLOAD_OFFSET + frame.payload.length);
  expect(Number.isSafeInteger(frame.createdDateMs) && frame.createdDateMs > 0).toBe(true);
  expect(Number.isSafeInteger(frame.sequenceNumber)).toBe(true);
  expect(frame.messageId).toMatch(UUID_PATTERN);
  if (frame.payload.length > 0) {
    expect(sha256(frame.payload)).toEqual(
      bytes.subarray(PAYLOAD_DIGEST_OFFSET, PAYLOAD_DIGEST_OFFSET + PAYLOAD_DIGEST_SIZE),
    );
  }
}

describe('vector fixtures', () => {
  it('hold V0..V16 in order, with their source noted', () => {
    const file = loadVectors();
    expect(file.source).toContain('ssm-protocol.md');
    expect(file.vectors.map((v) => v.id)).toEqual(Array.from({ length: 17 }, (_, i) => `V${i}`));
    expect(frameVectors().map((v) => v.id)).toEqual(Array.from({ length: 15 }, (_, i) => `V${i + 1}`));
  });

  it.each(frameVectors().map((v) => [v.id, v] as const))('%s is self-consistent', (_id, vector) => {
    const frame = frameOf(vector);
    const payload = fromHex(vector.payloadHex);
    expect(frame.length).toBe(vector.frameLength);
    expect(payload.length).toBe(vector.header.payloadLength);
    expect(frame.subarray(PAYLOAD_OFFSET)).toEqual(payload);
    if (vector.payloadText !== undefined) expect(payload.toString('utf8')).toBe(vector.payloadText);
  });
});

describe('frame layout constants', () => {
  it('pins every offset and size of §2', () => {
    expect([HEADER_LENGTH_OFFSET, HEADER_LENGTH_SIZE]).toEqual([0, 4]);
    expect([MESSAGE_TYPE_OFFSET, MESSAGE_TYPE_SIZE]).toEqual([4, 32]);
    expect([SCHEMA_VERSION_OFFSET, SCHEMA_VERSION_SIZE]).toEqual([36, 4]);
    expect([CREATED_DATE_OFFSET, CREATED_DATE_SIZE]).toEqual([40, 8]);
    expect([SEQUENCE_NUMBER_OFFSET, SEQUENCE_NUMBER_SIZE]).toEqual([48, 8]);
    expect([FLAGS_OFFSET, FLAGS_SIZE]).toEqual([56, 8]);
    expect([MESSAGE_ID_OFFSET, MESSAGE_ID_SIZE]).toEqual([64, 16]);
    expect([PAYLOAD_DIGEST_OFFSET, PAYLOAD_DIGEST_SIZE]).toEqual([80, 32]);
    expect([PAYLOAD_TYPE_OFFSET, PAYLOAD_TYPE_SIZE]).toEqual([112, 4]);
    expect([PAYLOAD_LENGTH_OFFSET, PAYLOAD_LENGTH_SIZE]).toEqual([116, 4]);
    expect(PAYLOAD_OFFSET).toBe(120);
    expect(HEADER_LENGTH).toBe(116);
    expect(SCHEMA_VERSION).toBe(1);
  });

  it('pins flags, message types, payload types and version strings', () => {
    expect([FLAG_SYN, FLAG_FIN, ACK_FLAGS]).toEqual([1n, 2n, 3n]);
    expect(MessageType).toEqual({
      InputStreamData: 'input_stream_data',
      OutputStreamData: 'output_stream_data',
      Acknowledge: 'acknowledge',
      ChannelClosed: 'channel_closed',
      StartPublication: 'start_publication',
      PausePublication: 'pause_publication',
    });
    expect(PayloadType).toEqual({
      None: 0,
      Output: 1,
      Error: 2,
      Size: 3,
      Parameter: 4,
      HandshakeRequest: 5,
      HandshakeResponse: 6,
      HandshakeComplete: 7,
      EncChallengeRequest: 8,
      EncChallengeResponse: 9,
      Flag: 10,
      StdErr: 11,
      ExitCode: 12,
    });
    expect(FlagValue).toEqual({ DisconnectToPort: 1, TerminateSession: 2, ConnectToPortError: 3 });
    expect(CLIENT_VERSION).toBe('1.2.677.0');
    expect(MESSAGE_SCHEMA_VERSION).toBe('1.0');
  });

  it('matches the V1 header byte map of §14 field by field', () => {
    const v1 = frameOf(frameVector('V1'));
    const at = (offset: number, size: number): string => toHex(v1.subarray(offset, offset + size));
    expect(at(HEADER_LENGTH_OFFSET, HEADER_LENGTH_SIZE)).toBe('00000074');
    expect(v1.toString('latin1', MESSAGE_TYPE_OFFSET, MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE)).toBe(
      `output_stream_data${' '.repeat(14)}`,
    );
    expect(at(SCHEMA_VERSION_OFFSET, SCHEMA_VERSION_SIZE)).toBe('00000001');
    expect(at(CREATED_DATE_OFFSET, CREATED_DATE_SIZE)).toBe('0000018bcfe56800');
    expect(at(SEQUENCE_NUMBER_OFFSET, SEQUENCE_NUMBER_SIZE)).toBe('0000000000000000');
    expect(at(FLAGS_OFFSET, FLAGS_SIZE)).toBe('0000000000000001');
    expect(at(MESSAGE_ID_OFFSET, MESSAGE_ID_SIZE)).toBe('8c7d9e0f1a2b3c4d0a1b2c3d4e5f4a6b');
    expect(at(PAYLOAD_DIGEST_OFFSET, PAYLOAD_DIGEST_SIZE)).toBe(
      '572a95fee9c0f320030789e4883707affe12482fbb1ea04b3ea8267c87a890fb',
    );
    expect(at(PAYLOAD_TYPE_OFFSET, PAYLOAD_TYPE_SIZE)).toBe('00000001');
    expect(at(PAYLOAD_LENGTH_OFFSET, PAYLOAD_LENGTH_SIZE)).toBe('0000000d');
    expect(v1.subarray(PAYLOAD_OFFSET).toString('latin1')).toBe('hello world\r\n');
  });
});

describe.each(frameVectors().map((v) => [`${v.id} ${v.name}`, v] as const))('vector %s', (_label, vector) => {
  const frame = frameOf(vector);
  const payload = fromHex(vector.payloadHex);

  it('decodes to exactly the listed header fields and payload', () => {
    const decoded = decodeFrame(frame);
    const { payloadLength, ...listed } = vector.header;
    expect(decoded).toEqual({ ...listed, flags: BigInt(listed.flags), payload });
    expect(decoded.payload.length).toBe(payloadLength);
    expect(frame.readUInt32BE(PAYLOAD_LENGTH_OFFSET)).toBe(payloadLength);
    expect(frame.readUInt32BE(HEADER_LENGTH_OFFSET)).toBe(HEADER_LENGTH);
  });

  it('is reproduced byte for byte by encodeFrame', () => {
    const encoded = encodeFrame(fieldsOf(vector));
    expect(toHex(encoded)).toBe(vector.frameHex);
    expect(encodeFrame({ ...fieldsOf(vector), schemaVersion: undefined })).toEqual(frame);
  });

  it('carries the listed payload SHA-256', () => {
    expect(toHex(sha256(payload))).toBe(vector.payloadSha256);
    expect(toHex(frame.subarray(PAYLOAD_DIGEST_OFFSET, PAYLOAD_DIGEST_OFFSET + PAYLOAD_DIGEST_SIZE))).toBe(
      vector.payloadSha256,
    );
  });

  it('rejects every truncation shorter than the fixed header as SSM_ERR_SHORT_FRAME', () => {
    for (let length = 0; length < PAYLOAD_OFFSET; length++) {
      expectProtocolError(() => decodeFrame(frame.subarray(0, length)), 'SSM_ERR_SHORT_FRAME');
    }
  });

  it('rejects longer cuts (header complete, payload short) as SSM_ERR_LENGTH_MISMATCH', () => {
    const cuts = new Set([PAYLOAD_OFFSET, PAYLOAD_OFFSET + Math.floor(payload.length / 2), frame.length - 1]);
    for (const length of cuts) {
      expect(length).toBeLessThan(frame.length);
      expectProtocolError(() => decodeFrame(frame.subarray(0, length)), 'SSM_ERR_LENGTH_MISMATCH');
    }
  });

  it('decodes as a view into the received buffer (no copy of the payload)', () => {
    const decoded = decodeFrame(frame);
    expect(decoded.payload.buffer).toBe(frame.buffer);
    expect(decoded.payload.byteOffset).toBe(frame.byteOffset + PAYLOAD_OFFSET);
  });
});

describe('V0 open data channel (text frame)', () => {
  it('encodeOpenDataChannel reproduces the exact text', () => {
    const { text } = openVector();
    const parsed: unknown = JSON.parse(text);
    expect(parsed).toEqual({
      MessageSchemaVersion: '1.0',
      RequestId: '8b5c7a9e-1f2d-4c3b-9a8e-7d6c5b4a3f21',
      TokenValue: 'AAEAAExampleTokenValue',
      ClientId: 'c0ffee00-1234-4567-89ab-cdef01234567',
      ClientVersion: '1.2.677.0',
    });
    const input = {
      requestId: '8b5c7a9e-1f2d-4c3b-9a8e-7d6c5b4a3f21',
      tokenValue: 'AAEAAExampleTokenValue',
      clientId: 'c0ffee00-1234-4567-89ab-cdef01234567',
    };
    expect(encodeOpenDataChannel(input)).toBe(text);
    expect(encodeOpenDataChannel({ ...input, clientVersion: '1.2.677.0' })).toBe(text);
  });

  it('writes an explicit client version in the last position', () => {
    const text = encodeOpenDataChannel({
      requestId: 'r',
      tokenValue: 't',
      clientId: 'c',
      clientVersion: '9.9',
    });
    expect(text).toBe(
      '{"MessageSchemaVersion":"1.0","RequestId":"r","TokenValue":"t","ClientId":"c","ClientVersion":"9.9"}',
    );
  });
});

describe('acknowledge frames', () => {
  const identityOf = (vector: FrameVector) => ({
    createdDateMs: vector.header.createdDateMs,
    messageId: vector.header.messageId,
  });

  it('V12: encodeAcknowledge for the acked frame reproduces the agent ack byte for byte', () => {
    const v8 = frameVector('V8');
    const v12 = frameVector('V12');
    const content = parseAcknowledgeContent(fromHex(v12.payloadHex));
    // V12 names V8's type and id with sequence number 0 (the spec's "ack of client input seq 0");
    // use the values exactly as listed in V12.
    expect(content).toEqual({
      AcknowledgedMessageType: v8.header.messageType,
      AcknowledgedMessageId: v8.header.messageId,
      AcknowledgedMessageSequenceNumber: 0,
      IsSequentialMessage: true,
    });
    const acked = { messageType: v8.header.messageType, messageId: v8.header.messageId, sequenceNumber: 0 };
    expect(toHex(encodeAcknowledge(acked, identityOf(v12)))).toBe(v12.frameHex);
    expect(buildAcknowledgeContent(acked)).toEqual(fromHex(v12.payloadHex));
  });

  it('V3: the client ack of V1 is reproduced from the decoded V1 frame', () => {
    const v1 = decodeFrame(frameOf(frameVector('V1')));
    const v3 = frameVector('V3');
    expect(toHex(encodeAcknowledge(v1, identityOf(v3)))).toBe(v3.frameHex);
    expect(decodeFrame(frameOf(v3))).toMatchObject({ sequenceNumber: 0, flags: ACK_FLAGS, payloadType: 0 });
  });

  it('parseAcknowledgeContent reads both vector acks', () => {
    expect(parseAcknowledgeContent(fromHex(frameVector('V3').payloadHex))).toEqual({
      AcknowledgedMessageType: 'output_stream_data',
      AcknowledgedMessageId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      AcknowledgedMessageSequenceNumber: 0,
      IsSequentialMessage: true,
    });
  });

  it('parseAcknowledgeContent needs only a safe integer sequence number', () => {
    expect(parseAcknowledgeContent(Buffer.from('{"AcknowledgedMessageSequenceNumber":7}'))).toEqual({
      AcknowledgedMessageType: '',
      AcknowledgedMessageId: '',
      AcknowledgedMessageSequenceNumber: 7,
      IsSequentialMessage: true,
    });
  });

  it.each([
    ['not JSON', 'ack'],
    ['empty', ''],
    ['JSON array', '[0]'],
    ['JSON null', 'null'],
    ['JSON string', '"x"'],
    ['no sequence number', '{"AcknowledgedMessageType":"output_stream_data"}'],
    ['sequence number as string', '{"AcknowledgedMessageSequenceNumber":"0"}'],
    ['fractional sequence number', '{"AcknowledgedMessageSequenceNumber":1.5}'],
    ['unsafe sequence number', '{"AcknowledgedMessageSequenceNumber":9007199254740992}'],
    ['invalid UTF-8', '\xff\xfe'],
  ])('parseAcknowledgeContent rejects %s', (_label, text) => {
    expectProtocolError(() => parseAcknowledgeContent(Buffer.from(text, 'latin1')), 'SSM_ERR_BAD_PAYLOAD');
  });

  it('parseAcknowledgeContent keeps odd but valid JSON field values from throwing', () => {
    // {"toString":null} cannot be converted with String(): it must not escape as a TypeError.
    const text =
      '{"AcknowledgedMessageType":{"toString":null},"AcknowledgedMessageId":[1],' +
      '"AcknowledgedMessageSequenceNumber":4,"IsSequentialMessage":false}';
    expect(parseAcknowledgeContent(Buffer.from(text))).toEqual({
      AcknowledgedMessageType: '',
      AcknowledgedMessageId: '',
      AcknowledgedMessageSequenceNumber: 4,
      IsSequentialMessage: false,
    });
  });
});

describe('payload helpers', () => {
  it('encodeSizePayload reproduces V8 and encodeFlagPayload reproduces V11', () => {
    expect(encodeSizePayload(200, 50)).toEqual(fromHex(frameVector('V8').payloadHex));
    expect(encodeFlagPayload(FlagValue.TerminateSession)).toEqual(fromHex(frameVector('V11').payloadHex));
  });

  it.each([
    [0, 50],
    [200, 0],
    [65536, 1],
    [1, 65536],
    [1.5, 1],
    [Number.NaN, 1],
  ])('encodeSizePayload rejects %p x %p', (cols, rows) => {
    expect(() => encodeSizePayload(cols, rows)).toThrow(RangeError);
  });

  it('parseJsonObject accepts objects only', () => {
    expect(parseJsonObject(Buffer.from('{"a":1}'), 'x')).toEqual({ a: 1 });
    for (const text of ['', '[]', 'null', '1', '"s"', '{']) {
      expectProtocolError(() => parseJsonObject(Buffer.from(text), 'x'), 'SSM_ERR_BAD_PAYLOAD');
    }
  });
});

describe('message id (UUID halves swapped on the wire)', () => {
  it('writes the §2 example low half first', () => {
    const frame = Buffer.alloc(PAYLOAD_OFFSET);
    writeMessageId(frame, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
    expect(toHex(frame.subarray(MESSAGE_ID_OFFSET, MESSAGE_ID_OFFSET + MESSAGE_ID_SIZE))).toBe(
      '8c7d9e0f1a2b3c4d0a1b2c3d4e5f4a6b',
    );
    expect(readMessageId(frame)).toBe('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
  });

  it('touches only bytes 64..79', () => {
    const frame = Buffer.alloc(PAYLOAD_OFFSET, 0xee);
    writeMessageId(frame, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
    expect(frame.subarray(0, MESSAGE_ID_OFFSET).every((b) => b === 0xee)).toBe(true);
    expect(frame.subarray(MESSAGE_ID_OFFSET + MESSAGE_ID_SIZE).every((b) => b === 0xee)).toBe(true);
  });

  it('accepts upper case and reads back canonical lower case', () => {
    const frame = Buffer.alloc(PAYLOAD_OFFSET);
    writeMessageId(frame, '0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D');
    expect(readMessageId(frame)).toBe('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
  });

  it.each([
    '',
    '0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d',
    '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4',
    '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d0',
    '{0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}',
    'ga1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  ])('rejects %p', (uuid) => {
    expect(() => writeMessageId(Buffer.alloc(PAYLOAD_OFFSET), uuid)).toThrow(RangeError);
  });

  it('round-trips any 128-bit value and swaps exactly the two halves', () => {
    assertProperty(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const uuid = formatUuid(bytes);
        const frame = Buffer.alloc(PAYLOAD_OFFSET);
        writeMessageId(frame, uuid);
        const wire = frame.subarray(MESSAGE_ID_OFFSET, MESSAGE_ID_OFFSET + MESSAGE_ID_SIZE);
        expect(wire).toEqual(Buffer.concat([bytes.subarray(8), bytes.subarray(0, 8)]));
        expect(readMessageId(frame)).toBe(uuid);
      }),
    );
  });
});

describe('message type field', () => {
  it('is written left-aligned and space padded', () => {
    const frame = Buffer.alloc(PAYLOAD_OFFSET);
    writeMessageType(frame, 'acknowledge');
    expect(frame.toString('latin1', MESSAGE_TYPE_OFFSET, MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE)).toBe(
      `acknowledge${' '.repeat(21)}`,
    );
    expect(readMessageType(frame)).toBe('acknowledge');
  });

  it('accepts exactly 32 bytes and rejects 33', () => {
    const frame = Buffer.alloc(PAYLOAD_OFFSET);
    writeMessageType(frame, 'x'.repeat(32));
    expect(readMessageType(frame)).toBe('x'.repeat(32));
    expect(() => writeMessageType(frame, 'x'.repeat(33))).toThrow(RangeError);
  });

  it('reads NUL padding like space padding', () => {
    const frame = Buffer.alloc(PAYLOAD_OFFSET);
    Buffer.from('channel_closed').copy(frame, MESSAGE_TYPE_OFFSET);
    expect(readMessageType(frame)).toBe('channel_closed');
  });
});

describe('decodeFrame on malformed frames', () => {
  const v1 = frameOf(frameVector('V1'));
  const v3 = frameOf(frameVector('V3'));
  const setUInt32 = (frame: Buffer, offset: number, value: number) =>
    mutated(frame, (c) => c.writeUInt32BE(value, offset));
  const setBigInt64 = (frame: Buffer, offset: number, value: bigint) =>
    mutated(frame, (c) => c.writeBigInt64BE(value, offset));
  const setBigUInt64 = (frame: Buffer, offset: number, value: bigint) =>
    mutated(frame, (c) => c.writeBigUInt64BE(value, offset));
  const flip = (frame: Buffer, offset: number) =>
    mutated(frame, (c) => {
      c[offset] = (c[offset] ?? 0) ^ 0x01;
    });

  const cases: ReadonlyArray<readonly [string, SsmProtocolErrorCode, Buffer]> = [
    ['empty buffer', 'SSM_ERR_SHORT_FRAME', Buffer.alloc(0)],
    ['HeaderLength only', 'SSM_ERR_SHORT_FRAME', v1.subarray(0, 4)],
    ['header without PayloadLength', 'SSM_ERR_SHORT_FRAME', v1.subarray(0, PAYLOAD_LENGTH_OFFSET)],
    ['HeaderLength 0', 'SSM_ERR_HEADER_LENGTH', setUInt32(v1, HEADER_LENGTH_OFFSET, 0)],
    ['HeaderLength 115', 'SSM_ERR_HEADER_LENGTH', setUInt32(v1, HEADER_LENGTH_OFFSET, 115)],
    ['HeaderLength 117', 'SSM_ERR_HEADER_LENGTH', setUInt32(v1, HEADER_LENGTH_OFFSET, 117)],
    ['HeaderLength 120 (payload offset)', 'SSM_ERR_HEADER_LENGTH', setUInt32(v1, HEADER_LENGTH_OFFSET, 120)],
    ['HeaderLength 0xffffffff', 'SSM_ERR_HEADER_LENGTH', setUInt32(v1, HEADER_LENGTH_OFFSET, 0xffffffff)],
    [
      'PayloadLength one more than carried',
      'SSM_ERR_LENGTH_MISMATCH',
      setUInt32(v1, PAYLOAD_LENGTH_OFFSET, 14),
    ],
    [
      'PayloadLength one less than carried',
      'SSM_ERR_LENGTH_MISMATCH',
      setUInt32(v1, PAYLOAD_LENGTH_OFFSET, 12),
    ],
    ['PayloadLength 0 with a payload', 'SSM_ERR_LENGTH_MISMATCH', setUInt32(v1, PAYLOAD_LENGTH_OFFSET, 0)],
    ['PayloadLength 0xffffffff', 'SSM_ERR_LENGTH_MISMATCH', setUInt32(v1, PAYLOAD_LENGTH_OFFSET, 0xffffffff)],
    ['one trailing byte', 'SSM_ERR_LENGTH_MISMATCH', Buffer.concat([v1, Buffer.from([0])])],
    ['two frames in one message', 'SSM_ERR_LENGTH_MISMATCH', Buffer.concat([v1, v1])],
    ['flipped first payload byte', 'SSM_ERR_DIGEST_MISMATCH', flip(v1, PAYLOAD_OFFSET)],
    ['flipped last payload byte', 'SSM_ERR_DIGEST_MISMATCH', flip(v1, v1.length - 1)],
    ['flipped ack payload byte', 'SSM_ERR_DIGEST_MISMATCH', flip(v3, PAYLOAD_OFFSET + 40)],
    ['flipped digest byte', 'SSM_ERR_DIGEST_MISMATCH', flip(v1, PAYLOAD_DIGEST_OFFSET + 31)],
    [
      'zeroed digest',
      'SSM_ERR_DIGEST_MISMATCH',
      mutated(v1, (c) => c.fill(0, PAYLOAD_DIGEST_OFFSET, PAYLOAD_TYPE_OFFSET)),
    ],
    ['unknown type', 'SSM_ERR_UNKNOWN_MESSAGE_TYPE', withMessageType(v1, Buffer.from('agent_session_state'))],
    [
      'upper-case type',
      'SSM_ERR_UNKNOWN_MESSAGE_TYPE',
      withMessageType(v1, Buffer.from('OUTPUT_STREAM_DATA')),
    ],
    ['type cut short', 'SSM_ERR_UNKNOWN_MESSAGE_TYPE', withMessageType(v1, Buffer.from('output_stream_dat'))],
    [
      'type with a suffix',
      'SSM_ERR_UNKNOWN_MESSAGE_TYPE',
      withMessageType(v1, Buffer.from('output_stream_data2')),
    ],
    ['blank type', 'SSM_ERR_UNKNOWN_MESSAGE_TYPE', withMessageType(v1, Buffer.alloc(0))],
    ['all-NUL type', 'SSM_ERR_UNKNOWN_MESSAGE_TYPE', withMessageType(v1, Buffer.alloc(32))],
    [
      'unknown type, short frame',
      'SSM_ERR_UNKNOWN_MESSAGE_TYPE',
      withMessageType(v1, Buffer.from('x')).subarray(0, 40),
    ],
    ['CreatedDate 0', 'SSM_ERR_ZERO_CREATED_DATE', setBigUInt64(v1, CREATED_DATE_OFFSET, 0n)],
    ['CreatedDate 2^53', 'SSM_ERR_NUMBER_RANGE', setBigUInt64(v1, CREATED_DATE_OFFSET, 2n ** 53n)],
    ['CreatedDate 2^64-1', 'SSM_ERR_NUMBER_RANGE', setBigUInt64(v1, CREATED_DATE_OFFSET, 2n ** 64n - 1n)],
    ['SequenceNumber 2^53', 'SSM_ERR_NUMBER_RANGE', setBigInt64(v1, SEQUENCE_NUMBER_OFFSET, 2n ** 53n)],
    [
      'SequenceNumber 2^63-1',
      'SSM_ERR_NUMBER_RANGE',
      setBigInt64(v1, SEQUENCE_NUMBER_OFFSET, 2n ** 63n - 1n),
    ],
    ['SequenceNumber -2^53', 'SSM_ERR_NUMBER_RANGE', setBigInt64(v1, SEQUENCE_NUMBER_OFFSET, -(2n ** 53n))],
    ['SequenceNumber -2^63', 'SSM_ERR_NUMBER_RANGE', setBigInt64(v1, SEQUENCE_NUMBER_OFFSET, -(2n ** 63n))],
  ];

  it.each(cases)('%s → %s', (_label, code, bytes) => {
    expectProtocolError(() => decodeFrame(bytes), code);
  });

  it('accepts the edges of the safe ranges', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    const edge = setBigUInt64(setBigInt64(v1, SEQUENCE_NUMBER_OFFSET, max), CREATED_DATE_OFFSET, max);
    expect(decodeFrame(edge)).toMatchObject({
      sequenceNumber: Number.MAX_SAFE_INTEGER,
      createdDateMs: Number.MAX_SAFE_INTEGER,
    });
    expect(decodeFrame(setBigUInt64(v1, CREATED_DATE_OFFSET, 1n)).createdDateMs).toBe(1);
  });

  it('accepts NUL padding of the message type', () => {
    const nulPadded = withMessageType(v1, Buffer.alloc(MESSAGE_TYPE_SIZE));
    Buffer.from('output_stream_data').copy(nulPadded, MESSAGE_TYPE_OFFSET);
    expect(nulPadded.toString('latin1', 4 + 18, 36)).toBe('\0'.repeat(14));
    expect(decodeFrame(nulPadded)).toEqual(decodeFrame(v1));
  });

  it('ignores header fields no code reads (SchemaVersion, Flags, PayloadType)', () => {
    const odd = setUInt32(
      setBigUInt64(setUInt32(v1, SCHEMA_VERSION_OFFSET, 7), FLAGS_OFFSET, 2n ** 64n - 1n),
      PAYLOAD_TYPE_OFFSET,
      0xffffffff,
    );
    expect(decodeFrame(odd)).toMatchObject({
      schemaVersion: 7,
      flags: 2n ** 64n - 1n,
      payloadType: 0xffffffff,
    });
  });

  it('does not check the digest of an empty payload (as the plugin Validate)', () => {
    const empty = encodeFrame({ ...fieldsOf(frameVector('V1')), payload: Buffer.alloc(0) });
    expect(toHex(empty.subarray(PAYLOAD_DIGEST_OFFSET, PAYLOAD_TYPE_OFFSET))).toBe(
      toHex(sha256(Buffer.alloc(0))),
    );
    expect(decodeFrame(empty).payload.length).toBe(0);
    const garbageDigest = mutated(empty, (c) => c.fill(0xab, PAYLOAD_DIGEST_OFFSET, PAYLOAD_TYPE_OFFSET));
    expect(decodeFrame(garbageDigest).payload.length).toBe(0);
  });
});

describe('start_publication / pause_publication are decoded leniently', () => {
  const publication = (messageType: string): Buffer =>
    encodeFrame({
      messageType,
      sequenceNumber: 0,
      flags: 0n,
      messageId: '12345678-9abc-4def-8123-456789abcdef',
      payloadType: 0,
      payload: Buffer.alloc(0),
      createdDateMs: 1_700_000_000_000,
    });

  describe.each([MessageType.StartPublication, MessageType.PausePublication])('%s', (messageType) => {
    const valid = publication(messageType);

    it('decodes a well-formed frame normally', () => {
      expect(decodeFrame(valid)).toEqual({
        messageType,
        schemaVersion: 1,
        createdDateMs: 1_700_000_000_000,
        sequenceNumber: 0,
        flags: 0n,
        messageId: '12345678-9abc-4def-8123-456789abcdef',
        payloadType: 0,
        payload: Buffer.alloc(0),
      });
    });

    it('returns what it can read from a bare 36-byte frame', () => {
      expect(decodeFrame(valid.subarray(0, 36))).toEqual({
        messageType,
        schemaVersion: 0,
        createdDateMs: 0,
        sequenceNumber: 0,
        flags: 0n,
        messageId: '',
        payloadType: 0,
        payload: Buffer.alloc(0),
      });
    });

    it('never throws for any truncation of 36..119 bytes and reads only complete fields', () => {
      for (let length = 36; length < PAYLOAD_OFFSET; length++) {
        const frame = decodeFrame(valid.subarray(0, length));
        expect(frame.messageType).toBe(messageType);
        expect(frame.schemaVersion).toBe(length >= 40 ? 1 : 0);
        expect(frame.createdDateMs).toBe(length >= 48 ? 1_700_000_000_000 : 0);
        expect(frame.messageId).toBe(length >= 80 ? '12345678-9abc-4def-8123-456789abcdef' : '');
        expect(frame.payload.length).toBe(0);
      }
    });

    it('still needs the 36 bytes that hold the message type', () => {
      for (let length = 0; length < 36; length++) {
        expectProtocolError(() => decodeFrame(valid.subarray(0, length)), 'SSM_ERR_SHORT_FRAME');
      }
    });

    it('accepts wrong HeaderLength, CreatedDate 0, bad lengths, bad digest and unsafe numbers', () => {
      const bad = mutated(Buffer.concat([valid, Buffer.from('junk')]), (c) => {
        c.writeUInt32BE(3, HEADER_LENGTH_OFFSET);
        c.writeBigUInt64BE(0n, CREATED_DATE_OFFSET);
        c.writeBigInt64BE(2n ** 62n, SEQUENCE_NUMBER_OFFSET);
        c.writeUInt32BE(999, PAYLOAD_LENGTH_OFFSET);
        c.fill(0x55, PAYLOAD_DIGEST_OFFSET, PAYLOAD_DIGEST_OFFSET + PAYLOAD_DIGEST_SIZE);
      });
      const frame = decodeFrame(bad);
      expect(frame).toMatchObject({ messageType, createdDateMs: 0, sequenceNumber: 2 ** 62 });
      expect(frame.payload.toString()).toBe('junk');
    });

    it('accepts NUL padding', () => {
      const nulPadded = withMessageType(valid, Buffer.alloc(MESSAGE_TYPE_SIZE));
      Buffer.from(messageType).copy(nulPadded, MESSAGE_TYPE_OFFSET);
      expect(decodeFrame(nulPadded)).toEqual(decodeFrame(valid));
    });
  });
});

describe('properties', () => {
  const uuidArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatUuid);
  const uint32Arb = fc.integer({ min: 0, max: 0xffffffff });
  const fieldsArb = fc.record(
    {
      messageType: fc.constantFrom(...KNOWN_TYPES),
      schemaVersion: uint32Arb,
      createdDateMs: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      sequenceNumber: fc.maxSafeNat(),
      flags: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      messageId: uuidArb,
      payloadType: uint32Arb,
      payload: fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes)),
    },
    {
      requiredKeys: [
        'messageType',
        'createdDateMs',
        'sequenceNumber',
        'flags',
        'messageId',
        'payloadType',
        'payload',
      ],
    },
  );

  it('encode → decode round-trips arbitrary valid fields', () => {
    assertProperty(
      fc.property(fieldsArb, (fields) => {
        const encoded = encodeFrame(fields);
        expect(encoded.length).toBe(PAYLOAD_OFFSET + fields.payload.length);
        expect(encoded.readUInt32BE(HEADER_LENGTH_OFFSET)).toBe(HEADER_LENGTH);
        expect(encoded.readUInt32BE(PAYLOAD_LENGTH_OFFSET)).toBe(fields.payload.length);
        expect(decodeFrame(encoded)).toEqual({
          ...fields,
          schemaVersion: fields.schemaVersion ?? SCHEMA_VERSION,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('decodeFrame on arbitrary bytes returns a Frame or throws SsmProtocolError', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        const result = decodeOrReject(buffer);
        if (!(result instanceof SsmProtocolError) && STRICT_TYPES.has(result.messageType)) {
          expectStrictInvariants(buffer, result);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('…including arbitrary bytes behind a plausible header prefix', () => {
    const prefixed = fc
      .tuple(
        fc.constantFrom(...KNOWN_TYPES, 'agent_session_state'),
        fc.constantFrom(HEADER_LENGTH, 0, 120),
        fc.uint8Array({ maxLength: 300 }),
      )
      .map(([type, headerLength, rest]) => {
        const head = Buffer.alloc(36, 0x20);
        head.writeUInt32BE(headerLength, 0);
        head.write(type, MESSAGE_TYPE_OFFSET, 'ascii');
        return Buffer.concat([head, rest]);
      });
    assertProperty(
      fc.property(prefixed, (buffer) => {
        const result = decodeOrReject(buffer);
        if (!(result instanceof SsmProtocolError) && STRICT_TYPES.has(result.messageType)) {
          expectStrictInvariants(buffer, result);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('…and on mutations of valid frames (byte edits, cuts, appends, length fixes)', () => {
    const vectors = frameVectors();
    const mutation = fc.record({
      vector: fc.constantFrom(...vectors),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      append: fc.uint8Array({ maxLength: 8 }),
      fixLength: fc.boolean(),
    });
    assertProperty(
      fc.property(mutation, ({ vector, edits, cut, append, fixLength }) => {
        let bytes = Buffer.from(frameOf(vector));
        for (const [position, value] of edits) bytes[position % bytes.length] = value;
        if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
        bytes = Buffer.concat([bytes, append]);
        // Make some mutants pass the length check so that the later checks are reached too.
        if (fixLength && bytes.length >= PAYLOAD_OFFSET) {
          bytes.writeUInt32BE(bytes.length - PAYLOAD_OFFSET, PAYLOAD_LENGTH_OFFSET);
        }
        const result = decodeOrReject(bytes);
        if (!(result instanceof SsmProtocolError) && STRICT_TYPES.has(result.messageType)) {
          expectStrictInvariants(bytes, result);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('a single flipped payload bit is always caught by the digest', () => {
    const vectors = frameVectors();
    assertProperty(
      fc.property(
        fc.constantFrom(...vectors),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (vector, at, bit) => {
          const frame = frameOf(vector);
          const position = PAYLOAD_OFFSET + (at % vector.header.payloadLength);
          const bad = mutated(frame, (c) => {
            c[position] = (c[position] ?? 0) ^ (1 << bit);
          });
          expectProtocolError(() => decodeFrame(bad), 'SSM_ERR_DIGEST_MISMATCH');
        },
      ),
      { numRuns: 300 },
    );
  });
});
