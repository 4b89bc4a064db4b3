/** KMS DescribeKey: whether the cluster's exec key exists and is usable (doctor-world key states). */
import type { JsonOperation } from './context';
import { authorizeCaller, doctorState } from './doctor-world';
import { AwsServiceError } from './errors';
import { InputReader } from './input';
import { kmsKeyArn, resolveKmsKey } from './world';

const describeKey: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, 'ValidationException');
  const keyRef = reader.string('KeyId');
  authorizeCaller(ctx.world, 'kms:DescribeKey', 'AccessDeniedException');
  const key = resolveKmsKey(ctx.world, keyRef);
  const arn = keyRef.startsWith('arn:') ? keyRef : kmsKeyArn(ctx.world, keyRef);
  if (key === undefined) throw new AwsServiceError('NotFoundException', `Key '${arn}' does not exist`);
  const keyArn = key.startsWith('arn:') ? key : kmsKeyArn(ctx.world, key);
  const state = doctorState(ctx.world).kmsKeyStates[keyArn] ?? 'Enabled';
  return {
    KeyMetadata: {
      AWSAccountId: ctx.world.account,
      KeyId: keyArn.split('/').pop(),
      Arn: keyArn,
      Enabled: state === 'Enabled',
      KeyState: state,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyManager: 'CUSTOMER',
      Origin: 'AWS_KMS',
    },
  };
};

export const KMS_DOCTOR_OPERATIONS: Readonly<Record<string, JsonOperation>> = { DescribeKey: describeKey };
