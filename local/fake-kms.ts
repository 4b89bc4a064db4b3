/**
 * A local stand-in for the two KMS calls an ECS Exec session with encryption makes:
 * the client's `GenerateDataKey` and the agent's `Decrypt` (ssm-protocol.md §9.2).
 *
 * Data keys are wrapped with AES-256-GCM under one fixed local master key, so a blob made by one
 * process (a fake KMS HTTP endpoint, a test) can be unwrapped by another (the agent double). The
 * key id and the encryption context are bound to the blob as AAD, in a canonical form (sorted
 * keys), which is what makes `Decrypt` fail the way real KMS does when the client used another
 * context than the agent, e.g. a wrong `aws:ssm:TargetId`.
 *
 * Blob layout: MAGIC(4) | VERSION(1) | keyIdLength(2, BE) | keyId (UTF-8) | nonce(12) | ciphertext | tag(16).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export type EncryptionContext = Readonly<Record<string, string>>;

export interface GenerateDataKeyInput {
  readonly keyId: string;
  /** KMS allows 1..1024; ECS Exec clients ask for 64. */
  readonly numberOfBytes: number;
  readonly encryptionContext?: EncryptionContext;
}

export interface GeneratedDataKey {
  readonly plaintext: Buffer;
  readonly ciphertextBlob: Buffer;
  readonly keyId: string;
}

/** Named like the KMS error so callers (and the agent double's error text) read the same. */
export class InvalidCiphertextException extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidCiphertextException';
  }
}

const MAGIC = Buffer.from('FKMS', 'ascii');
const BLOB_VERSION = 1;
const VERSION_BYTES = 1;
const KEY_ID_LENGTH_BYTES = 2;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const MAX_KEY_ID_BYTES = 0xffff;
const MIN_DATA_KEY_BYTES = 1;
const MAX_DATA_KEY_BYTES = 1024;
/** Fixed on purpose: every process that loads this module must unwrap the others' blobs. */
const MASTER_KEY = createHash('sha256').update('ecs-exec-runner/local/fake-kms master key v1').digest();

/** `{"context":{sorted…},"keyId":"…"}`: the same context in any key order gives the same AAD. */
function canonicalAad(keyId: string, context: EncryptionContext): Buffer {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(context).sort()) {
    const value = context[key];
    if (typeof value !== 'string') throw new TypeError(`encryption context value for ${key} is not a string`);
    sorted[key] = value;
  }
  return Buffer.from(JSON.stringify({ context: sorted, keyId }), 'utf8');
}

export function generateDataKey(input: GenerateDataKeyInput): GeneratedDataKey {
  const { keyId, numberOfBytes } = input;
  if (keyId === '') throw new RangeError('keyId must not be empty');
  if (
    !Number.isInteger(numberOfBytes) ||
    numberOfBytes < MIN_DATA_KEY_BYTES ||
    numberOfBytes > MAX_DATA_KEY_BYTES
  ) {
    throw new RangeError(
      `numberOfBytes must be a whole number in ${MIN_DATA_KEY_BYTES}..${MAX_DATA_KEY_BYTES}, got ${numberOfBytes}`,
    );
  }
  const keyIdBytes = Buffer.from(keyId, 'utf8');
  if (keyIdBytes.length > MAX_KEY_ID_BYTES) throw new RangeError('keyId is too long');
  const plaintext = randomBytes(numberOfBytes);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', MASTER_KEY, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(canonicalAad(keyId, input.encryptionContext ?? {}));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const header = Buffer.alloc(MAGIC.length + VERSION_BYTES + KEY_ID_LENGTH_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt8(BLOB_VERSION, MAGIC.length);
  header.writeUInt16BE(keyIdBytes.length, MAGIC.length + VERSION_BYTES);
  const ciphertextBlob = Buffer.concat([header, keyIdBytes, nonce, ciphertext, cipher.getAuthTag()]);
  return { plaintext, ciphertextBlob, keyId };
}

/** The key id a blob was made under, or undefined when it is not one of ours. */
export function keyIdOfBlob(ciphertextBlob: Uint8Array): string | undefined {
  const blob = Buffer.from(ciphertextBlob);
  const keyIdOffset = MAGIC.length + VERSION_BYTES + KEY_ID_LENGTH_BYTES;
  if (blob.length < keyIdOffset || !blob.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (blob.readUInt8(MAGIC.length) !== BLOB_VERSION) return undefined;
  const keyIdLength = blob.readUInt16BE(MAGIC.length + VERSION_BYTES);
  if (blob.length < keyIdOffset + keyIdLength + NONCE_BYTES + TAG_BYTES) return undefined;
  return blob.toString('utf8', keyIdOffset, keyIdOffset + keyIdLength);
}

/**
 * Unwraps a data key. Like KMS Decrypt, it needs the exact encryption context used at
 * GenerateDataKey; `expectedKeyId` plays the part of Decrypt's optional KeyId parameter.
 * @throws InvalidCiphertextException when the blob is not ours, or the context or key differs.
 */
export function decryptDataKey(
  ciphertextBlob: Uint8Array,
  encryptionContext: EncryptionContext,
  expectedKeyId?: string,
): Buffer {
  const blob = Buffer.from(ciphertextBlob);
  const keyId = keyIdOfBlob(blob);
  if (keyId === undefined) {
    throw new InvalidCiphertextException('the ciphertext is not a fake-kms data key blob');
  }
  if (expectedKeyId !== undefined && expectedKeyId !== keyId) {
    throw new InvalidCiphertextException('the ciphertext was encrypted under a different key');
  }
  const nonceOffset = MAGIC.length + VERSION_BYTES + KEY_ID_LENGTH_BYTES + Buffer.byteLength(keyId, 'utf8');
  const nonce = blob.subarray(nonceOffset, nonceOffset + NONCE_BYTES);
  const ciphertext = blob.subarray(nonceOffset + NONCE_BYTES, blob.length - TAG_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', MASTER_KEY, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(canonicalAad(keyId, encryptionContext));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (err) {
    // GCM cannot tell a wrong context from a damaged blob; neither can KMS's error.
    throw new InvalidCiphertextException('the ciphertext or its encryption context is invalid', {
      cause: err,
    });
  }
}
