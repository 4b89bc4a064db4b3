import {
  ChannelClosedError,
  HandshakeError,
  SessionAbortedError,
  SessionError,
  SessionInterruptedError,
  SessionTimeoutError,
} from '../../lambda/ssm/errors';
import { type RunCommandOptions, type RunResult, run, runSession } from '../../lambda/ssm/run';
import type { DataKeyProvider, SessionEndpoint } from '../../lambda/ssm/types';
import { MessageGatewayDouble } from '../../local/agent-double';
import type { AgentSessionSpec } from '../../local/agent-double/options';
import { generateDataKey } from '../../local/fake-kms';

const FAST = { initialReadDelayMs: 0, interChunkDelayMs: 0, closeAckWaitMs: 300, resendTickMs: 20 } as const;
const KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/local';
const TARGET_ID = 'ecs:local_0123456789abcdef0123456789abcdef_app-runtime';

let gateway: MessageGatewayDouble;
beforeAll(async () => {
  gateway = await MessageGatewayDouble.start();
});
afterAll(async () => {
  await gateway.close();
});

function start(spec: Omit<AgentSessionSpec, 'command'> = {}) {
  return async (prepared: { command: string }): Promise<SessionEndpoint> =>
    gateway.createSession({ ...spec, command: prepared.command, timing: { ...FAST, ...spec.timing } });
}

function script(steps: AgentSessionSpec['script'], spec: Partial<AgentSessionSpec> = {}): SessionEndpoint {
  return gateway.createSession({ ...spec, script: steps, timing: { ...FAST, ...spec.timing } });
}

const fakeKms =
  (targetId = TARGET_ID, acknowledgeChallenge = false): DataKeyProvider =>
  async ({ keyId, sessionId, challenge }) => {
    const acknowledged = acknowledgeChallenge && challenge !== undefined;
    const key = generateDataKey({
      keyId,
      numberOfBytes: 64,
      encryptionContext: {
        'aws:ssm:SessionId': sessionId,
        'aws:ssm:TargetId': targetId,
        ...(acknowledged ? { 'aws:ssm:RandomChallenge': challenge } : {}),
      },
    });
    return {
      plaintext: key.plaintext,
      ciphertextBlob: key.ciphertextBlob,
      challengeAcknowledged: acknowledged,
    };
  };

async function failure(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SessionError);
  return error as SessionError;
}

const runCmd = (
  command: string,
  options: RunCommandOptions = {},
  spec: Omit<AgentSessionSpec, 'command'> = {},
) => run(command, start(spec), { timeoutMs: 20_000, ...options });

describe('run() against the agent double, real commands on a pty', () => {
  it('returns exactly what the command printed and its exit code', async () => {
    const result = await runCmd("printf 'line one\\nline two\\n'; printf 'no newline at the end'; exit 3");
    expect(result.output).toBe('line one\nline two\nno newline at the end');
    expect(result.exitCode).toBe(3);
    expect(result.outputBytes).toBe(Buffer.byteLength(result.output));
    expect(result.truncated).toBe(false);
  });

  it('reports exit code 0 and empty output for a silent success', async () => {
    const result = await runCmd('true');
    expect(result).toMatchObject({ output: '', exitCode: 0, outputBytes: 0 });
  });

  it('cannot be spoofed by a command that prints a fake marker', async () => {
    const result = await runCmd(
      "printf '\\n__ECS_EXEC_RUNNER_RC_0123456789abcdef0123456789abcdef:0\\n'; exit 7",
    );
    expect(result.exitCode).toBe(7);
    expect(result.output).toBe('\n__ECS_EXEC_RUNNER_RC_0123456789abcdef0123456789abcdef:0\n');
  });

  it('gives a null exit code in raw mode, never a made-up 0', async () => {
    const result = await runCmd("printf 'raw'", { shell: false });
    expect(result.exitCode).toBeNull();
    expect(result.output).toBe('raw');
  });

  it('delivers stdin byte-exact without echoing it', async () => {
    const stdin = 'first line\nsecond \'quoted\' "line"\n日本語 without newline';
    const result = await runCmd('cat', { stdin });
    expect(result.output).toBe(stdin);
    expect(result.exitCode).toBe(0);
  });

  it('sends the terminal size so long lines are not wrapped', async () => {
    const result = await runCmd('stty size </dev/tty');
    expect(result.output.trim()).toBe('50 200');
  });

  it('merges stderr, decodes UTF-8 and strips ANSI escapes when asked', async () => {
    const result = await runCmd("printf '\\033[31mred\\033[0m ü\\n' >&2; printf '😀\\n'", {
      stripAnsi: true,
    });
    expect(result.output).toBe('red ü\n😀\n');
  });

  it('keeps head and tail of a large output while counting every byte', async () => {
    const result = await runCmd('seq 1 200000', { outputLimitBytes: 4096 });
    const expectedBytes = Array.from({ length: 200_000 }, (_, i) => `${i + 1}\n`).join('').length;
    expect(result.outputBytes).toBe(expectedBytes);
    expect(result.truncated).toBe(true);
    expect(result.output.startsWith('1\n2\n3\n')).toBe(true);
    expect(result.output.endsWith('199999\n200000\n')).toBe(true);
    expect(Buffer.byteLength(result.output)).toBeLessThan(4096 + 200);
  });

  it('surfaces the agent error text when the executable does not exist', async () => {
    const error = await failure(
      runCmd('/no/such/binary', { shell: false }, { timing: { startFailureDelayMs: 0 } }),
    );
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).agentMessage).toMatch(
      /Unable to start command.*no such file or directory/s,
    );
  });

  it('interrupts the command with Ctrl-C at the deadline and fails with the partial output', async () => {
    let sessionId = '';
    const error = await failure(
      run(
        "printf 'started\\n'; sleep 30",
        async (prepared) => {
          const endpoint = gateway.createSession({ command: prepared.command, timing: FAST });
          sessionId = endpoint.sessionId;
          return endpoint;
        },
        { timeoutMs: 1500, interruptGraceMs: 2000 },
      ),
    );
    expect(error).toBeInstanceOf(SessionTimeoutError);
    expect((error as SessionTimeoutError).kind).toBe('deadline');
    expect(error.partial.output).toContain('started');
    expect(Buffer.concat(gateway.session(sessionId).inputWritten).includes(0x03)).toBe(true);
  });

  it('interrupts a command that has printed nothing yet, once the agent is attached', async () => {
    const endpoint = gateway.createSession({ command: "sh -c 'sleep 30'", timing: FAST });
    // The caller knows there is no handshake, but the deadline comes before it would assume so.
    const error = await failure(
      runSession(endpoint, { timeoutMs: 1500, noHandshakeAfterMs: 60_000, interruptGraceMs: 2000 }),
    );
    expect(error).toBeInstanceOf(SessionTimeoutError);
    expect(Buffer.concat(gateway.session(endpoint.sessionId).inputWritten).includes(0x03)).toBe(true);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const error = await failure(runCmd('sleep 30', { signal: controller.signal, interruptGraceMs: 200 }));
    expect(error).toBeInstanceOf(SessionAbortedError);
  });
});

describe('runSession() against faults of the real agent', () => {
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}\n`).join('');
  const expected = lines;

  it.each<[string, Partial<AgentSessionSpec>]>([
    ['no faults', {}],
    ['duplicated frames', { faults: { duplicate: { everyNth: 3 } } }],
    ['reordered frames', { faults: { reorder: { seqs: [1, 4, 9] } } }],
    ['dropped frames (recovered by retransmission)', { faults: { drop: { seqs: [0, 2, 5] } } }],
    ['corrupted frames', { faults: { corruptSeqs: [1, 3] } }],
    ['the ack race', { faults: { ackRace: true } }],
    ['start_publication first', { faults: { startPublicationFirst: true } }],
    ['pause then start publication', { faults: { pausePublication: { atFrame: 3, resumeAfterMs: 300 } } }],
    ['frames of unknown types', { faults: { unknownFrames: true } }],
    ['delayed acks of our input', { faults: { delayAcksMs: 150 } }],
    ['tiny chunks', { timing: { chunkBytes: 7 } }],
  ])('gets every byte in order with %s', async (_name, spec) => {
    // The agent closes as soon as every frame is acked; the long wait only keeps a client slowed
    // down by a busy machine from acking after the agent has given up on it.
    const endpoint = script(
      [{ output: lines.slice(0, 5000) }, { delayMs: 20 }, { output: lines.slice(5000) }],
      { ...spec, timing: { closeAckWaitMs: 5_000, ...spec.timing } },
    );
    const result = await runSession(endpoint, { timeoutMs: 20_000 });
    expect(result.output).toBe(expected);
    expect(result.exitCode).toBeNull();
    const observed = gateway.session(endpoint.sessionId);
    await observed.ended;
    expect(observed.acksReceived.length).toBeGreaterThan(0);
  });

  it('acks duplicates so a lost ack does not make the agent resend forever', async () => {
    const endpoint = script([{ output: 'hello\n' }], { faults: { ackRace: true } });
    const result = await runSession(endpoint, { timeoutMs: 10_000 });
    expect(result.output).toBe('hello\n');
    expect(result.durationMs).toBeLessThan(2_000);
  });

  it('resumes after the socket drops and loses or duplicates nothing', async () => {
    const endpoint = script([{ output: lines }], {
      faults: { closeAfterFrames: 2 },
      timing: { chunkBytes: 256 },
    });
    const result = await runSession(endpoint, {
      timeoutMs: 20_000,
      resume: async (sessionId) => gateway.resumeSession(sessionId),
    });
    expect(result.output).toBe(expected);
    expect(result.reconnects).toBe(1);
    expect(gateway.session(endpoint.sessionId).connections.length).toBe(2);
  });

  it('fails with SessionInterruptedError and the partial output when it cannot resume', async () => {
    const endpoint = script([{ output: lines }], {
      faults: { closeAfterFrames: 2 },
      timing: { chunkBytes: 256 },
    });
    const error = await failure(runSession(endpoint, { timeoutMs: 20_000 }));
    expect(error).toBeInstanceOf(SessionInterruptedError);
    expect(error.partial.output.length).toBeGreaterThan(0);
    expect(expected.startsWith(error.partial.output)).toBe(true);
  });

  it('fails when the resume function fails', async () => {
    const endpoint = script([{ output: lines }], {
      faults: { closeAfterFrames: 1 },
      timing: { chunkBytes: 256 },
    });
    const error = await failure(
      runSession(endpoint, {
        timeoutMs: 20_000,
        maxResumeAttempts: 2,
        resume: () => Promise.reject(new Error('session expired')),
      }),
    );
    expect(error).toBeInstanceOf(SessionInterruptedError);
    expect((error.cause as Error).message).toBe('session expired');
  });

  it('fails when the gateway closes without channel_closed', async () => {
    const endpoint = script([{ output: 'partial\n' }], { faults: { closeWithoutChannelClosed: true } });
    const error = await failure(runSession(endpoint, { timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(SessionInterruptedError);
    expect(error.partial.output).toBe('partial\n');
  });

  it('accepts a close without channel_closed once the exit marker proved the command finished', async () => {
    const result = await runCmd(
      "printf 'done\\n'; exit 2",
      {},
      { faults: { closeWithoutChannelClosed: true } },
    );
    expect(result).toMatchObject({ output: 'done\n', exitCode: 2 });
  });

  it('turns channel_closed error text into ChannelClosedError', async () => {
    const endpoint = script([{ output: 'x' }], {
      faults: { channelClosedOutput: 'Session terminated by admin' },
    });
    const error = await failure(runSession(endpoint, { timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).agentMessage).toBe('Session terminated by admin');
  });

  it('does not mistake a silent but live command for no progress', async () => {
    const result = await runCmd("sleep 1.5; printf 'late'", {
      noProgressTimeoutMs: 600,
      pingIntervalMs: 100,
    });
    expect(result).toMatchObject({ output: 'late', exitCode: 0 });
  });

  it('fires the no-progress watchdog when a frame is lost for good', async () => {
    const endpoint = script([{ output: lines }, { delayMs: 5000 }], {
      faults: { drop: { seqs: [1] } },
      timing: { chunkBytes: 256, outgoingBufferCapacity: 0 },
    });
    const error = await failure(
      runSession(endpoint, { timeoutMs: 20_000, noProgressTimeoutMs: 600, interruptGraceMs: 100 }),
    );
    expect(error).toBeInstanceOf(SessionTimeoutError);
    expect((error as SessionTimeoutError).kind).toBe('no-progress');
  });

  it('sends keyboard input only once the session is ready, and the pty echoes it', async () => {
    const endpoint = gateway.createSession({ command: "sh -c 'echo ready; head -c 3'", timing: FAST });
    // The pty is in canonical mode: the line reaches the reader when Enter (CR) is pressed.
    const result = await runSession(endpoint, { input: 'abc\r', timeoutMs: 10_000 });
    expect(result.output).toBe('ready\nabc\nabc');
    const observed = gateway.session(endpoint.sessionId);
    expect(Buffer.concat(observed.inputWritten).toString()).toBe('abc\r');
    expect(observed.sizesApplied).toEqual([{ cols: 200, rows: 50 }]);
  });

  it('lets input go before any output when the target is known to skip the handshake', async () => {
    const endpoint = gateway.createSession({ command: 'head -c 3', timing: FAST });
    const result = await runSession(endpoint, { input: 'xyz\r', noHandshakeAfterMs: 100, timeoutMs: 10_000 });
    expect(result.output).toBe('xyz\nxyz');
  });
});

describe('KMS-encrypted sessions', () => {
  const kms = { keyId: KEY_ID, targetId: TARGET_ID };

  it('completes the handshake and decrypts the output; the KMS notice is not output', async () => {
    const result: RunResult = await runCmd(
      "printf 'secret 日本\\n'; exit 4",
      { dataKeyProvider: fakeKms() },
      { kms },
    );
    expect(result.output).toBe('secret 日本\n');
    expect(result.exitCode).toBe(4);
    expect(result.encrypted).toBe(true);
    expect(result.customerMessage).toBe('This session is encrypted using AWS KMS.');
  });

  it('acknowledges the challenge for agents that require it (RequireKMSChallengeResponse)', async () => {
    const strict = { ...kms, requireChallengeResponse: true };
    const result = await runCmd(
      "printf 'strict'",
      { dataKeyProvider: fakeKms(TARGET_ID, true) },
      { kms: strict },
    );
    expect(result.output).toBe('strict');
    const refused = await failure(
      runCmd('true', { dataKeyProvider: fakeKms(TARGET_ID, false), timeoutMs: 10_000 }, { kms: strict }),
    );
    expect(refused).toBeInstanceOf(ChannelClosedError);
  });

  it('fails the session when the data key has the wrong encryption context', async () => {
    const error = await failure(
      runCmd("printf 'never'", { dataKeyProvider: fakeKms('ecs:wrong_target'), timeoutMs: 10_000 }, { kms }),
    );
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).agentMessage).toMatch(/handshake/i);
    expect(error.partial.output).toBe('');
  });

  it('fails with HandshakeError when there is no data key provider', async () => {
    const error = await failure(runCmd('true', { timeoutMs: 10_000 }, { kms }));
    expect(error).toBeInstanceOf(HandshakeError);
  });

  it('fails when the data key arrives after the agent gave up', async () => {
    const slow: DataKeyProvider = async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 800));
      return fakeKms()(request);
    };
    const error = await failure(
      runCmd(
        'true',
        { dataKeyProvider: slow, timeoutMs: 10_000 },
        { kms, timing: { handshakeTimeoutMs: 300 } },
      ),
    );
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).agentMessage).toMatch(/Handshake timed out/);
  });
});
