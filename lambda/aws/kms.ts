import type { KMSClient } from '@aws-sdk/client-kms';
import { KMS_DATA_KEY_BYTES } from '../ssm/constants';
import type { DataKeyProvider } from '../ssm/types';

export const ENCRYPTION_CONTEXT_SESSION_ID = 'aws:ssm:SessionId';
export const ENCRYPTION_CONTEXT_TARGET_ID = 'aws:ssm:TargetId';
export const ENCRYPTION_CONTEXT_RANDOM_CHALLENGE = 'aws:ssm:RandomChallenge';

/**
 * GenerateDataKey as the session-manager-plugin asks for it: 64 bytes, no KeySpec, and the
 * encryption context the agent will use to decrypt (any other context makes its Decrypt fail),
 * plus the agent's random challenge when it sent one (ChallengeAcknowledgement).
 */
export function kmsDataKeyProvider(kms: () => Promise<KMSClient>, targetId: string): DataKeyProvider {
  return async ({ keyId, sessionId, challenge }) => {
    const [client, { GenerateDataKeyCommand }] = await Promise.all([kms(), import('@aws-sdk/client-kms')]);
    const response = await client.send(
      new GenerateDataKeyCommand({
        KeyId: keyId,
        NumberOfBytes: KMS_DATA_KEY_BYTES,
        EncryptionContext: {
          [ENCRYPTION_CONTEXT_SESSION_ID]: sessionId,
          [ENCRYPTION_CONTEXT_TARGET_ID]: targetId,
          // Agents that send a challenge accept it back in the context (and may require it).
          ...(challenge ? { [ENCRYPTION_CONTEXT_RANDOM_CHALLENGE]: challenge } : {}),
        },
      }),
    );
    if (!response.Plaintext || !response.CiphertextBlob) throw new Error('GenerateDataKey returned no key');
    return {
      plaintext: response.Plaintext,
      ciphertextBlob: response.CiphertextBlob,
      challengeAcknowledged: challenge !== undefined && challenge !== '',
    };
  };
}
