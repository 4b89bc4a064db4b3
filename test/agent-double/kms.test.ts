import { GCM_NONCE_BYTES, GCM_TAG_BYTES, PayloadType } from '../../lambda/ssm/constants';
import { parseHandshakeRequest } from '../../lambda/ssm/handshake';
import type { AgentTimingOptions, MessageGatewayDouble } from '../../local/agent-double';
import { eventually, useGatewayPerTest } from './raw-client';

const KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const TARGET_ID = 'ecs:my-cluster_0123456789abcdef0123456789abcdef_0123456789abcdef-1234567890';
const FAST: AgentTimingOptions = { initialReadDelayMs: 0, interChunkDelayMs: 0, closeAckWaitMs: 300 };
const GCM_OVERHEAD_BYTES = GCM_NONCE_BYTES + GCM_TAG_BYTES;

let gateway: MessageGatewayDouble;
const connect = useGatewayPerTest((started) => {
  gateway = started;
});

describe('MessageGatewayDouble: a KMS-encrypted session', () => {
  it('runs the full handshake, then sends Output encrypted with K[0:32] and a counter nonce', async () => {
    // Arrange
    const session = gateway.createSession({
      script: [{ output: 'secret one\n' }, { delayMs: 20 }, { output: 'secret two\n' }],
      kms: { keyId: KEY_ID, targetId: TARGET_ID },
      timing: FAST,
    });

    // Act
    const client = await connect(session, { kmsTargetId: TARGET_ID });
    await client.waitForChannelClosed();

    // Assert: sequence and payload types as in ssm-protocol.md §9.5.
    expect(client.delivered.map((frame) => [frame.sequenceNumber, frame.payloadType])).toEqual([
      [0, PayloadType.HandshakeRequest],
      [1, PayloadType.EncChallengeRequest],
      [2, PayloadType.HandshakeComplete],
      [3, PayloadType.Output],
      [4, PayloadType.Output],
    ]);
    const request = parseHandshakeRequest(client.delivered[0]?.payload ?? Buffer.alloc(0));
    expect(request.AgentVersion).toBe('3.3.987.0');
    expect(request.RequestedClientActions).toEqual([
      {
        ActionType: 'SessionType',
        ActionParameters: { SessionType: 'InteractiveCommands', Properties: null },
      },
      { ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: KEY_ID, Challenge: expect.any(String) } },
    ]);
    expect(client.customerMessage).toBe('This session is encrypted using AWS KMS.');
    expect(client.outputText()).toBe('secret one\r\nsecret two\r\n');
    const wire = client.arrivals.filter(({ frame }) => frame.payloadType === PayloadType.Output);
    expect(wire.map(({ frame }) => frame.payload.length)).toEqual([
      12 + GCM_OVERHEAD_BYTES,
      12 + GCM_OVERHEAD_BYTES,
    ]);
    const [firstNonce, secondNonce] = wire.map(({ frame }) => frame.payload.subarray(0, GCM_NONCE_BYTES));
    expect(firstNonce && secondNonce && nextCounterNonce(firstNonce).equals(secondNonce)).toBe(true);
    const observation = gateway.session(session.sessionId);
    expect(observation.handshake).toMatchObject({
      state: 'complete',
      clientVersion: '1.2.677.0',
      challengeAcknowledged: false,
      challengeMatched: true,
    });
    expect(observation.dataKeyContextMatched).toBe(true);
    // Under load the client may resend a handshake answer before its ack arrives; each is acked.
    expect([...new Set(observation.acksSent)]).toEqual([0, 1]);
  });

  it('adds aws:ssm:RandomChallenge to the context when the client acknowledges the challenge', async () => {
    const session = gateway.createSession({
      script: [{ output: 'ok\n' }],
      kms: { keyId: KEY_ID, targetId: TARGET_ID, requireChallengeResponse: true },
      timing: FAST,
    });

    const client = await connect(session, { kmsTargetId: TARGET_ID, challengeAcknowledgement: true });
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('ok\r\n');
    expect(gateway.session(session.sessionId).handshake.challengeAcknowledged).toBe(true);
  });

  it('decrypts Output input with K[32:64] once the handshake is complete', async () => {
    const session = gateway.createSession({
      command: 'cat',
      kms: { keyId: KEY_ID, targetId: TARGET_ID },
      timing: FAST,
    });
    const client = await connect(session, { kmsTargetId: TARGET_ID });
    await client.waitFor(() => client.customerMessage !== undefined, 'HandshakeComplete');

    client.sendInput(PayloadType.Output, 'hi\r');
    client.sendInput(PayloadType.Output, Buffer.from([0x04]));
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('hi\r\nhi\r\n');
    expect(gateway.session(session.sessionId).inputBytes()).toEqual(Buffer.from('hi\r\x04'));
  });

  it('fails the handshake like the agent when the data key was made for another TargetId', async () => {
    const session = gateway.createSession({
      command: 'echo never',
      kms: { keyId: KEY_ID, targetId: TARGET_ID },
      timing: FAST,
    });

    const client = await connect(session, { kmsTargetId: 'ecs:other-cluster_task_container' });
    await client.waitForChannelClosed();

    expect(client.channelClosed?.output).toBe(
      `SessionId: ${session.sessionId} : ----------ERROR-------\r\n` +
        'Encountered error while initiating handshake. Fetching data key failed: Unable to retrieve data key, ' +
        'InvalidCiphertextException: the ciphertext or its encryption context is invalid\r\n',
    );
    const observation = gateway.session(session.sessionId);
    expect(observation.dataKeyContextMatched).toBe(false);
    expect(observation.handshake.state).toBe('failed');
    expect(observation.pid).toBeUndefined();
    expect(client.outputText()).toBe('');
  });

  it('times out a client that ignores the handshake, resending the HandshakeRequest meanwhile', async () => {
    const session = gateway.createSession({
      command: 'echo never',
      kms: { keyId: KEY_ID, targetId: TARGET_ID },
      timing: { ...FAST, resendTickMs: 20, initialRtoMs: 50 },
      faults: { handshakeTimeoutMs: 400 },
    });

    const client = await connect(session, { autoAck: false, ignoreHandshake: true });
    await client.waitForChannelClosed();

    expect(client.channelClosed?.output).toContain(
      'Encountered error while initiating handshake. Handshake timed out. Please ensure that you have the latest version of the session manager plugin.',
    );
    expect(client.arrivalSeqs().length).toBeGreaterThan(3);
    expect(new Set(client.arrivalSeqs())).toEqual(new Set([0]));
  });

  it('acks and drops input sent before the handshake is complete', async () => {
    const session = gateway.createSession({
      script: [{ output: 'x' }],
      kms: { keyId: KEY_ID, targetId: TARGET_ID },
      timing: FAST,
    });
    const client = await connect(session, { kmsTargetId: TARGET_ID, ignoreHandshake: true });
    await client.waitFor(() => client.delivered.length === 1, 'the HandshakeRequest');

    const seq = client.sendInput(PayloadType.Size, JSON.stringify({ cols: 80, rows: 24 }));
    await client.waitFor(() => client.acksReceived.includes(seq), 'the ack of the early Size');

    const observation = gateway.session(session.sessionId);
    expect(observation.inputDroppedDuringHandshake).toEqual([seq]);
    expect(observation.sizesApplied).toEqual([]);
  });

  it('stops reading (the agent would panic) when Output input arrives before the data key', async () => {
    const session = gateway.createSession({
      script: [{ output: 'x' }],
      kms: { keyId: KEY_ID, targetId: TARGET_ID },
      timing: FAST,
    });
    const client = await connect(session, { ignoreHandshake: true });
    await client.waitFor(() => client.delivered.length === 1, 'the HandshakeRequest');

    client.sendInput(PayloadType.Output, 'too early');
    const observation = gateway.session(session.sessionId);
    await eventually(() => observation.readerStopped !== undefined, 'the reader to stop');

    expect(observation.readerStopped).toMatch(/nil cipher/);
    expect(observation.acksSent).toEqual([]);
  });
});

/** The agent's nonce counter: three little-endian uint32 words, incremented with carry. */
function nextCounterNonce(nonce: Buffer): Buffer {
  const next = Buffer.from(nonce);
  for (let word = 0; word < 3; word++) {
    const value = (next.readUInt32LE(word * 4) + 1) % 0x1_0000_0000;
    next.writeUInt32LE(value, word * 4);
    if (value !== 0) break;
  }
  return next;
}
