import { PayloadType } from '../../lambda/ssm/constants';
import type { AgentTimingOptions, MessageGatewayDouble } from '../../local/agent-double';
import { useGatewayPerTest } from './raw-client';

/** Small timings so each session takes milliseconds; the defaults are checked separately. */
const FAST: AgentTimingOptions = {
  initialReadDelayMs: 0,
  interChunkDelayMs: 0,
  closeAckWaitMs: 300,
  startFailureDelayMs: 10,
};
const CTRL_C = Buffer.from([0x03]);
const CTRL_D = Buffer.from([0x04]);

let gateway: MessageGatewayDouble;
const connect = useGatewayPerTest((started) => {
  gateway = started;
});

describe('MessageGatewayDouble: client input', () => {
  it('writes Output input to the pty, which echoes it, and acks each message', async () => {
    const session = gateway.createSession({ command: 'cat', timing: FAST });
    const client = await connect(session);

    client.sendInput(PayloadType.Output, 'hello\r');
    await client.waitFor(() => client.outputText() === 'hello\r\nhello\r\n', 'the echo and cat’s copy');
    client.sendInput(PayloadType.Output, CTRL_D);
    await client.waitForChannelClosed();

    const observation = gateway.session(session.sessionId);
    expect(observation.inputBytes()).toEqual(Buffer.from('hello\r\x04'));
    // Every message is acked, a retransmitted one again (a loaded machine can make the client
    // resend before the first ack lands); the pty still got each byte once.
    expect([...new Set(observation.acksSent)]).toEqual([0, 1]);
    expect([...new Set(client.acksReceived)]).toEqual([0, 1]);
  });

  it('interrupts the command with Ctrl-C (0x03) through the pty’s line discipline', async () => {
    // Wait for output first: a 0x03 that beats the child's setsid has no foreground group to signal.
    const session = gateway.createSession({ command: "sh -c 'echo ready; exec sleep 30'", timing: FAST });
    const client = await connect(session);
    await client.waitFor(() => client.outputText() === 'ready\r\n', 'the command to be running');

    client.sendInput(PayloadType.Output, CTRL_C);
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('ready\r\n^C');
    const observation = gateway.session(session.sessionId);
    await observation.ended;
    expect(observation.exit?.signal).toBe(2);
  });

  it('applies Size input to the pty, truncated to uint16', async () => {
    const session = gateway.createSession({ command: "sh -c 'read line; stty size'", timing: FAST });
    const client = await connect(session);

    client.sendInput(PayloadType.Size, JSON.stringify({ cols: 120 + 65536, rows: 40 }));
    client.sendInput(PayloadType.Output, '\r');
    await client.waitForChannelClosed();

    expect(client.outputText()).toBe('\r\n40 120\r\n');
    expect(gateway.session(session.sessionId).sizesApplied).toEqual([{ cols: 120, rows: 40 }]);
  });

  it('leaves input unacked while the pty does not exist yet (ErrHandlerNotReady)', async () => {
    const session = gateway.createSession({ command: 'cat', timing: { ...FAST, ptyStartDelayMs: 300 } });
    const client = await connect(session);

    client.sendInput(PayloadType.Size, JSON.stringify({ cols: 100, rows: 30 }));
    await client.waitFor(() => client.acksReceived.includes(0), 'the ack once the pty exists', 3000);
    client.sendInput(PayloadType.Output, CTRL_D);
    await client.waitForChannelClosed();

    const observation = gateway.session(session.sessionId);
    expect(observation.clientFrames.filter((frame) => frame.sequenceNumber === 0).length).toBeGreaterThan(1);
    expect([...new Set(observation.acksSent)]).toEqual([0, 1]);
  });

  it('acks Flag input and otherwise ignores it', async () => {
    const session = gateway.createSession({ command: 'cat', timing: FAST });
    const client = await connect(session);

    const flag = Buffer.alloc(4);
    flag.writeUInt32BE(2, 0);
    const seq = client.sendInput(PayloadType.Flag, flag);
    await client.waitFor(() => client.acksReceived.includes(seq), 'the ack of the Flag');
    client.sendInput(PayloadType.Output, CTRL_D);
    await client.waitForChannelClosed();

    expect(gateway.session(session.sessionId).inputBytes()).toEqual(CTRL_D);
  });

  it('re-acks a duplicate and buffers (and acks) input that arrives ahead of sequence', async () => {
    const session = gateway.createSession({ command: 'cat', timing: FAST });
    const client = await connect(session);
    const first = client.buildInput(0, PayloadType.Output, 'a');
    client.sendRaw(first);
    await client.waitFor(() => client.acksReceived.length === 1, 'the ack of seq 0');

    client.sendRaw(first);
    await client.waitFor(() => client.acksReceived.length === 2, 'the re-ack of the duplicate');
    client.sendRaw(client.buildInput(2, PayloadType.Output, Buffer.from('\r\x04')));
    await client.waitFor(() => client.acksReceived.length === 3, 'the ack of seq 2, ahead of sequence');
    client.sendRaw(client.buildInput(1, PayloadType.Output, 'b'));
    await client.waitForChannelClosed();

    const observation = gateway.session(session.sessionId);
    expect(observation.acksSent).toEqual([0, 0, 2, 1]);
    expect(observation.inputBytes().toString()).toBe('ab\r\x04');
  });
});

describe('MessageGatewayDouble: failures and termination', () => {
  it('fails a session whose executable path does not exist like the agent: no output, an error channel_closed', async () => {
    const session = gateway.createSession({ command: '/nonexistent/tool --flag', timing: FAST });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.arrivalSeqs()).toEqual([]);
    expect(client.channelClosed?.output).toBe(
      `SessionId: ${session.sessionId} : ----------ERROR-------\r\n` +
        'Unable to start command: Failed to start pty: fork/exec /nonexistent/tool: no such file or directory\r\n',
    );
    expect(gateway.session(session.sessionId).pid).toBeUndefined();
  });

  it('reports a bare name missing from PATH with Go’s LookPath error', async () => {
    const session = gateway.createSession({ command: 'no-such-binary-xyz', timing: FAST });

    const client = await connect(session);
    await client.waitForChannelClosed();

    expect(client.channelClosed?.output).toContain(
      'Unable to start command: Failed to start pty: exec: "no-such-binary-xyz": executable file not found in $PATH',
    );
  });

  it('terminateSession kills the command and sends channel_closed; the session cannot be resumed', async () => {
    const session = gateway.createSession({ command: 'sleep 30', timing: FAST });
    const client = await connect(session);
    const observation = gateway.session(session.sessionId);
    await observation.started;

    gateway.terminateSession(session.sessionId);
    await client.waitForChannelClosed();
    await observation.ended;

    expect(client.channelClosed?.output).toBe('');
    expect(observation.state).toBe('terminated');
    expect(observation.exit?.signal).toBe(9);
    expect(() => gateway.resumeSession(session.sessionId)).toThrow(/no longer active/);
  });
});

describe('MessageGatewayDouble: opening the data channel', () => {
  it('rejects a wrong token with close code 1008', async () => {
    const session = gateway.createSession({ script: [{ output: 'x' }], timing: FAST });

    const client = await connect({ ...session, tokenValue: 'not-the-token' });
    await client.waitForSocketClose();

    expect(client.closeInfo).toEqual({ code: 1008, reason: 'invalid or expired TokenValue' });
    expect(gateway.session(session.sessionId).connections).toEqual([]);
  });

  it('accepts a token once only', async () => {
    const session = gateway.createSession({ script: [{ delayMs: 2000 }], timing: FAST });
    await connect(session);

    const second = await connect(session);
    await second.waitForSocketClose();

    expect(second.closeInfo?.code).toBe(1008);
  });

  it('rejects an expired token', async () => {
    const session = gateway.createSession({ script: [{ output: 'x' }], timing: { ...FAST, tokenTtlMs: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 10));

    const client = await connect(session);
    await client.waitForSocketClose();

    expect(client.closeInfo?.code).toBe(1008);
  });

  it('rejects an open frame without MessageSchemaVersion 1.0', async () => {
    const session = gateway.createSession({ script: [{ output: 'x' }], timing: FAST });
    const openFrame = JSON.stringify({
      MessageSchemaVersion: '2.0',
      RequestId: 'r',
      TokenValue: session.tokenValue,
      ClientId: 'c',
    });

    const client = await connect(session, { openFrame });
    await client.waitForSocketClose();

    expect(client.closeInfo).toEqual({ code: 1008, reason: 'MessageSchemaVersion must be "1.0"' });
  });

  it('records the client’s open frame fields', async () => {
    const session = gateway.createSession({ script: [{ output: 'x' }], timing: FAST });

    const client = await connect(session);
    await client.waitForChannelClosed();

    const [connection] = gateway.session(session.sessionId).connections;
    expect(connection).toMatchObject({ index: 1, clientVersion: '1.2.677.0' });
    expect(connection?.clientId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
