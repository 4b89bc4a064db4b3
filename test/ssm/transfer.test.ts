/**
 * run() on each transfer path against the agent double (real commands on a real pty): partial
 * output survives a timeout because only the command is interrupted and the compressor flushes.
 */
import { createHash } from 'node:crypto';
import { SessionTimeoutError } from '../../lambda/ssm/errors';
import { run } from '../../lambda/ssm/run';
import type { SessionEndpoint } from '../../lambda/ssm/types';
import { MessageGatewayDouble } from '../../local/agent-double';

const FAST = { initialReadDelayMs: 0, interChunkDelayMs: 0, closeAckWaitMs: 300, resendTickMs: 20 } as const;
const SEQ_LINES = 2000;
const seqText = Array.from({ length: SEQ_LINES }, (_, i) => `${i + 1}\n`).join('');

let gateway: MessageGatewayDouble;
beforeAll(async () => {
  gateway = await MessageGatewayDouble.start();
});
afterAll(async () => {
  await gateway.close();
});

const start = async (prepared: { command: string }): Promise<SessionEndpoint> =>
  gateway.createSession({ command: prepared.command, timing: FAST });

describe.each(['zstd', 'xz', 'gzip', 'plain'] as const)('transfer %s', (transfer) => {
  it('returns the exact bytes, their hash and the path taken', async () => {
    const result = await run(`seq 1 ${SEQ_LINES}; printf 'a\\r\\nb\\0'`, start, { tty: false, transfer });
    const expected = `${seqText}a\r\nb\0`;
    expect(result.transfer).toBe(transfer);
    expect(result.exitCode).toBe(0);
    if (transfer === 'plain') {
      // The plain path is text: the pty adds no CR (stty -opost), but CRLF is normalised.
      expect(result.output).toBe(`${seqText}a\nb\0`);
    } else {
      expect(result.output).toBe(expected);
      expect(result.outputSha256).toBe(createHash('sha256').update(expected).digest('hex'));
    }
  });

  it('keeps the output printed before a timeout: only the command is interrupted', async () => {
    const error = await run(`echo started; seq 1 ${SEQ_LINES}; sleep 30`, start, {
      tty: false,
      transfer,
      timeoutMs: 800,
      interruptGraceMs: 10_000,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(SessionTimeoutError);
    const partial = (error as SessionTimeoutError).partial;
    expect(partial.output).toBe(`started\n${seqText}`);
  });
});

describe('the no-progress watchdog', () => {
  it("does not take a compressor holding back a slow command's output for a hang", async () => {
    // The command prints at once, but zstd holds it until EOF: no output for longer than the watchdog.
    const result = await run("printf 'early\\n'; sleep 1.2; printf 'late'", start, {
      tty: false,
      transfer: 'zstd',
      noProgressTimeoutMs: 500,
      pingIntervalMs: 100,
    });
    expect(result).toMatchObject({ output: 'early\nlate', exitCode: 0, transfer: 'zstd' });
  });
});

describe('background processes', () => {
  it.each([
    ['zstd', false],
    ['plain', false],
    ['plain', true],
  ] as const)(
    'a background process holding stdout does not hold the run (%s, tty %s)',
    async (transfer, tty) => {
      // The guard is far below the background process's 60 s: the run must end when the command does.
      const result = await run('sleep 60 & echo started; printf "%s\\n" done', start, {
        tty,
        transfer,
        timeoutMs: 20_000,
      });
      expect(result).toMatchObject({ exitCode: 0, output: 'started\ndone\n' });
    },
  );

  it('still drains what a background process wrote before the command exited', async () => {
    const result = await run('( echo from-background; sleep 60 ) & sleep 0.3; echo from-command', start, {
      tty: false,
      timeoutMs: 20_000,
    });
    expect(result.output).toBe('from-background\nfrom-command\n');
  });
});
