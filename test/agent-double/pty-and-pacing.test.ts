import { existsSync } from 'node:fs';
import { PayloadType } from '../../lambda/ssm/constants';
import {
  type AgentTimingOptions,
  DEFAULT_TIMING,
  type MessageGatewayDouble,
  REAL_AGENT_PACING,
  UNPACED,
} from '../../local/agent-double';
import { BufferedPtyReader } from '../../local/agent-double/buffered-pty-reader';
import { ByteQueue } from '../../local/agent-double/pty-runner';
import { removeRestrictedPaths } from '../../local/agent-double/restricted-path';
import { useGatewayPerTest } from './raw-client';

/** One tool set for every test here: each distinct set costs a directory of ~1,000 symlinks. */
const MISSING = ['zstd', 'xz', 'base64'];
const FAST: AgentTimingOptions = { ...UNPACED, closeAckWaitMs: 300, startFailureDelayMs: 10 };

let gateway: MessageGatewayDouble;
const connect = useGatewayPerTest((started) => {
  gateway = started;
});

/** Runs `command` on the double's pty and returns everything it printed, as the client receives it. */
async function outputOf(command: string, extra: { missingTools?: readonly string[] } = {}): Promise<string> {
  const session = gateway.createSession({ command, timing: FAST, ...extra });
  const client = await connect(session);
  await client.waitForChannelClosed(10_000);
  return client.outputText();
}

describe('agent double: the pty really processes output', () => {
  it('turns LF into CRLF by default (opost, onlcr) and leaves a bare CR alone', async () => {
    expect(await outputOf("printf 'a\\nb\\rc\\n'")).toBe('a\r\nb\rc\r\n');
  });

  it('starts the command with opost and onlcr set, as the agent’s pty does', async () => {
    const settings = await outputOf('stty -a');
    expect(settings).toMatch(/(^|\s)opost(\s|$)/m);
    expect(settings).toMatch(/(^|\s)onlcr(\s|$)/m);
  });

  it.each([['-onlcr'], ['-opost']])('stops adding CRs after `stty %s` inside the command', async (flag) => {
    expect(await outputOf(`sh -c 'stty ${flag}; printf "a\\nb\\n"'`)).toBe('a\nb\n');
  });
});

describe('agent double: real agent pacing', () => {
  it('names the real agent’s numbers, and they are the defaults', () => {
    expect(REAL_AGENT_PACING).toEqual({
      initialReadDelayMs: 1000,
      chunkBytes: 1024,
      ptyReadBytes: 4095,
      interChunkDelayMs: 1,
    });
    expect(DEFAULT_TIMING).toMatchObject(REAL_AGENT_PACING);
  });

  it('waits 1 s before the first read, sends 1024/1023-byte frames and sleeps >= 1 ms after each', async () => {
    // Arrange: 12,000 bytes, all waiting when the first read comes.
    const output = Buffer.alloc(12_000, 'x');
    const session = gateway.createSession({
      script: [{ output }],
      rawScript: true,
      timing: { ...REAL_AGENT_PACING, closeAckWaitMs: 300 },
    });

    // Act
    const client = await connect(session);
    await client.waitForChannelClosed(10_000);

    // Assert: bufio refills of 4095 bytes, read 1024 at a time.
    expect(client.output()).toEqual(output);
    const observation = gateway.session(session.sessionId);
    const sent = observation.outputFrames.filter(
      (frame) => !frame.retransmission && frame.payloadType === PayloadType.Output,
    );
    expect(sent.map((frame) => frame.payloadLength)).toEqual([
      1024, 1024, 1024, 1023, 1024, 1024, 1024, 1023, 1024, 1024, 1024, 738,
    ]);
    const startedAtMs = observation.startedAtMs ?? Number.NaN;
    expect(sent[0]?.atMs ?? Number.NaN).toBeGreaterThanOrEqual(startedAtMs + 1000);
    const gaps = sent.slice(1).map((frame, i) => frame.atMs - (sent[i]?.atMs ?? Number.NaN));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1);
  });

  it('reads a trickle as it comes: a refill takes only what the pty holds', () => {
    const pty = new ByteQueue();
    const reader = new BufferedPtyReader(pty, 4095);
    expect(reader.read(1024)).toBeUndefined();

    pty.push(Buffer.alloc(1500, 'a'));
    expect(reader.read(1024)?.length).toBe(1024);
    pty.push(Buffer.alloc(10, 'b'));
    // The buffered 476 bytes come first, alone, as from Go's bufio.Reader.
    expect(reader.read(1024)?.toString()).toBe('a'.repeat(476));
    expect(reader.read(1024)?.toString()).toBe('b'.repeat(10));
    pty.end();
    expect(reader.drained).toBe(true);
  });
});

describe('agent double: containers without some tools (missingTools)', () => {
  it('gives the command a PATH without the missing tools and with everything else', async () => {
    const output = await outputOf(
      "sh -c 'for tool in zstd xz gzip base64 cat sh; do command -v $tool >/dev/null && echo has $tool || echo no $tool; done'",
      { missingTools: MISSING },
    );
    expect(output).toBe('no zstd\r\nno xz\r\nhas gzip\r\nno base64\r\nhas cat\r\nhas sh\r\n');
  });

  it('fails to start a missing tool as the agent does', async () => {
    const session = gateway.createSession({ command: 'xz --version', timing: FAST, missingTools: MISSING });
    const client = await connect(session);
    await client.waitForChannelClosed(10_000);

    expect(client.channelClosed?.output).toContain(
      'Unable to start command: Failed to start pty: exec: "xz": executable file not found in $PATH',
    );
  });

  it('keeps the PATH’s other directories, builds one PATH per tool set and removes it at exit', async () => {
    const first = (await outputOf('printenv PATH', { missingTools: MISSING })).trim();
    const again = (await outputOf('printenv PATH', { missingTools: [...MISSING].reverse() })).trim();
    const mirrors = first.split(':').filter((entry) => entry.includes('agent-double-path-'));

    expect(again).toBe(first);
    expect(mirrors.length).toBeGreaterThan(0);
    expect(first.split(':').length).toBe((process.env.PATH ?? '').split(':').length);
    removeRestrictedPaths();
    for (const mirror of mirrors) expect(existsSync(mirror)).toBe(false);
  });

  it.each([[''], ['bin/xz'], ['..']])('refuses %j as a tool name', (name) => {
    expect(() => gateway.createSession({ command: 'true', missingTools: [name] })).toThrow(TypeError);
  });
});
