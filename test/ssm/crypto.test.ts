import * as fc from 'fast-check';
import { decodeFrame } from '../../lambda/ssm/codec';
import {
  AES_KEY_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  KMS_DATA_KEY_BYTES,
} from '../../lambda/ssm/constants';
import { openAesGcm, sealAesGcm, splitDataKey } from '../../lambda/ssm/crypto';
import { encodeChallenge, parseChallenge } from '../../lambda/ssm/handshake';
import {
  assertProperty,
  challengeVector,
  expectProtocolError,
  type FrameVector,
  frameVector,
  fromHex,
} from '../support/hex';

/** The data key of V14/V15/V16: byte i = i. */
const DATA_KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => i));

function encryptionOf(vector: FrameVector) {
  const info = vector.encryption;
  if (info === undefined) throw new Error(`${vector.id} has no encryption data`);
  return info;
}

describe('constants of the cipher', () => {
  it('are AES-256-GCM with a 12-byte nonce and a 16-byte tag, from a 64-byte data key', () => {
    expect([KMS_DATA_KEY_BYTES, AES_KEY_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES]).toEqual([64, 32, 12, 16]);
  });
});

describe('splitDataKey', () => {
  it('gives K[0:32] for agent→client and K[32:64] for client→agent', () => {
    const keys = splitDataKey(DATA_KEY);
    expect(keys.agentToClient).toEqual(DATA_KEY.subarray(0, 32));
    expect(keys.clientToAgent).toEqual(DATA_KEY.subarray(32, 64));
    expect(encryptionOf(frameVector('V14')).dataKeyHex).toBe(DATA_KEY.toString('hex'));
  });

  it('accepts a plain Uint8Array and copies it', () => {
    const raw = new Uint8Array(DATA_KEY);
    const keys = splitDataKey(raw);
    raw.fill(0xff);
    expect(keys.agentToClient).toEqual(DATA_KEY.subarray(0, 32));
    expect(keys.clientToAgent).toEqual(DATA_KEY.subarray(32, 64));
  });

  it.each([0, 1, 32, 63, 65, 128])('rejects a %i-byte key', (length) => {
    expect(() => splitDataKey(new Uint8Array(length))).toThrow(RangeError);
  });
});

describe.each(['V14', 'V15'])('%s (encrypted stream payload)', (id) => {
  const vector = frameVector(id);
  const info = encryptionOf(vector);
  const payload = fromHex(vector.payloadHex);
  const keys = splitDataKey(DATA_KEY);
  const key = info.keyHalf === 'K[0:32]' ? keys.agentToClient : keys.clientToAgent;
  const otherKey = info.keyHalf === 'K[0:32]' ? keys.clientToAgent : keys.agentToClient;
  const plaintext = fromHex(info.plaintextHex);

  it('uses the key half of its direction', () => {
    expect(info.keyHalf).toBe(id === 'V14' ? 'K[0:32]' : 'K[32:64]');
    expect(key.toString('hex')).toBe(info.keyHex);
  });

  it('decrypts to the listed plaintext', () => {
    expect(openAesGcm(key, payload).toString('latin1')).toBe(id === 'V14' ? 'hello world\r\n' : 'echo hi\r');
    expect(openAesGcm(key, decodeFrame(fromHex(vector.frameHex)).payload)).toEqual(plaintext);
  });

  it('is reproduced byte for byte by sealing with the fixed nonce', () => {
    expect(sealAesGcm(key, plaintext, fromHex(info.nonceHex)).toString('hex')).toBe(vector.payloadHex);
  });

  it('does not open with the other direction’s key', () => {
    expectProtocolError(() => openAesGcm(otherKey, payload), 'SSM_ERR_DECRYPT');
  });

  it('rejects every single-byte tamper (nonce, ciphertext, tag) as SSM_ERR_DECRYPT', () => {
    for (let i = 0; i < payload.length; i++) {
      const tampered = Buffer.from(payload);
      tampered[i] = (tampered[i] ?? 0) ^ 0x80;
      expectProtocolError(() => openAesGcm(key, tampered), 'SSM_ERR_DECRYPT');
    }
  });

  it('rejects a missing or extra byte as SSM_ERR_DECRYPT', () => {
    expectProtocolError(() => openAesGcm(key, payload.subarray(0, payload.length - 1)), 'SSM_ERR_DECRYPT');
    expectProtocolError(() => openAesGcm(key, payload.subarray(1)), 'SSM_ERR_DECRYPT');
    expectProtocolError(() => openAesGcm(key, Buffer.concat([payload, Buffer.from([0])])), 'SSM_ERR_DECRYPT');
  });
});

describe('V16 encryption challenge', () => {
  const vector = challengeVector();
  const keys = splitDataKey(fromHex(vector.dataKeyHex));
  const plaintext = fromHex(vector.challengePlaintextHex);

  it('has the 64-byte plaintext of the spec', () => {
    expect(plaintext).toEqual(
      Buffer.concat(Array.from({ length: 4 }, () => fromHex('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf'))),
    );
    expect(plaintext.length).toBe(64);
    expect(fromHex(vector.dataKeyHex)).toEqual(DATA_KEY);
  });

  it('the EncChallengeRequest decrypts with K[0:32] to the plaintext', () => {
    expect(vector.request.keyHalf).toBe('K[0:32]');
    const sealed = parseChallenge(Buffer.from(vector.request.json, 'utf8'));
    expect(sealed.length).toBe(GCM_NONCE_BYTES + 64 + GCM_TAG_BYTES);
    expect(sealed.subarray(0, GCM_NONCE_BYTES).toString('hex')).toBe(vector.request.nonceHex);
    expect(openAesGcm(keys.agentToClient, sealed)).toEqual(plaintext);
    expectProtocolError(() => openAesGcm(keys.clientToAgent, sealed), 'SSM_ERR_DECRYPT');
  });

  it('re-encrypting with K[32:64] and the given nonce reproduces the response JSON exactly', () => {
    expect(vector.response.keyHalf).toBe('K[32:64]');
    const received = openAesGcm(keys.agentToClient, parseChallenge(Buffer.from(vector.request.json, 'utf8')));
    const response = encodeChallenge(
      sealAesGcm(keys.clientToAgent, received, fromHex(vector.response.nonceHex)),
    );
    expect(response.toString('utf8')).toBe(vector.response.json);
  });

  it('the agent side (K[32:64]) recovers the same plaintext from the response', () => {
    const sealed = parseChallenge(Buffer.from(vector.response.json, 'utf8'));
    expect(openAesGcm(keys.clientToAgent, sealed)).toEqual(plaintext);
  });

  it('a tampered challenge fails with SSM_ERR_DECRYPT', () => {
    const sealed = parseChallenge(Buffer.from(vector.request.json, 'utf8'));
    for (const position of [0, GCM_NONCE_BYTES, GCM_NONCE_BYTES + 63, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[position] = (tampered[position] ?? 0) ^ 0x01;
      expectProtocolError(() => openAesGcm(keys.agentToClient, encodeAndParse(tampered)), 'SSM_ERR_DECRYPT');
    }
  });
});

function encodeAndParse(sealed: Buffer): Buffer {
  return parseChallenge(encodeChallenge(sealed));
}

describe('openAesGcm on malformed input', () => {
  const key = splitDataKey(DATA_KEY).agentToClient;

  it('rejects every payload shorter than nonce + tag (0..27 bytes) as SSM_ERR_DECRYPT', () => {
    const sealed = sealAesGcm(key, Buffer.alloc(0), Buffer.alloc(GCM_NONCE_BYTES));
    expect(sealed.length).toBe(GCM_NONCE_BYTES + GCM_TAG_BYTES);
    for (let length = 0; length < GCM_NONCE_BYTES + GCM_TAG_BYTES; length++) {
      expectProtocolError(() => openAesGcm(key, sealed.subarray(0, length)), 'SSM_ERR_DECRYPT');
    }
  });

  it('opens an authentic empty plaintext (exactly nonce + tag) and rejects 28 random bytes', () => {
    const sealed = sealAesGcm(key, Buffer.alloc(0));
    expect(openAesGcm(key, sealed).length).toBe(0);
    expectProtocolError(() => openAesGcm(key, Buffer.alloc(28, 0x5a)), 'SSM_ERR_DECRYPT');
  });

  it('keeps the underlying crypto failure as the cause', () => {
    const sealed = sealAesGcm(key, Buffer.from('x'));
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    const err = expectProtocolError(() => openAesGcm(key, sealed), 'SSM_ERR_DECRYPT');
    // Node's crypto errors come from another realm under jest, so check the shape, not the class.
    expect(err.cause).toHaveProperty('message', expect.stringMatching(/authenticate/));
  });
});

describe('sealAesGcm', () => {
  const key = splitDataKey(DATA_KEY).clientToAgent;

  it('puts the nonce in front and the 16-byte tag at the back', () => {
    const nonce = fromHex('0102030405060708090a0b0c');
    const sealed = sealAesGcm(key, Buffer.from('abc'), nonce);
    expect(sealed.length).toBe(GCM_NONCE_BYTES + 3 + GCM_TAG_BYTES);
    expect(sealed.subarray(0, GCM_NONCE_BYTES)).toEqual(nonce);
  });

  it('uses a fresh random nonce by default', () => {
    const a = sealAesGcm(key, Buffer.from('same'));
    const b = sealAesGcm(key, Buffer.from('same'));
    expect(a.subarray(0, GCM_NONCE_BYTES)).not.toEqual(b.subarray(0, GCM_NONCE_BYTES));
    expect(openAesGcm(key, a)).toEqual(openAesGcm(key, b));
  });

  it.each([0, 16, 31, 33, 64])('rejects a %i-byte key', (length) => {
    expect(() => sealAesGcm(Buffer.alloc(length), Buffer.from('x'))).toThrow(RangeError);
  });

  it.each([0, 8, 11, 13, 16])('rejects a %i-byte nonce', (length) => {
    expect(() => sealAesGcm(key, Buffer.from('x'), Buffer.alloc(length))).toThrow(RangeError);
  });
});

describe('properties', () => {
  const bytes = (length: number) =>
    fc.uint8Array({ minLength: length, maxLength: length }).map((b) => Buffer.from(b));

  it('seal → open round-trips any plaintext, key and nonce', () => {
    assertProperty(
      fc.property(bytes(32), fc.uint8Array({ maxLength: 4096 }), bytes(12), (key, plain, nonce) => {
        const plaintext = Buffer.from(plain);
        const sealed = sealAesGcm(key, plaintext, nonce);
        expect(sealed.length).toBe(GCM_NONCE_BYTES + plaintext.length + GCM_TAG_BYTES);
        expect(sealed.subarray(0, GCM_NONCE_BYTES)).toEqual(nonce);
        expect(openAesGcm(key, sealed)).toEqual(plaintext);
      }),
      { numRuns: 200 },
    );
  });

  it('both halves of a data key round-trip in their own direction only', () => {
    assertProperty(
      fc.property(bytes(64), fc.uint8Array({ minLength: 1, maxLength: 256 }), (dataKey, plain) => {
        fc.pre(!dataKey.subarray(0, 32).equals(dataKey.subarray(32)));
        const keys = splitDataKey(dataKey);
        const plaintext = Buffer.from(plain);
        const fromAgent = sealAesGcm(keys.agentToClient, plaintext);
        expect(openAesGcm(keys.agentToClient, fromAgent)).toEqual(plaintext);
        expectProtocolError(() => openAesGcm(keys.clientToAgent, fromAgent), 'SSM_ERR_DECRYPT');
      }),
      { numRuns: 100 },
    );
  });

  it('openAesGcm rejects arbitrary unauthenticated bytes with SSM_ERR_DECRYPT, never another error', () => {
    const key = splitDataKey(DATA_KEY).agentToClient;
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        expectProtocolError(() => openAesGcm(key, Buffer.from(raw)), 'SSM_ERR_DECRYPT');
      }),
      { numRuns: 300 },
    );
  });
});
