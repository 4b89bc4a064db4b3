/**
 * KMS (awsJson1_1, `X-Amz-Target: TrentService.<Op>`): GenerateDataKey for the client side of the
 * ECS Exec KMS handshake (ssm-protocol.md §9.2), and Decrypt so a test can check a data key the
 * way the agent would. Keys come from the world; the crypto is local/fake-kms.ts.
 */
import { decryptDataKey, generateDataKey, InvalidCiphertextException, keyIdOfBlob } from '../fake-kms';
import type { JsonOperation } from './context';
import { AwsServiceError } from './errors';
import { takeSingleFault } from './faults';
import { InputReader } from './input';
import { type FakeWorld, kmsKeyArn, resolveKmsKey } from './world';

export const KMS_TARGET_PREFIX = 'TrentService';
const KMS_VALIDATION_ERROR = 'ValidationException';
/** KeySpec → bytes. */
const KEY_SPEC_BYTES: Readonly<Record<string, number>> = { AES_256: 32, AES_128: 16 };
const ENCRYPTION_ALGORITHM = 'SYMMETRIC_DEFAULT';

function keyArnOf(world: FakeWorld, key: string): string {
  return key.startsWith('arn:') ? key : kmsKeyArn(world, key);
}

function requireKey(world: FakeWorld, keyRef: string): string {
  const key = resolveKmsKey(world, keyRef);
  if (key === undefined) {
    throw new AwsServiceError('NotFoundException', `Key '${keyArnOf(world, keyRef)}' does not exist`);
  }
  return key;
}

function faultMessage(world: FakeWorld, code: string, keyRef: string, action: string): string {
  if (code === 'AccessDeniedException') {
    return `User: arn:aws:sts::${world.account}:assumed-role/local/fake is not authorized to perform: kms:${action} on resource: ${keyArnOf(world, keyRef)} because no identity-based policy allows the kms:${action} action`;
  }
  if (code === 'NotFoundException') return `Key '${keyArnOf(world, keyRef)}' does not exist`;
  if (code === 'DisabledException') return `${keyArnOf(world, keyRef)} is disabled.`;
  if (code === 'ThrottlingException') return 'Rate exceeded';
  return `Injected ${code}.`;
}

const generateDataKeyOp: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, KMS_VALIDATION_ERROR);
  const keyRef = reader.string('KeyId');
  const fault = takeSingleFault(ctx.faults.kms.generateDataKey);
  if (fault !== undefined) {
    throw new AwsServiceError(
      fault.error,
      fault.message ?? faultMessage(ctx.world, fault.error, keyRef, 'GenerateDataKey'),
    );
  }
  const numberOfBytes = reader.optNumber('NumberOfBytes');
  const keySpec = reader.optString('KeySpec');
  if ((numberOfBytes === undefined) === (keySpec === undefined)) {
    throw new AwsServiceError(KMS_VALIDATION_ERROR, 'Please specify either number of bytes or key spec.');
  }
  const bytes = numberOfBytes ?? KEY_SPEC_BYTES[keySpec ?? ''];
  if (bytes === undefined) throw new AwsServiceError(KMS_VALIDATION_ERROR, `Unsupported KeySpec ${keySpec}.`);
  const key = requireKey(ctx.world, keyRef);
  let generated: ReturnType<typeof generateDataKey>;
  try {
    // The blob is bound to the KeyId as the caller wrote it: the agent double decrypts with the
    // cluster's kmsKeyId, which is what an ECS Exec client passes on.
    generated = generateDataKey({
      keyId: keyRef,
      numberOfBytes: bytes,
      encryptionContext: reader.optStringMap('EncryptionContext') ?? {},
    });
  } catch (err) {
    throw new AwsServiceError(KMS_VALIDATION_ERROR, err instanceof Error ? err.message : String(err));
  }
  return {
    KeyId: keyArnOf(ctx.world, key),
    Plaintext: generated.plaintext.toString('base64'),
    CiphertextBlob: generated.ciphertextBlob.toString('base64'),
  };
};

const decryptOp: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, KMS_VALIDATION_ERROR);
  const blob = Buffer.from(reader.string('CiphertextBlob'), 'base64');
  const blobKeyRef = keyIdOfBlob(blob);
  if (blobKeyRef === undefined) {
    throw new AwsServiceError(
      'InvalidCiphertextException',
      'The ciphertext is not a data key of this endpoint.',
    );
  }
  const key = requireKey(ctx.world, blobKeyRef);
  const requestedKey = reader.optString('KeyId');
  if (requestedKey !== undefined && resolveKmsKey(ctx.world, requestedKey) !== key) {
    throw new AwsServiceError(
      'IncorrectKeyException',
      'The key ID in the request does not identify a CMK that can perform this operation.',
    );
  }
  try {
    const plaintext = decryptDataKey(blob, reader.optStringMap('EncryptionContext') ?? {});
    return {
      KeyId: keyArnOf(ctx.world, key),
      Plaintext: plaintext.toString('base64'),
      EncryptionAlgorithm: ENCRYPTION_ALGORITHM,
    };
  } catch (err) {
    if (err instanceof InvalidCiphertextException) {
      // Real KMS answers a wrong encryption context with an empty message.
      throw new AwsServiceError('InvalidCiphertextException', '');
    }
    throw err;
  }
};

export const KMS_OPERATIONS: Readonly<Record<string, JsonOperation>> = {
  GenerateDataKey: generateDataKeyOp,
  Decrypt: decryptOp,
};
