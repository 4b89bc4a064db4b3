/**
 * The exact output channel, stdin/environment on the data channel and docker-exec parity, end to
 * end: the real handler, the fake AWS endpoint and the agent double running real commands on a pty.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import type { ExecResult } from '../../lambda/contract';
import { handler } from '../../lambda/handler';
import { DEFAULT_WORLD_IDS, FAST_SESSION_DEFAULTS, startFakeAws } from '../../local/fake-aws';
import { type RestrictedPath, restrictedPath } from '../support/restricted-path';

type FakeAws = Awaited<ReturnType<typeof startFakeAws>>;

let fake: FakeAws;
let restoreEnv: () => void;
let workDir: string;
/** 600 kB of random bytes, then text with CRLF, lone CRs, NULs, invalid UTF-8 and escapes, then 470 kB of seq. */
let fixture: Buffer;
let fixturePath: string;
const logLines: string[] = [];
const originalWrite = process.stdout.write.bind(process.stdout);

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

const context = (): Context =>
  ({
    functionName: 'ecs-exec-runner',
    awsRequestId: 'req-t',
    getRemainingTimeInMillis: () => 120_000,
  }) as unknown as Context;

const invoke = (event: Record<string, unknown>) =>
  handler({ cluster: DEFAULT_WORLD_IDS.cluster, service: DEFAULT_WORLD_IDS.service, ...event }, context());

async function failure(event: Record<string, unknown>): Promise<Error> {
  const error = await invoke(event).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

function storedObject(result: ExecResult): Buffer {
  const key = result.outputS3Uri?.replace('s3://', '') ?? '';
  const object = fake.objects.get(key);
  if (object === undefined) throw new Error(`no S3 object at ${result.outputS3Uri}`);
  return object;
}

function executeCommandRequests(): string {
  return JSON.stringify(fake.calls.filter((c) => c.service === 'ecs' && c.operation === 'ExecuteCommand'));
}

async function withPath<T>(tools: readonly string[], body: () => Promise<T>): Promise<T> {
  const restricted: RestrictedPath = restrictedPath(tools);
  fake.faults.session = { env: { PATH: restricted.path } };
  try {
    return await body();
  } finally {
    delete fake.faults.session;
    restricted.remove();
  }
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'ecs-exec-runner-transfer-'));
  const seq = Array.from({ length: 80_000 }, (_, i) => `${i + 1}\n`).join('');
  fixture = Buffer.concat([
    randomBytes(600_000),
    Buffer.from('crlf\r\nlone cr\rnul\0nul\0\n\x1b[31mred\x1b[0m\n', 'latin1'),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a]),
    Buffer.from(seq),
  ]);
  fixturePath = join(workDir, 'fixture.bin');
  writeFileSync(fixturePath, fixture);
  fake = await startFakeAws({ sessionDefaults: FAST_SESSION_DEFAULTS });
  restoreEnv = fake.applyEnv();
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logLines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return (originalWrite as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
});

afterAll(async () => {
  process.stdout.write = originalWrite;
  restoreEnv();
  await fake.close();
  rmSync(workDir, { recursive: true, force: true });
});

beforeEach(() => {
  process.env.OUTPUT_BUCKET = 'exec-output';
});

afterEach(() => {
  delete process.env.OUTPUT_BUCKET;
});

describe('exact output: S3 gets the command bytes and outputSha256 is their hash', () => {
  it.each(['zstd', 'xz', 'gzip'] as const)('transfer %s', async (transfer) => {
    const result = (await invoke({
      command: `cat ${fixturePath}`,
      transfer,
      outputLimitBytes: 4096,
    })) as ExecResult;
    expect(result.transfer).toBe(transfer);
    expect(result.outputSha256).toBe(sha256(fixture));
    expect(result.outputBytes).toBe(fixture.length);
    expect(result.truncated).toBe(true);
    const stored = storedObject(result);
    expect(stored.length).toBe(fixture.length);
    expect(sha256(stored)).toBe(sha256(fixture));
  });

  it('keeps short binary output exact in S3 though the JSON output is text', async () => {
    const bytes = Buffer.from('a\r\nb\rc\0d\xff\n', 'latin1');
    const path = join(workDir, 'short.bin');
    writeFileSync(path, bytes);
    const result = (await invoke({ command: `cat ${path}` })) as ExecResult;
    expect(result).toMatchObject({ transfer: 'zstd', truncated: false, outputSha256: sha256(bytes) });
    expect(result.output).toBe(bytes.toString('utf8'));
    expect(storedObject(result).equals(bytes)).toBe(true);
  });

  it('uploads nothing when the text output is already the exact output', async () => {
    const result = (await invoke({ command: "printf 'plain text\\n'" })) as ExecResult;
    expect(result).toMatchObject({ output: 'plain text\n', outputSha256: sha256('plain text\n') });
    expect(result.outputS3Uri).toBeUndefined();
  });

  it('uses the plain path with tty: true, and hashes what S3 receives there', async () => {
    const result = (await invoke({ command: 'seq 1 3000', tty: true, outputLimitBytes: 1024 })) as ExecResult;
    const text = Array.from({ length: 3000 }, (_, i) => `${i + 1}\n`).join('');
    expect(result.transfer).toBe('plain');
    expect(storedObject(result).toString()).toBe(text);
    expect(result.outputSha256).toBe(sha256(text));
  });

  it('forced plain without tty: no CR added by the pty, exit status still separate', async () => {
    const result = (await failure({ command: "printf 'a\\nb\\n'; exit 3", transfer: 'plain' })) as Error;
    expect(result.name).toBe('NonZeroExit');
    expect(JSON.parse(result.message)).toMatchObject({ exitCode: 3, outputTail: 'a\nb\n' });
  });

  it('puts the decoded tail into CommandTimedOut: the compressor flushes after the command is stopped', async () => {
    const error = await failure({ command: 'seq 1 5000; sleep 30', timeoutSeconds: 2 });
    expect(error.name).toBe('CommandTimedOut');
    expect(JSON.parse(error.message).outputTail).toMatch(/\n4999\n5000\n$/);
  });

  it('cannot be spoofed by a marker in the output on the compressed path', async () => {
    const nonce = '0123456789abcdef0123456789abcdef';
    const result = (await invoke({
      command: `printf '\\n__ECS_EXEC_RUNNER_RC_${nonce}:0\\n__ECS_EXEC_RUNNER_HDR_${nonce}:plain\\n'; exit 4`,
      failOnNonZeroExit: false,
    })) as ExecResult;
    expect(result.exitCode).toBe(4);
    expect(result.output).toContain(`__ECS_EXEC_RUNNER_RC_${nonce}:0`);
  });
});

describe('containers without the tools', () => {
  const BASE_TOOLS = ['cat', 'head', 'stty', 'id'];

  it('falls back to plain when no compressor is on PATH, and still reports the exit code', async () => {
    const result = (await withPath([...BASE_TOOLS, 'base64'], () =>
      invoke({ command: "printf 'line\\n'; exit 2", failOnNonZeroExit: false }),
    )) as ExecResult;
    expect(result).toMatchObject({ transfer: 'plain', output: 'line\n', exitCode: 2 });
  });

  it('falls back to plain when base64 is missing although a compressor is there', async () => {
    const result = (await withPath([...BASE_TOOLS, 'zstd', 'gzip'], () =>
      invoke({ command: "printf 'x\\n'" }),
    )) as ExecResult;
    expect(result).toMatchObject({ transfer: 'plain', output: 'x\n' });
  });

  it('takes the next compressor in order when the first is missing', async () => {
    const result = (await withPath([...BASE_TOOLS, 'base64', 'gzip', 'xz'], () =>
      invoke({ command: "printf 'y\\n'" }),
    )) as ExecResult;
    expect(result).toMatchObject({ transfer: 'xz', output: 'y\n', outputSha256: sha256('y\n') });
  });

  it('fails with SessionFailed naming the missing tool when a compressor is forced', async () => {
    const error = await withPath([...BASE_TOOLS, 'base64', 'gzip'], () =>
      failure({ command: 'echo never', transfer: 'zstd' }),
    );
    expect(error.name).toBe('SessionFailed');
    expect(JSON.parse(error.message)).toMatchObject({
      reason: 'zstd',
      message: expect.stringMatching(/no zstd/),
    });
  });
});

describe('stdin and environment travel on the data channel', () => {
  it('delivers both, and neither reaches the ExecuteCommand request or a log line', async () => {
    const stdinSecret = `stdin-secret-${randomBytes(8).toString('hex')}`;
    const envSecret = `env-secret-'"$\`-${randomBytes(8).toString('hex')}`;
    const result = (await invoke({
      command: 'cat; printf "|%s|%s" "$API_TOKEN" "$OTHER"',
      stdin: stdinSecret,
      environment: { API_TOKEN: envSecret, OTHER: 'two\nlines' },
    })) as ExecResult;
    expect(result.output).toBe(`${stdinSecret}|${envSecret}|two\nlines`);
    const requests = executeCommandRequests();
    expect(requests).toContain('cat; printf');
    for (const secret of [stdinSecret, envSecret]) {
      expect(requests).not.toContain(secret);
      expect(logLines.join('')).not.toContain(secret);
    }
  });

  it('round-trips 1 MiB of binary stdin byte for byte', async () => {
    const stdin = randomBytes(1024 * 1024);
    const result = (await invoke({
      command: "sha256sum | cut -d' ' -f1",
      stdinBase64: stdin.toString('base64'),
    })) as ExecResult;
    expect(result.output).toBe(`${sha256(stdin)}\n`);
    expect(executeCommandRequests()).not.toContain(stdin.subarray(0, 48).toString('base64'));
  });

  it('gives the command EOF after stdin and lets it exit without reading it all', async () => {
    const result = (await invoke({
      command: 'head -c 3; echo; exit 0',
      stdinBase64: Buffer.alloc(200_000, 0x03).toString('base64'),
    })) as ExecResult;
    expect(result).toMatchObject({ exitCode: 0, output: '\x03\x03\x03\n' });
  });

  it('fails with SessionFailed (reason stty) when the pty cannot be made raw for stdin', async () => {
    const error = await withPath(['cat', 'head', 'base64', 'zstd'], () =>
      failure({ command: 'cat', stdin: 'never sent' }),
    );
    expect(error.name).toBe('SessionFailed');
    expect(JSON.parse(error.message)).toMatchObject({ reason: 'stty' });
  });

  it.each([
    [{ environment: { 'BAD-NAME': 'x' } }, /not a POSIX name/],
    [{ environment: { A: 1 } }, /value of A must be a string/],
    [{ environment: ['A=1'] }, /must be an object/],
    [{ stdinBase64: 'not base64!' }, /not valid base64/],
    [{ stdin: 'a', stdinBase64: 'YQ==' }, /not both/],
    [{ environment: { A: 'x' }, shell: false }, /needs "shell": true/],
    [{ user: 'root; rm -rf /' }, /"user" must be/],
    [{ transfer: 'brotli' }, /"transfer" must be one of/],
  ])('rejects %j with InvalidInput before any AWS call', async (fields, message) => {
    const before = fake.calls.length;
    const error = await failure({ command: 'true', ...fields });
    expect(error.name).toBe('InvalidInput');
    expect(error.message).toMatch(message);
    expect(fake.calls.length).toBe(before);
  });
});

describe('docker exec parity: user and workingDirectory', () => {
  it('runs as another user', async () => {
    const result = (await invoke({ command: 'id -un; id -u', user: 'nobody' })) as ExecResult;
    expect(result.output).toBe(`nobody\n65534\n`);
  });

  it('runs in the working directory, with the environment, as the user', async () => {
    const result = (await invoke({
      command: 'pwd; printf "%s\\n" "$GREETING"; id -un',
      workingDirectory: workDir,
      environment: { GREETING: 'hello there' },
      user: 'nobody',
    })) as ExecResult;
    expect(result.output).toBe(`${workDir}\nhello there\nnobody\n`);
  });

  it('runs as the same user without switching, also when no switch tool exists', async () => {
    const result = (await withPath(['cat', 'head', 'stty', 'id', 'base64', 'zstd'], () =>
      invoke({ command: 'id -u', user: 'root' }),
    )) as ExecResult;
    expect(result.output).toBe('0\n');
  });

  it('fails with SessionFailed when the user does not exist', async () => {
    const error = await failure({ command: 'echo never', user: 'no-such-user-here' });
    expect(error.name).toBe('SessionFailed');
    expect(JSON.parse(error.message)).toMatchObject({ reason: 'user' });
    expect(error.message).not.toContain('never');
  });

  it('fails with SessionFailed when no tool can switch user', async () => {
    const error = await withPath(['cat', 'head', 'stty', 'id', 'base64', 'zstd'], () =>
      failure({ command: 'echo never', user: 'nobody' }),
    );
    expect(JSON.parse(error.message)).toMatchObject({ reason: 'switch' });
  });

  it('fails with SessionFailed when the working directory is missing', async () => {
    const error = await failure({ command: 'echo never', workingDirectory: join(workDir, 'missing') });
    expect(error.name).toBe('SessionFailed');
    expect(JSON.parse(error.message)).toMatchObject({ reason: 'workdir' });
  });
});
