import { type AgentTimingOptions, MessageGatewayDouble, type ScriptStep } from '../../local/agent-double';
import { eventually, RawClient } from './raw-client';

const FAST: AgentTimingOptions = {
  initialReadDelayMs: 0,
  interChunkDelayMs: 0,
  closeAckWaitMs: 300,
  resendTickMs: 10,
  initialRtoMs: 30,
  initialRttMs: 15,
};
const LINES: ScriptStep[] = Array.from({ length: 6 }, (_, i) => [
  { output: `line ${i}\n` },
  { delayMs: 10 },
]).flat();
const EXPECTED = Array.from({ length: 6 }, (_, i) => `line ${i}\r\n`).join('');

let gateway: MessageGatewayDouble;
const clients: RawClient[] = [];

beforeEach(async () => {
  gateway = await MessageGatewayDouble.start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await gateway.close();
});

describe('MessageGatewayDouble: dropped connections and resume', () => {
  it('cuts the first connection after N frames, pauses the agent, and resumes without loss', async () => {
    // Arrange
    const session = gateway.createSession({ script: LINES, timing: FAST, faults: { closeAfterFrames: 2 } });
    const client = await RawClient.connect(session);
    clients.push(client);
    await client.waitForSocketClose();
    const observation = gateway.session(session.sessionId);

    // Act
    expect(client.closeInfo?.code).toBe(1006);
    expect(client.channelClosed).toBeUndefined();
    await eventually(() => observation.pauses === 1, 'the agent to be paused');
    const resumed = gateway.resumeSession(session.sessionId);
    await client.reconnect(resumed.streamUrl, resumed.tokenValue);
    await client.waitForChannelClosed();

    // Assert
    expect(resumed.streamUrl).toBe(session.streamUrl);
    expect(client.outputText()).toBe(EXPECTED);
    expect(observation.connections.map((connection) => connection.index)).toEqual([1, 2]);
    expect(observation.connections[0]?.closeCode).toBe(1006);
    // Under load the agent's reader may take two lines in one read, so count frames by sequence:
    // every number from 0 up is delivered, with no gap left by the cut connection.
    const sequenceNumbers = [...new Set(client.delivered.map((frame) => Number(frame.sequenceNumber)))].sort(
      (a, b) => a - b,
    );
    expect(sequenceNumbers).toEqual(sequenceNumbers.map((_, index) => index));
    expect(sequenceNumbers.length).toBeGreaterThanOrEqual(1);
  });

  it('issues a fresh single-use token on every resume; the old one no longer works', async () => {
    const session = gateway.createSession({ script: [{ delayMs: 5000 }], timing: FAST });
    const first = await RawClient.connect(session);
    clients.push(first);

    const resumed = gateway.resumeSession(session.sessionId);
    expect(resumed.tokenValue).not.toBe(session.tokenValue);
    const stale = await RawClient.connect(session);
    clients.push(stale);
    await stale.waitForSocketClose();

    expect(stale.closeInfo?.code).toBe(1008);
  });

  it('refuses to resume a session that has ended', async () => {
    const session = gateway.createSession({ script: [{ output: 'x' }], timing: FAST });
    const client = await RawClient.connect(session);
    clients.push(client);
    await client.waitForChannelClosed();

    expect(() => gateway.resumeSession(session.sessionId)).toThrow(/no longer active/);
    expect(() => gateway.resumeSession('ecs-execute-command-unknown')).toThrow(/unknown session/);
  });

  it('close() is idempotent and ends running sessions', async () => {
    const session = gateway.createSession({ command: 'sleep 30', timing: FAST });
    const client = await RawClient.connect(session);
    clients.push(client);
    const observation = gateway.session(session.sessionId);
    await observation.started;

    await Promise.all([gateway.close(), gateway.close()]);
    await observation.ended;

    expect(observation.exit?.signal).toBe(9);
    expect(() => gateway.createSession({ script: [] })).toThrow(/closed/);
  });
});
