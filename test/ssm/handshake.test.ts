import * as fc from 'fast-check';
import { decodeFrame, encodeFrame } from '../../lambda/ssm/codec';
import { ActionStatus, HandshakeActionType, PayloadType } from '../../lambda/ssm/constants';
import { SsmProtocolError } from '../../lambda/ssm/errors';
import {
  encodeChallenge,
  encodeHandshakeResponse,
  failedActionResult,
  kmsEncryptionResult,
  parseChallenge,
  parseChannelClosed,
  parseHandshakeComplete,
  parseHandshakeRequest,
  readKmsParameters,
  sessionTypeResult,
} from '../../lambda/ssm/handshake';
import {
  assertProperty,
  challengeVector,
  expectProtocolError,
  type FrameVector,
  frameVector,
  fromHex,
  toHex,
} from '../support/hex';

const KMS_KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function payloadOf(id: string): Buffer {
  return fromHex(frameVector(id).payloadHex);
}

function frameWith(vector: FrameVector, payload: Buffer): Buffer {
  const { header } = vector;
  return encodeFrame({
    messageType: header.messageType,
    schemaVersion: header.schemaVersion,
    createdDateMs: header.createdDateMs,
    sequenceNumber: header.sequenceNumber,
    flags: BigInt(header.flags),
    messageId: header.messageId,
    payloadType: header.payloadType,
    payload,
  });
}

/** Either the parser's value or an SsmProtocolError with SSM_ERR_BAD_PAYLOAD; anything else fails. */
function parsesOrRejects(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (!(err instanceof SsmProtocolError)) throw err;
    expect(err.code).toBe('SSM_ERR_BAD_PAYLOAD');
  }
}

describe('V4 HandshakeRequest', () => {
  const frame = decodeFrame(fromHex(frameVector('V4').frameHex));

  it('is an output_stream_data frame with PayloadType 5, seq 0, SYN', () => {
    expect(frame).toMatchObject({
      messageType: 'output_stream_data',
      payloadType: PayloadType.HandshakeRequest,
      sequenceNumber: 0,
      flags: 1n,
    });
  });

  it('parses to the agent version and both requested actions', () => {
    expect(parseHandshakeRequest(frame.payload)).toEqual({
      AgentVersion: '3.3.987.0',
      RequestedClientActions: [
        {
          ActionType: HandshakeActionType.SessionType,
          ActionParameters: { SessionType: 'InteractiveCommands', Properties: null },
        },
        {
          ActionType: HandshakeActionType.KmsEncryption,
          ActionParameters: { KMSKeyId: KMS_KEY_ARN, Challenge: 'AAECAwQFBgcICQoLDA0ODw==' },
        },
      ],
    });
  });

  it('readKmsParameters gives the KMS key id and the challenge', () => {
    const request = parseHandshakeRequest(frame.payload);
    const kms = request.RequestedClientActions.find(
      (a) => a.ActionType === HandshakeActionType.KmsEncryption,
    );
    if (kms === undefined) throw new Error('V4 has no KMSEncryption action');
    const parameters = readKmsParameters(kms);
    expect(parameters).toStrictEqual({ KMSKeyId: KMS_KEY_ARN, Challenge: 'AAECAwQFBgcICQoLDA0ODw==' });
    // Base64 of 16 random bytes (here 00..0f).
    expect(toHex(Buffer.from(parameters.Challenge ?? '', 'base64'))).toBe('000102030405060708090a0b0c0d0e0f');
  });
});

describe('readKmsParameters', () => {
  it('leaves Challenge out for agents that do not send one', () => {
    const parameters = readKmsParameters({
      ActionType: 'KMSEncryption',
      ActionParameters: { KMSKeyId: 'k' },
    });
    expect(parameters).toStrictEqual({ KMSKeyId: 'k' });
    expect('Challenge' in parameters).toBe(false);
  });

  it('ignores a non-string Challenge', () => {
    expect(
      readKmsParameters({ ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: 'k', Challenge: 5 } }),
    ).toStrictEqual({ KMSKeyId: 'k' });
  });

  it.each([
    ['no parameters', null],
    ['no KMSKeyId', { Challenge: 'x' }],
    ['empty KMSKeyId', { KMSKeyId: '' }],
    ['numeric KMSKeyId', { KMSKeyId: 42 }],
    ['object KMSKeyId', { KMSKeyId: { id: 'k' } }],
  ])('rejects %s with SSM_ERR_BAD_PAYLOAD', (_label, parameters) => {
    expectProtocolError(
      () => readKmsParameters({ ActionType: 'KMSEncryption', ActionParameters: parameters }),
      'SSM_ERR_BAD_PAYLOAD',
    );
  });
});

describe('HandshakeResponse (V5, V6)', () => {
  it('V5: the KMS response is reproduced byte for byte', () => {
    const payload = encodeHandshakeResponse([
      sessionTypeResult(),
      kmsEncryptionResult(Buffer.from('CIPHERTEXTBLOB')),
    ]);
    expect(payload).toEqual(payloadOf('V5'));
    expect(toHex(frameWith(frameVector('V5'), payload))).toBe(frameVector('V5').frameHex);
  });

  it('V6: the plain response is reproduced byte for byte', () => {
    const payload = encodeHandshakeResponse([sessionTypeResult()]);
    expect(payload).toEqual(payloadOf('V6'));
    expect(toHex(frameWith(frameVector('V6'), payload))).toBe(frameVector('V6').frameHex);
  });

  it('writes the ciphertext blob as standard padded base64 from any Uint8Array', () => {
    const blob = new Uint8Array([0xfb, 0xff, 0xfe, 0x00]);
    expect(kmsEncryptionResult(blob).ActionResult).toEqual({
      KMSCipherTextKey: '+//+AA==',
      KMSCipherTextHash: null,
    });
  });

  it('sessionTypeResult and kmsEncryptionResult report Success', () => {
    expect(sessionTypeResult()).toEqual({
      ActionType: 'SessionType',
      ActionStatus: 1,
      ActionResult: null,
      Error: '',
    });
    expect(kmsEncryptionResult(Buffer.alloc(1)).ActionStatus).toBe(ActionStatus.Success);
  });

  it('failedActionResult carries the status and the error text, in Go field order', () => {
    const payload = encodeHandshakeResponse(
      [failedActionResult('SomethingNew', ActionStatus.Unsupported, 'unsupported action')],
      '2.0.0.1',
    );
    expect(payload.toString('utf8')).toBe(
      '{"ClientVersion":"2.0.0.1","ProcessedClientActions":[{"ActionType":"SomethingNew","ActionStatus":3,' +
        '"ActionResult":null,"Error":"unsupported action"}],"Errors":null}',
    );
  });
});

describe('V7 HandshakeComplete', () => {
  it('parses the duration in nanoseconds and the customer message', () => {
    const frame = decodeFrame(fromHex(frameVector('V7').frameHex));
    expect(frame.payloadType).toBe(PayloadType.HandshakeComplete);
    expect(parseHandshakeComplete(frame.payload)).toEqual({
      HandshakeTimeToCompleteNs: 1_500_000_000,
      CustomerMessage: 'This session is encrypted using AWS KMS.',
    });
  });

  it('defaults missing or mistyped fields', () => {
    expect(parseHandshakeComplete(Buffer.from('{}'))).toEqual({
      HandshakeTimeToCompleteNs: 0,
      CustomerMessage: '',
    });
    expect(
      parseHandshakeComplete(Buffer.from('{"HandshakeTimeToComplete":"1s","CustomerMessage":7}')),
    ).toEqual({ HandshakeTimeToCompleteNs: 0, CustomerMessage: '' });
  });

  it.each(['', 'done', '[]', 'null', '"x"'])('rejects %p with SSM_ERR_BAD_PAYLOAD', (text) => {
    expectProtocolError(() => parseHandshakeComplete(Buffer.from(text)), 'SSM_ERR_BAD_PAYLOAD');
  });
});

describe('V13 channel_closed', () => {
  it('parses the session id and an empty Output', () => {
    const frame = decodeFrame(fromHex(frameVector('V13').frameHex));
    expect(frame.messageType).toBe('channel_closed');
    expect(parseChannelClosed(frame.payload)).toEqual({
      sessionId: 'ecs-execute-command-0123456789abcdef0',
      output: '',
    });
  });

  it('keeps the error text of Output', () => {
    const payload = Buffer.from(
      '{"SessionId":"s-1","Output":"Unable to start command: Failed to start pty: fork/exec /bin/bash: no such file"}',
    );
    expect(parseChannelClosed(payload)).toEqual({
      sessionId: 's-1',
      output: 'Unable to start command: Failed to start pty: fork/exec /bin/bash: no such file',
    });
  });

  it('is lenient: non-JSON text is kept (trimmed) as the output', () => {
    expect(parseChannelClosed(Buffer.from('  Session terminated by the service.\n'))).toEqual({
      sessionId: '',
      output: 'Session terminated by the service.',
    });
    expect(parseChannelClosed(Buffer.from('["not","an","object"]'))).toEqual({
      sessionId: '',
      output: '["not","an","object"]',
    });
    expect(parseChannelClosed(Buffer.alloc(0))).toEqual({ sessionId: '', output: '' });
  });

  it('is lenient: mistyped fields become empty strings', () => {
    expect(parseChannelClosed(Buffer.from('{"SessionId":1,"Output":{"a":1}}'))).toEqual({
      sessionId: '',
      output: '',
    });
  });

  it('never throws, whatever the bytes', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const closed = parseChannelClosed(Buffer.from(bytes));
        expect(typeof closed.sessionId).toBe('string');
        expect(typeof closed.output).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});

describe('EncChallenge payloads', () => {
  it('parseChallenge / encodeChallenge are inverse and match V16', () => {
    const { request, response } = challengeVector();
    for (const message of [request, response]) {
      const sealed = parseChallenge(Buffer.from(message.json));
      expect(toHex(sealed)).toBe(message.sealedHex);
      expect(encodeChallenge(sealed).toString('utf8')).toBe(message.json);
    }
  });

  it.each([
    ['not JSON', 'Challenge'],
    ['JSON array', '[]'],
    ['no Challenge', '{}'],
    ['numeric Challenge', '{"Challenge":1}'],
    ['null Challenge', '{"Challenge":null}'],
  ])('parseChallenge rejects %s with SSM_ERR_BAD_PAYLOAD', (_label, text) => {
    expectProtocolError(() => parseChallenge(Buffer.from(text)), 'SSM_ERR_BAD_PAYLOAD');
  });
});

describe('malformed HandshakeRequest payloads', () => {
  it.each([
    ['empty', ''],
    ['not JSON', 'hello'],
    ['truncated JSON', '{"AgentVersion":"3.3.987.0","RequestedClientActions":[{"ActionType":"Sess'],
    ['invalid UTF-8', '\xff\xfe\xfd'],
    ['JSON null', 'null'],
    ['JSON array', '[]'],
    ['JSON string', '"x"'],
    ['JSON number', '5'],
    ['no RequestedClientActions', '{"AgentVersion":"3.3.987.0"}'],
    ['RequestedClientActions null', '{"RequestedClientActions":null}'],
    ['RequestedClientActions object', '{"RequestedClientActions":{"ActionType":"SessionType"}}'],
    ['RequestedClientActions string', '{"RequestedClientActions":"SessionType"}'],
    ['null action', '{"RequestedClientActions":[null]}'],
    ['string action', '{"RequestedClientActions":["SessionType"]}'],
    ['numeric action', '{"RequestedClientActions":[1]}'],
  ])('%s → SSM_ERR_BAD_PAYLOAD', (_label, text) => {
    expectProtocolError(() => parseHandshakeRequest(Buffer.from(text, 'latin1')), 'SSM_ERR_BAD_PAYLOAD');
  });

  it('accepts an empty action list and defaults a missing AgentVersion', () => {
    expect(parseHandshakeRequest(Buffer.from('{"RequestedClientActions":[]}'))).toEqual({
      AgentVersion: '',
      RequestedClientActions: [],
    });
  });

  it('treats non-object ActionParameters as null', () => {
    const request = parseHandshakeRequest(
      Buffer.from('{"RequestedClientActions":[{"ActionType":"KMSEncryption","ActionParameters":"k"}]}'),
    );
    expect(request.RequestedClientActions).toEqual([{ ActionType: 'KMSEncryption', ActionParameters: null }]);
    expectProtocolError(() => readKmsParameters(request.RequestedClientActions[0]!), 'SSM_ERR_BAD_PAYLOAD');
  });

  it('does not throw a TypeError on object-valued text fields', () => {
    // String({"toString":null}) throws "Cannot convert object to primitive value".
    const text =
      '{"AgentVersion":{"toString":null},"RequestedClientActions":[{"ActionType":{"toString":null},"ActionParameters":null}]}';
    expect(parseHandshakeRequest(Buffer.from(text))).toEqual({
      AgentVersion: '',
      RequestedClientActions: [{ ActionType: '', ActionParameters: null }],
    });
  });
});

describe('properties', () => {
  // JSON values, plus the one object shape that String() cannot convert.
  const value = fc.oneof(fc.jsonValue(), fc.constant({ toString: null }));
  const action = fc.oneof(
    value,
    fc.record({ ActionType: value, ActionParameters: value }, { requiredKeys: [] }),
    fc.record({
      ActionType: fc.constantFrom('SessionType', 'KMSEncryption'),
      ActionParameters: fc.record({ KMSKeyId: value, Challenge: value }, { requiredKeys: [] }),
    }),
  );
  const request = fc.oneof(
    value,
    fc.record(
      { AgentVersion: value, RequestedClientActions: fc.oneof(value, fc.array(action, { maxLength: 4 })) },
      { requiredKeys: [] },
    ),
  );

  it('parseHandshakeRequest on arbitrary JSON returns a request or throws SSM_ERR_BAD_PAYLOAD', () => {
    assertProperty(
      fc.property(request, (json) => {
        parsesOrRejects(() => {
          const parsed = parseHandshakeRequest(Buffer.from(JSON.stringify(json) ?? ''));
          expect(typeof parsed.AgentVersion).toBe('string');
          for (const a of parsed.RequestedClientActions) {
            expect(typeof a.ActionType).toBe('string');
            parsesOrRejects(() => readKmsParameters(a));
          }
        });
      }),
      { numRuns: 500 },
    );
  });

  it('every parser on arbitrary bytes returns or throws SSM_ERR_BAD_PAYLOAD, nothing else', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        const bytes = Buffer.from(raw);
        parsesOrRejects(() => parseHandshakeRequest(bytes));
        parsesOrRejects(() => parseHandshakeComplete(bytes));
        parsesOrRejects(() => parseChallenge(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('encodeHandshakeResponse output is JSON that reads back to the same actions', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.string(), (blob, version) => {
        const actions = [sessionTypeResult(), kmsEncryptionResult(blob)];
        const parsed: unknown = JSON.parse(encodeHandshakeResponse(actions, version).toString('utf8'));
        expect(parsed).toEqual({ ClientVersion: version, ProcessedClientActions: actions, Errors: null });
        const kms = actions[1]?.ActionResult?.KMSCipherTextKey;
        expect(typeof kms === 'string' ? Buffer.from(kms, 'base64') : undefined).toEqual(Buffer.from(blob));
      }),
      { numRuns: 200 },
    );
  });
});
