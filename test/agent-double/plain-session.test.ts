import { MessageType } from '../../lambda/ssm/constants';
import type { AgentTimingOptions, MessageGatewayDouble } from '../../local/agent-double';
import { useGatewayPerTest } from './raw-client';

/** Small timings so each session takes milliseconds; the defaults are checked separately. */
const FAST: AgentTimingOptions = {
  initialReadDelayMs: 0,
  interChunkDelayMs: 0,
  closeAckWaitMs: 300,
  startFailureDelayMs: 10,
};

let gateway: MessageGatewayDouble;
const connect = useGatewayPerTest((started) => {
  gateway = started;
});

describe('MessageGatewayDouble: a plain (unencrypted) session', () => {
  it('streams a command’s output byte for byte with CRLF, then sends an empty channel_closed', async () => {
    // Arrange
    const session = gateway.createSession({ command: "printf 'line1\\nline2\\n'", timing: FAST });

    // Act
    const client = await connect(session);
    await client.waitForChannelClosed();
    await client.waitForSocketClose();

    // Assert
    expect(client.outputText()).toBe('line1\r\nline2\r\n');
    expect(client.channelClosed).toEqual({ sessionId: session.sessionId, output: '' });
    expect(client.closeInfo?.code).toBe(1000);
    const first = client.arrivals[0]?.frame;
    expect(first).toMatchObject({ messageType: MessageType.OutputStreamData, sequenceNumber: 0, flags: 1n });
    const observation = gateway.session(session.sessionId);
    await observation.ended;
    expect(observation.state).toBe('closed');
    expect(observation.handshake.state).toBe('skipped');
    expect(observation.argv).toEqual(['printf', 'line1\\nline2\\n']);
    expect(observation.exit).toEqual({ exitCode: 0 });
    expect(observation.connections).toHaveLength(1);
    expect(observation.protocolErrors).toEqual([]);
  });

  it('runs argv[0] without a shell, so shell syntax reaches the program as words', async () => {
    const session = gateway.createSession({ command: 'echo a | wc -l $HOME', timing: FAST });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('a | wc -l $HOME\r\n');
  });

  it('gives the command TERM=xterm-256color and the spec’s environment', async () => {
    const session = gateway.createSession({
      command: 'printenv TERM EXTRA',
      env: { EXTRA: 'from-spec' },
      timing: FAST,
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('xterm-256color\r\nfrom-spec\r\n');
  });

  it('reads raw bytes from the pty: stderr merged, invalid UTF-8 passed through', async () => {
    const session = gateway.createSession({
      command: 'sh -c \'printf "out\\377x\\n"; printf "err\\n" >&2\'',
      timing: FAST,
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.output()).toEqual(Buffer.from('out\xffx\r\nerr\r\n', 'latin1'));
  });

  it('sends large output in payloads of at most 1024 bytes', async () => {
    const session = gateway.createSession({
      command: 'sh -c \'head -c 5000 /dev/zero | tr "\\\\0" x\'',
      timing: FAST,
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('x'.repeat(5000));
    const sizes = client.delivered.map((frame) => frame.payload.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1024);
    expect(sizes.length).toBeGreaterThanOrEqual(5);
  });

  it('loses no output at the end, even when the command exits right after a burst', async () => {
    const expected = Array.from({ length: 30000 }, (_, i) => `${i + 1}\r\n`).join('');
    const sessions = Array.from({ length: 3 }, () =>
      gateway.createSession({ command: 'seq 1 30000', timing: FAST }),
    );

    const sessionClients = await Promise.all(sessions.map((session) => connect(session)));
    await Promise.all(sessionClients.map((client) => client.waitForChannelClosed(10_000)));

    for (const client of sessionClients) expect(client.outputText()).toBe(expected);
  });

  it('holds back a UTF-8 character split across reads and sends it whole', async () => {
    const session = gateway.createSession({
      script: [
        { output: Buffer.from([0x61, 0xe6, 0x97]) },
        { delayMs: 30 },
        { output: Buffer.from([0xa5, 0x62]) },
      ],
      timing: FAST,
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.delivered.map((frame) => frame.payload.toString('hex'))).toEqual(['61', 'e697a562']);
  });

  it('drops bytes still held back at EOF, as the agent does', async () => {
    const session = gateway.createSession({
      script: [{ output: Buffer.from([0x61, 0x62, 0xe6, 0x97]) }],
      timing: FAST,
    });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.output().toString('hex')).toBe('6162');
  });

  it('converts LF to CRLF in scripted output unless rawScript is set', async () => {
    const cooked = gateway.createSession({ script: [{ output: 'a\nb\r\n' }], timing: FAST });
    const raw = gateway.createSession({ script: [{ output: 'a\nb\r\n' }], rawScript: true, timing: FAST });

    const [cookedClient, rawClient] = await Promise.all([connect(cooked), connect(raw)]);
    await Promise.all([cookedClient.waitForChannelClosed(), rawClient.waitForChannelClosed()]);

    expect(cookedClient.outputText()).toBe('a\r\nb\r\r\n');
    expect(rawClient.outputText()).toBe('a\nb\r\n');
  });
});

describe('MessageGatewayDouble: acknowledgements and retransmission', () => {
  it('resends seq 0 every 200–300 ms to a client that never acks (default timings)', async () => {
    const session = gateway.createSession({
      script: [{ output: 'hello\n' }, { delayMs: 5000 }],
      timing: { initialReadDelayMs: 0 },
    });

    const client = await connect(session, { autoAck: false });
    await client.waitFor(() => client.arrivalSeqs().length >= 4, 'four copies of seq 0', 2000);

    const copies = client.arrivals.filter(({ frame }) => frame.messageType === MessageType.OutputStreamData);
    expect(copies.map(({ frame }) => frame.sequenceNumber)).toEqual([0, 0, 0, 0]);
    const gaps = copies.slice(1).map((copy, index) => copy.atMs - (copies[index]?.atMs ?? 0));
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(190);
      expect(gap).toBeLessThanOrEqual(360);
    }
    expect(gateway.session(session.sessionId).retransmissions).toBeGreaterThanOrEqual(3);
  });

  it('stops resending once the client acks, and ends without waiting for the ack timeout', async () => {
    const session = gateway.createSession({
      script: [{ output: 'one\n' }, { delayMs: 400 }, { output: 'two\n' }],
      // An RTO of seconds: a client slowed down by a busy machine still acks before any resend.
      timing: { ...FAST, closeAckWaitMs: 5000, initialRtoMs: 2000, clockGranularityMs: 2000, maxRtoMs: 2000 },
    });

    const client = await connect(session);
    const startedMs = Date.now();
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('one\r\ntwo\r\n');
    expect(client.arrivalSeqs()).toEqual([0, 1]);
    const observation = gateway.session(session.sessionId);
    expect(observation.retransmissions).toBe(0);
    expect(observation.acksReceived).toEqual([0, 1]);
    // The agent would wait 2 × 5 s for missing acks.
    expect(Date.now() - startedMs).toBeLessThan(4000);
  });

  it('keeps at most outgoingBufferCapacity frames for retransmission; later ones go out once', async () => {
    const session = gateway.createSession({
      script: [{ output: 'a' }, { delayMs: 10 }, { output: 'b' }, { delayMs: 10 }, { output: 'c' }],
      timing: { ...FAST, outgoingBufferCapacity: 1, closeAckWaitMs: 100, resendTickMs: 10, initialRtoMs: 30 },
    });

    const client = await connect(session, { autoAck: false });
    await client.waitForChannelClosed();

    const observation = gateway.session(session.sessionId);
    expect(observation.notBuffered).toBe(2);
    expect(
      new Set(
        observation.outputFrames.filter((frame) => frame.retransmission).map((frame) => frame.sequenceNumber),
      ),
    ).toEqual(new Set([0]));
    expect(client.outputText()).toBe('abc');
  });

  it('waits closeAckWaitMs twice for acks at the end, then closes anyway', async () => {
    const session = gateway.createSession({
      script: [{ output: 'x' }],
      timing: { ...FAST, closeAckWaitMs: 150 },
    });

    const client = await connect(session, { autoAck: false });
    const startedMs = Date.now();
    await client.waitForChannelClosed();

    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(290);
    expect(client.channelClosed?.output).toBe('');
  });
});
