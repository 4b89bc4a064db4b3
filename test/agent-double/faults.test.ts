import { MessageType, PayloadType } from '../../lambda/ssm/constants';
import type { AgentTimingOptions, MessageGatewayDouble, ScriptStep } from '../../local/agent-double';
import { eventually, useGatewayPerTest } from './raw-client';

/** Quick resends so faults heal in tens of milliseconds. */
const FAST: AgentTimingOptions = {
  initialReadDelayMs: 0,
  interChunkDelayMs: 0,
  closeAckWaitMs: 300,
  resendTickMs: 10,
  initialRtoMs: 30,
  initialRttMs: 15,
};
/**
 * For tests that assert exact arrivals: an RTO of at least a second, so a client slowed down by a
 * busy machine never sees a retransmission the test did not ask for.
 */
const NO_SPURIOUS_RESENDS: AgentTimingOptions = {
  ...FAST,
  resendTickMs: 100,
  initialRtoMs: 1000,
  initialRttMs: 500,
  clockGranularityMs: 1000,
};
/** Four output frames, one per step, a little apart so each is its own read. */
const FOUR_FRAMES: ScriptStep[] = [
  { output: 'a' },
  { delayMs: 15 },
  { output: 'b' },
  { delayMs: 15 },
  { output: 'c' },
  { delayMs: 15 },
  { output: 'd' },
];

let gateway: MessageGatewayDouble;
const connect = useGatewayPerTest((started) => {
  gateway = started;
});

describe('MessageGatewayDouble faults', () => {
  it('duplicate: relays chosen frames twice; the output is unchanged', async () => {
    const session = gateway.createSession({
      script: FOUR_FRAMES,
      timing: NO_SPURIOUS_RESENDS,
      faults: { duplicate: { seqs: [1] } },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.arrivalSeqs()).toEqual([0, 1, 1, 2, 3]);
    expect(client.outputText()).toBe('abcd');
    expect(gateway.session(session.sessionId).acksReceived).toEqual([0, 1, 1, 2, 3]);
  });

  it('duplicate everyNth: every n-th frame twice', async () => {
    const session = gateway.createSession({
      script: FOUR_FRAMES,
      timing: NO_SPURIOUS_RESENDS,
      faults: { duplicate: { everyNth: 2 } },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.arrivalSeqs()).toEqual([0, 1, 1, 2, 3, 3]);
  });

  it('reorder: holds a frame back until later frames went out', async () => {
    // A long RTO keeps the agent's own resend of seq 0 out of the way of the hold.
    const session = gateway.createSession({
      script: FOUR_FRAMES,
      timing: NO_SPURIOUS_RESENDS,
      faults: { reorder: { seqs: [0], afterFrames: 2, maxHoldMs: 5000 } },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.arrivalSeqs().slice(0, 3)).toEqual([1, 2, 0]);
    expect(client.outputText()).toBe('abcd');
  });

  it('drop: the first transmission is lost and the resend scheduler repairs it', async () => {
    const session = gateway.createSession({
      script: FOUR_FRAMES,
      timing: FAST,
      faults: { drop: { seqs: [1] } },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('abcd');
    const sent = gateway
      .session(session.sessionId)
      .outputFrames.filter((frame) => frame.sequenceNumber === 1);
    expect(sent[0]).toMatchObject({ retransmission: false, fate: 'dropped' });
    expect(sent.slice(1).some((frame) => frame.retransmission && frame.fate === 'delivered')).toBe(true);
  });

  it('corruptSeqs: a bad digest the client must drop, then a good retransmission', async () => {
    const session = gateway.createSession({
      script: FOUR_FRAMES,
      timing: FAST,
      faults: { corruptSeqs: [2] },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.decodeErrors).toEqual(['SSM_ERR_DIGEST_MISMATCH']);
    expect(client.outputText()).toBe('abcd');
    expect(gateway.session(session.sessionId).retransmissions).toBeGreaterThanOrEqual(1);
  });

  it('pausePublication: pauses the agent, then newer frames arrive before the paused one', async () => {
    const session = gateway.createSession({
      script: FOUR_FRAMES,
      // Frame 1, kept while paused, goes out only when the resend scheduler finds it older than the
      // RTO (~370 ms here); that leaves frame 2 ample time to go first however busy the machine
      // is, and the agent waits for the acks long enough to resend it before closing.
      timing: { ...FAST, initialRtoMs: 400, initialRttMs: 200, resendTickMs: 50, closeAckWaitMs: 2000 },
      faults: { pausePublication: { atFrame: 1, resumeAfterMs: 60 } },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    const types = client.arrivals.map(({ frame }) => frame.messageType);
    expect(types).toContain(MessageType.PausePublication);
    expect(types.indexOf(MessageType.StartPublication)).toBeGreaterThan(
      types.indexOf(MessageType.PausePublication),
    );
    const seqs = client.arrivalSeqs();
    expect(seqs.indexOf(2)).toBeLessThan(seqs.indexOf(1));
    expect(client.outputText()).toBe('abcd');
    const observation = gateway.session(session.sessionId);
    expect(observation.pauses).toBe(1);
    expect(observation.outputFrames.find((frame) => frame.sequenceNumber === 1)?.fate).toBe('paused');
  });

  it('startPublicationFirst: start_publication is the first frame after the open', async () => {
    const session = gateway.createSession({
      script: [{ output: 'x' }],
      timing: FAST,
      faults: { startPublicationFirst: true },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.arrivals[0]?.frame.messageType).toBe(MessageType.StartPublication);
    expect(client.outputText()).toBe('x');
  });

  it('delayAcksMs: the agent’s ack of client input comes late', async () => {
    const session = gateway.createSession({ command: 'cat', timing: FAST, faults: { delayAcksMs: 150 } });
    const client = await connect(session);

    const sentMs = Date.now();
    const seq = client.sendInput(PayloadType.Size, JSON.stringify({ cols: 90, rows: 30 }));
    await client.waitFor(() => client.acksReceived.includes(seq), 'the delayed ack');

    expect(Date.now() - sentMs).toBeGreaterThanOrEqual(140);
    expect(gateway.session(session.sessionId).sizesApplied).toEqual([{ cols: 90, rows: 30 }]);
  });

  it('ackRace: a very fast ack is ignored, the frame is resent, and the client’s re-ack heals it', async () => {
    const session = gateway.createSession({
      script: [{ output: 'x' }, { delayMs: 200 }],
      timing: FAST,
      faults: { ackRace: { seqs: [0], delayMs: 20 } },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('x');
    expect(client.arrivalSeqs().filter((seq) => seq === 0).length).toBeGreaterThanOrEqual(2);
    const observation = gateway.session(session.sessionId);
    expect(observation.retransmissions).toBeGreaterThanOrEqual(1);
    expect(observation.acksReceived.filter((seq) => seq === 0).length).toBeGreaterThanOrEqual(2);
  });

  it('closeWithoutChannelClosed: the socket closes normally but no channel_closed comes', async () => {
    const session = gateway.createSession({
      script: [{ output: 'x' }],
      timing: FAST,
      faults: { closeWithoutChannelClosed: true },
    });

    const client = await connect(session);
    await client.waitForSocketClose();

    expect(client.closeInfo?.code).toBe(1000);
    expect(client.channelClosed).toBeUndefined();
    expect(client.outputText()).toBe('x');
  });

  it('channelClosedOutput: the final channel_closed carries the given text', async () => {
    const text = 'Plugin with name InteractiveCommands not found. Step name: InteractiveCommands';
    const session = gateway.createSession({
      script: [],
      timing: FAST,
      faults: { channelClosedOutput: text },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.channelClosed?.output).toBe(text);
  });

  it('unknownFrames: agent_session_state frames reach the client, which must ignore them', async () => {
    const session = gateway.createSession({
      script: [{ output: 'x' }],
      timing: FAST,
      faults: { unknownFrames: true },
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.unknownTypes).toEqual(['agent_session_state', 'agent_session_state']);
    expect(client.outputText()).toBe('x');
  });

  it('fffdBug: a valid U+FFFD is sent as the single byte EF; without it, unchanged', async () => {
    const steps: ScriptStep[] = [{ output: 'a\uFFFDbcd' }];
    const buggy = gateway.createSession({
      script: steps,
      rawScript: true,
      timing: FAST,
      faults: { fffdBug: true },
    });
    const plain = gateway.createSession({ script: steps, rawScript: true, timing: FAST });

    const [buggyClient, plainClient] = await Promise.all([connect(buggy), connect(plain)]);
    await Promise.all([buggyClient.waitForChannelClosed(), plainClient.waitForChannelClosed()]);

    expect(buggyClient.output().toString('hex')).toBe('61ef626364');
    expect(plainClient.output().toString('hex')).toBe('61efbfbd626364');
  });

  it('handshakeTimeoutMs: shortens the agent’s wait for the HandshakeResponse', async () => {
    const session = gateway.createSession({
      script: [{ output: 'never' }],
      kms: { keyId: 'alias/test', targetId: 'ecs:c_t_r' },
      timing: FAST,
      faults: { handshakeTimeoutMs: 100 },
    });

    const client = await connect(session, { ignoreHandshake: true });
    await client.waitForChannelClosed();

    expect(client.channelClosed?.output).toContain('Handshake timed out.');
    await eventually(() => gateway.session(session.sessionId).state === 'closed', 'the session to close');
  });
});
