import type { SSMClient } from '@aws-sdk/client-ssm';
import type { ResumeSession } from '../ssm/types';

/** ssm:ResumeSession: a fresh token for a dropped data channel. A missing token means the session is gone. */
export function ssmResumeSession(ssm: () => Promise<SSMClient>): ResumeSession {
  return async (sessionId) => {
    const [client, { ResumeSessionCommand }] = await Promise.all([ssm(), import('@aws-sdk/client-ssm')]);
    const response = await client.send(new ResumeSessionCommand({ SessionId: sessionId }));
    if (!response.TokenValue) throw new Error(`session ${sessionId} can no longer be resumed`);
    return {
      tokenValue: response.TokenValue,
      ...(response.StreamUrl ? { streamUrl: response.StreamUrl } : {}),
    };
  };
}

/** ssm:TerminateSession, so that an abandoned session does not count against the container's sessions. */
export function ssmTerminateSession(ssm: () => Promise<SSMClient>): (sessionId: string) => Promise<void> {
  return async (sessionId) => {
    const [client, { TerminateSessionCommand }] = await Promise.all([ssm(), import('@aws-sdk/client-ssm')]);
    await client.send(new TerminateSessionCommand({ SessionId: sessionId }));
  };
}
