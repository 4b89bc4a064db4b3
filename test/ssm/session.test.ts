import { randomUUID } from 'node:crypto';
import { decodeFrame, encodeFrame, type Frame, parseJsonObject } from '../../lambda/ssm/codec';
import { ACK_FLAGS, MessageType, PayloadType } from '../../lambda/ssm/constants';
import { openAesGcm, sealAesGcm, splitDataKey } from '../../lambda/ssm/crypto';
import { HandshakeError, type SessionError } from '../../lambda/ssm/errors';
import type { ChannelClosed } from '../../lambda/ssm/handshake';
import { DataChannelSession, INITIAL_RTO_MS } from '../../lambda/ssm/session';
import type { DataKeyProvider } from '../../lambda/ssm/types';

const DATA_KEY = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
const KEYS = splitDataKey(DATA_KEY);
const KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/test';

interface Harness {
  session: DataChannelSession;
  sent: Frame[];
  output: Buffer[];
  closed: ChannelClosed[];
  failures: SessionError[];
  clock: { now: number };
}

function harness(
  options: { dataKeyProvider?: DataKeyProvider; incomingBufferCapacity?: number } = {},
): Harness {
  const sent: Frame[] = [];
  const output: Buffer[] = [];
  const closed: ChannelClosed[] = [];
  const failures: SessionError[] = [];
  const clock = { now: 1_700_000_000_000 };
  const session = new DataChannelSession({
    sessionId: 'ecs-execute-command-test',
    now: () => clock.now,
    ...options,
    hooks: {
      send: (frame) => sent.push(decodeFrame(Buffer.from(frame))),
      output: (bytes) => output.push(Buffer.from(bytes)),
      closed: (info) => closed.push(info),
      failed: (error) => failures.push(error),
    },
  });
  return { session, sent, output, closed, failures, clock };
}

function agentFrame(
  sequenceNumber: number,
  payloadType: number,
  payload: Buffer | string,
  messageType: string = MessageType.OutputStreamData,
): Buffer {
  return encodeFrame({
    messageType,
    sequenceNumber,
    flags: sequenceNumber === 0 ? 1n : 0n,
    messageId: randomUUID(),
    payloadType,
    payload: Buffer.from(payload),
    createdDateMs: 1_700_000_000_000,
  });
}

const output = (seq: number, text: string): Buffer => agentFrame(seq, PayloadType.Output, text);
const acks = (h: Harness): Frame[] => h.sent.filter((f) => f.messageType === MessageType.Acknowledge);
const inputs = (h: Harness): Frame[] => h.sent.filter((f) => f.messageType === MessageType.InputStreamData);
const ackedSeqs = (h: Harness): number[] =>
  acks(h).map((f) => parseJsonObject(f.payload, 'ack').AcknowledgedMessageSequenceNumber as number);
const text = (h: Harness): string => Buffer.concat(h.output).toString('utf8');

function agentAck(seq: number): Buffer {
  return encodeFrame({
    messageType: MessageType.Acknowledge,
    sequenceNumber: 0,
    flags: ACK_FLAGS,
    messageId: randomUUID(),
    payloadType: 0,
    payload: Buffer.from(
      JSON.stringify({
        AcknowledgedMessageType: 'input_stream_data',
        AcknowledgedMessageId: randomUUID(),
        AcknowledgedMessageSequenceNumber: seq,
        IsSequentialMessage: true,
      }),
    ),
    createdDateMs: 1_700_000_000_000,
  });
}

function handshakeRequest(seq: number, kms: boolean): Buffer {
  const actions: unknown[] = [
    { ActionType: 'SessionType', ActionParameters: { SessionType: 'InteractiveCommands', Properties: null } },
  ];
  if (kms) {
    actions.push({
      ActionType: 'KMSEncryption',
      ActionParameters: { KMSKeyId: KEY_ID, Challenge: 'AAECAwQFBgcICQoLDA0ODw==' },
    });
  }
  return agentFrame(
    seq,
    PayloadType.HandshakeRequest,
    JSON.stringify({ AgentVersion: '3.3.987.0', RequestedClientActions: actions }),
  );
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('DataChannelSession receiving output', () => {
  it('acknowledges each output_stream_data with seq 0, flags SYN|FIN, payload type 0 and the acked identity', () => {
    const h = harness();
    const frame = output(0, 'hello\r\n');
    h.session.receive(frame);
    const [ack] = acks(h);
    expect(ack).toBeDefined();
    expect(ack?.sequenceNumber).toBe(0);
    expect(ack?.flags).toBe(3n);
    expect(ack?.payloadType).toBe(0);
    expect(parseJsonObject(ack!.payload, 'ack')).toEqual({
      AcknowledgedMessageType: 'output_stream_data',
      AcknowledgedMessageId: decodeFrame(frame).messageId,
      AcknowledgedMessageSequenceNumber: 0,
      IsSequentialMessage: true,
    });
    expect(text(h)).toBe('hello\r\n');
  });

  it('buffers a message that arrives ahead of sequence and delivers in order', () => {
    const h = harness();
    h.session.receive(output(2, 'c'));
    h.session.receive(output(1, 'b'));
    expect(text(h)).toBe('');
    h.session.receive(output(0, 'a'));
    expect(text(h)).toBe('abc');
    expect(ackedSeqs(h)).toEqual([2, 1, 0]);
    expect(h.session.undeliveredCount).toBe(0);
    expect(h.session.stats.outOfOrderFrames).toBe(2);
  });

  it('re-acks duplicates of delivered and of buffered frames without delivering them twice', () => {
    const h = harness();
    h.session.receive(output(0, 'a'));
    h.session.receive(output(0, 'a'));
    h.session.receive(output(2, 'c'));
    h.session.receive(output(2, 'c'));
    h.session.receive(output(1, 'b'));
    expect(text(h)).toBe('abc');
    expect(ackedSeqs(h)).toEqual([0, 0, 2, 2, 1]);
    expect(h.session.stats.duplicateFrames).toBe(2);
  });

  it('drops invalid frames without acking them, so the agent resends them', () => {
    const h = harness();
    const corrupt = output(0, 'hello');
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1);
    h.session.receive(corrupt);
    h.session.receive(Buffer.from('short'));
    expect(acks(h)).toHaveLength(0);
    expect(h.session.stats.invalidFrames).toBe(2);
    h.session.receive(output(0, 'hello'));
    expect(text(h)).toBe('hello');
  });

  it('ignores start_publication, pause_publication and unknown stream payload types', () => {
    const h = harness();
    h.session.receive(agentFrame(0, 0, '', MessageType.StartPublication));
    h.session.receive(agentFrame(0, 0, '', MessageType.PausePublication));
    h.session.receive(agentFrame(0, 99, 'mystery'));
    h.session.receive(output(1, 'x'));
    expect(text(h)).toBe('x');
    expect(ackedSeqs(h)).toEqual([0, 1]);
  });

  it('ends on channel_closed and ignores anything after it', () => {
    const h = harness();
    h.session.receive(output(0, 'a'));
    h.session.receive(
      agentFrame(
        0,
        0,
        JSON.stringify({ SessionId: 's', MessageType: 'channel_closed', Output: 'boom' }),
        MessageType.ChannelClosed,
      ),
    );
    h.session.receive(output(1, 'late'));
    expect(h.closed).toEqual([{ sessionId: 's', output: 'boom' }]);
    expect(text(h)).toBe('a');
    expect(ackedSeqs(h)).toEqual([0]);
  });

  it('does not ack frames it cannot buffer, leaving them for retransmission', () => {
    const h = harness({ incomingBufferCapacity: 1 });
    h.session.receive(output(1, 'b'));
    h.session.receive(output(2, 'c'));
    expect(ackedSeqs(h)).toEqual([1]);
    h.session.receive(output(0, 'a'));
    h.session.receive(output(2, 'c'));
    expect(text(h)).toBe('abc');
  });
});

describe('DataChannelSession input', () => {
  it('sends no input before the handshake is skipped, then flushes it in order with its own sequence numbers', () => {
    const h = harness();
    h.session.sendSize(Buffer.from('{"cols":200,"rows":50}'));
    h.session.sendInput(Buffer.from('x'));
    expect(inputs(h)).toHaveLength(0);
    h.session.receive(output(0, 'first'));
    const sent = inputs(h);
    expect(sent.map((f) => [f.sequenceNumber, f.payloadType, f.payload.toString()])).toEqual([
      [0, PayloadType.Size, '{"cols":200,"rows":50}'],
      [1, PayloadType.Output, 'x'],
    ]);
    expect(sent.every((f) => f.flags === 0n)).toBe(true);
    expect(h.session.handshakeState).toBe('skipped');
  });

  it('retransmits only the oldest unacked input once the RTO has passed, until acked', () => {
    const h = harness();
    h.session.receive(output(0, 'ready'));
    h.session.sendInput(Buffer.from('a'));
    h.session.sendInput(Buffer.from('b'));
    h.clock.now += INITIAL_RTO_MS - 1;
    h.session.tick();
    expect(inputs(h)).toHaveLength(2);
    h.clock.now += 2;
    h.session.tick();
    expect(inputs(h).map((f) => f.sequenceNumber)).toEqual([0, 1, 0]);
    h.session.receive(agentAck(0));
    h.clock.now += 1000;
    h.session.tick();
    expect(inputs(h).map((f) => f.sequenceNumber)).toEqual([0, 1, 0, 1]);
    h.session.receive(agentAck(1));
    h.clock.now += 1000;
    h.session.tick();
    expect(inputs(h)).toHaveLength(4);
    expect(h.session.unackedInputCount).toBe(0);
  });

  it('updates the RTO from ack round trips and caps it at one second', () => {
    const h = harness();
    h.session.receive(output(0, 'ready'));
    for (let i = 0; i < 20; i++) {
      h.session.sendInput(Buffer.from('z'));
      h.clock.now += 5000;
      h.session.receive(agentAck(i));
    }
    expect(h.session.retransmissionTimeoutMs).toBe(1000);
  });
});

describe('DataChannelSession handshake', () => {
  it('answers a plain handshake, acks it, and becomes ready only on HandshakeComplete', () => {
    const h = harness();
    h.session.sendSize(Buffer.from('{"cols":200,"rows":50}'));
    h.session.receive(handshakeRequest(0, false));
    const [response] = inputs(h);
    expect(response?.payloadType).toBe(PayloadType.HandshakeResponse);
    expect(response?.sequenceNumber).toBe(0);
    expect(parseJsonObject(response!.payload, 'resp')).toEqual({
      ClientVersion: '1.2.677.0',
      ProcessedClientActions: [{ ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' }],
      Errors: null,
    });
    expect(h.session.ready).toBe(false);
    h.session.receive(
      agentFrame(1, PayloadType.HandshakeComplete, '{"HandshakeTimeToComplete":1000,"CustomerMessage":""}'),
    );
    expect(h.session.ready).toBe(true);
    expect(inputs(h).map((f) => f.payloadType)).toEqual([PayloadType.HandshakeResponse, PayloadType.Size]);
    expect(ackedSeqs(h)).toEqual([0, 1]);
  });

  it('does a KMS handshake: data key, challenge, encrypted output and input', async () => {
    const requests: unknown[] = [];
    const h = harness({
      dataKeyProvider: async (request) => {
        requests.push(request);
        return { plaintext: DATA_KEY, ciphertextBlob: Buffer.from('CIPHERTEXTBLOB') };
      },
    });
    h.session.receive(handshakeRequest(0, true));
    await flush();
    expect(requests).toEqual([
      { keyId: KEY_ID, sessionId: 'ecs-execute-command-test', challenge: 'AAECAwQFBgcICQoLDA0ODw==' },
    ]);
    const response = parseJsonObject(inputs(h)[0]!.payload, 'resp');
    expect(response.ProcessedClientActions).toEqual([
      { ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' },
      {
        ActionType: 'KMSEncryption',
        ActionStatus: 1,
        ActionResult: {
          KMSCipherTextKey: Buffer.from('CIPHERTEXTBLOB').toString('base64'),
          KMSCipherTextHash: null,
        },
        Error: '',
      },
    ]);
    const secret = Buffer.alloc(64, 0xa5);
    h.session.receive(
      agentFrame(
        1,
        PayloadType.EncChallengeRequest,
        JSON.stringify({ Challenge: sealAesGcm(KEYS.agentToClient, secret).toString('base64') }),
      ),
    );
    const challengeResponse = inputs(h)[1]!;
    expect(challengeResponse.payloadType).toBe(PayloadType.EncChallengeResponse);
    const sealed = Buffer.from(parseJsonObject(challengeResponse.payload, 'c').Challenge as string, 'base64');
    expect(openAesGcm(KEYS.clientToAgent, sealed)).toEqual(secret);
    h.session.receive(
      agentFrame(
        2,
        PayloadType.HandshakeComplete,
        '{"HandshakeTimeToComplete":1,"CustomerMessage":"This session is encrypted using AWS KMS."}',
      ),
    );
    expect(h.session.customerMessage).toBe('This session is encrypted using AWS KMS.');
    h.session.receive(
      agentFrame(3, PayloadType.Output, sealAesGcm(KEYS.agentToClient, Buffer.from('secret output'))),
    );
    expect(text(h)).toBe('secret output');
    h.session.sendSize(Buffer.from('{"cols":1,"rows":1}'));
    h.session.sendInput(Buffer.from('typed'));
    const [size, typed] = inputs(h).slice(2);
    expect(size?.payload.toString()).toBe('{"cols":1,"rows":1}');
    expect(openAesGcm(KEYS.clientToAgent, typed!.payload).toString()).toBe('typed');
    expect(h.session.encrypted).toBe(true);
  });

  it('sends ChallengeAcknowledgement when the data key was made with the agent challenge', async () => {
    const h = harness({
      dataKeyProvider: async () => ({
        plaintext: DATA_KEY,
        ciphertextBlob: Buffer.from('blob'),
        challengeAcknowledged: true,
      }),
    });
    h.session.receive(handshakeRequest(0, true));
    await flush();
    const response = parseJsonObject(inputs(h)[0]!.payload, 'resp');
    const kms = (
      response.ProcessedClientActions as Array<{ ActionResult: Record<string, unknown> | null }>
    )[1];
    expect(kms?.ActionResult).toEqual({
      KMSCipherTextKey: Buffer.from('blob').toString('base64'),
      KMSCipherTextHash: null,
      ChallengeAcknowledgement: true,
    });
  });

  it('fails with HandshakeError and tells the agent when KMS is required but there is no key provider', () => {
    const h = harness();
    h.session.receive(handshakeRequest(0, true));
    const response = parseJsonObject(inputs(h)[0]!.payload, 'resp');
    expect((response.ProcessedClientActions as Array<{ ActionStatus: number }>)[1]?.ActionStatus).toBe(2);
    expect(h.failures[0]).toBeInstanceOf(HandshakeError);
    expect((h.failures[0] as HandshakeError).reason).toBe('no-key-provider');
  });

  it('fails with HandshakeError when the data key provider fails', async () => {
    const h = harness({ dataKeyProvider: () => Promise.reject(new Error('AccessDenied')) });
    h.session.receive(handshakeRequest(0, true));
    await flush();
    expect(h.failures).toHaveLength(1);
    expect((h.failures[0] as HandshakeError).reason).toBe('data-key');
    expect(h.failures[0]?.name).toBe('HandshakeError');
  });

  it('holds frames that arrive while the data key is being fetched and delivers them after', async () => {
    let release: (() => void) | undefined;
    const h = harness({
      dataKeyProvider: () =>
        new Promise((resolve) => {
          release = () => resolve({ plaintext: DATA_KEY, ciphertextBlob: Buffer.from('blob') });
        }),
    });
    h.session.receive(handshakeRequest(0, true));
    h.session.receive(agentFrame(1, PayloadType.HandshakeComplete, '{"CustomerMessage":""}'));
    h.session.receive(
      agentFrame(2, PayloadType.Output, sealAesGcm(KEYS.agentToClient, Buffer.from('early'))),
    );
    expect(text(h)).toBe('');
    expect(ackedSeqs(h)).toEqual([0, 1, 2]);
    release?.();
    await flush();
    expect(text(h)).toBe('early');
  });

  it('answers a retransmitted HandshakeRequest with an ack only, never a second response', () => {
    const h = harness();
    const request = handshakeRequest(0, false);
    h.session.receive(request);
    h.session.receive(request);
    expect(inputs(h).filter((f) => f.payloadType === PayloadType.HandshakeResponse)).toHaveLength(1);
    expect(ackedSeqs(h)).toEqual([0, 0]);
  });
});
