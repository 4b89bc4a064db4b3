import {
  decryptDataKey,
  generateDataKey,
  InvalidCiphertextException,
  keyIdOfBlob,
} from '../../local/fake-kms';

const KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/test';
const CONTEXT = { 'aws:ssm:SessionId': 'ecs-execute-command-0123', 'aws:ssm:TargetId': 'ecs:c_t_r' };

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('fake-kms', () => {
  it('unwraps a data key with the same context, in any key order', () => {
    const key = generateDataKey({ keyId: KEY_ID, numberOfBytes: 64, encryptionContext: CONTEXT });

    const reordered = { 'aws:ssm:TargetId': 'ecs:c_t_r', 'aws:ssm:SessionId': 'ecs-execute-command-0123' };

    expect(key.plaintext).toHaveLength(64);
    expect(key.keyId).toBe(KEY_ID);
    expect(keyIdOfBlob(key.ciphertextBlob)).toBe(KEY_ID);
    expect(decryptDataKey(key.ciphertextBlob, reordered, KEY_ID)).toEqual(key.plaintext);
  });

  it.each([
    { name: 'another TargetId', context: { ...CONTEXT, 'aws:ssm:TargetId': 'ecs:other' } },
    { name: 'an extra key', context: { ...CONTEXT, 'aws:ssm:RandomChallenge': 'abc=' } },
    { name: 'a missing key', context: { 'aws:ssm:SessionId': CONTEXT['aws:ssm:SessionId'] } },
  ])('throws InvalidCiphertextException for $name', ({ context }) => {
    const key = generateDataKey({ keyId: KEY_ID, numberOfBytes: 64, encryptionContext: CONTEXT });

    const err = thrown(() => decryptDataKey(key.ciphertextBlob, context));

    expect(err).toBeInstanceOf(InvalidCiphertextException);
    expect(err).toMatchObject({ name: 'InvalidCiphertextException' });
  });

  it('throws InvalidCiphertextException for another key id or a damaged blob', () => {
    const key = generateDataKey({ keyId: KEY_ID, numberOfBytes: 64, encryptionContext: CONTEXT });
    const damaged = Buffer.from(key.ciphertextBlob);
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 1;

    expect(thrown(() => decryptDataKey(key.ciphertextBlob, CONTEXT, 'alias/other'))).toMatchObject({
      name: 'InvalidCiphertextException',
    });
    expect(thrown(() => decryptDataKey(damaged, CONTEXT))).toMatchObject({
      name: 'InvalidCiphertextException',
    });
    expect(thrown(() => decryptDataKey(Buffer.from('CIPHERTEXTBLOB'), CONTEXT))).toMatchObject({
      name: 'InvalidCiphertextException',
    });
  });

  it('makes a fresh random key each time and validates numberOfBytes', () => {
    const a = generateDataKey({ keyId: KEY_ID, numberOfBytes: 32 });
    const b = generateDataKey({ keyId: KEY_ID, numberOfBytes: 32 });

    expect(a.plaintext.equals(b.plaintext)).toBe(false);
    expect(decryptDataKey(a.ciphertextBlob, {})).toEqual(a.plaintext);
    expect(() => generateDataKey({ keyId: KEY_ID, numberOfBytes: 0 })).toThrow(RangeError);
    expect(() => generateDataKey({ keyId: KEY_ID, numberOfBytes: 1025 })).toThrow(RangeError);
    expect(() => generateDataKey({ keyId: '', numberOfBytes: 64 })).toThrow(RangeError);
  });
});
