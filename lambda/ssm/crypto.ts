import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AES_KEY_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES, KMS_DATA_KEY_BYTES } from './constants';
import { SsmProtocolError } from './errors';

/** AES-256-GCM, no AAD; output = nonce ‖ ciphertext ‖ tag (both reference implementations). */
export function sealAesGcm(
  key: Buffer,
  plaintext: Buffer,
  nonce: Buffer = randomBytes(GCM_NONCE_BYTES),
): Buffer {
  if (key.length !== AES_KEY_BYTES) throw new RangeError(`AES key must be ${AES_KEY_BYTES} bytes`);
  if (nonce.length !== GCM_NONCE_BYTES) throw new RangeError(`GCM nonce must be ${GCM_NONCE_BYTES} bytes`);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

export function openAesGcm(key: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) {
    throw new SsmProtocolError('SSM_ERR_DECRYPT', `encrypted payload of ${sealed.length} bytes is too short`);
  }
  const nonce = sealed.subarray(0, GCM_NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - GCM_TAG_BYTES);
  const ciphertext = sealed.subarray(GCM_NONCE_BYTES, sealed.length - GCM_TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (err) {
    throw new SsmProtocolError('SSM_ERR_DECRYPT', 'payload failed AES-GCM authentication', { cause: err });
  }
}

export interface DirectionalKeys {
  /** K[0:32]: the agent encrypts with it, the client decrypts. */
  readonly agentToClient: Buffer;
  /** K[32:64]: the client encrypts with it, the agent decrypts. */
  readonly clientToAgent: Buffer;
}

export function splitDataKey(dataKey: Uint8Array): DirectionalKeys {
  if (dataKey.length !== KMS_DATA_KEY_BYTES) {
    throw new RangeError(`KMS data key must be ${KMS_DATA_KEY_BYTES} bytes, got ${dataKey.length}`);
  }
  const key = Buffer.from(dataKey);
  return {
    agentToClient: key.subarray(0, AES_KEY_BYTES),
    clientToAgent: key.subarray(AES_KEY_BYTES, KMS_DATA_KEY_BYTES),
  };
}
