import type { Context } from 'aws-lambda';
import { type ExecResult, FAILURE_CAUSE_LIMIT_CHARS } from '../../lambda/contract';
// Safe to import first: the handler creates its SDK clients on first use, after applyEnv().
import { handler } from '../../lambda/handler';
import { DEFAULT_WORLD_IDS, FAST_SESSION_DEFAULTS, startFakeAws } from '../../local/fake-aws';

type FakeAws = Awaited<ReturnType<typeof startFakeAws>>;

let fake: FakeAws;
let restoreEnv: () => void;
const logLines: string[] = [];
/** Every endpoint the fake handed out, secrets included, to prove none reaches a log line. */
const issued: Array<{ tokenValue: string; streamUrl: string }> = [];
const originalWrite = process.stdout.write.bind(process.stdout);

function context(remainingMs = 120_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    functionName: 'ecs-exec-runner',
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as Context;
}

const invoke = (event: Record<string, unknown>, remainingMs?: number) =>
  handler(
    { cluster: DEFAULT_WORLD_IDS.cluster, service: DEFAULT_WORLD_IDS.service, ...event },
    context(remainingMs),
  );

async function failure(
  event: Record<string, unknown>,
  remainingMs?: number,
): Promise<Error & { name: string }> {
  const error = await invoke(event, remainingMs).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

beforeAll(async () => {
  fake = await startFakeAws({ sessionDefaults: FAST_SESSION_DEFAULTS });
  restoreEnv = fake.applyEnv();
  const createSession = fake.gateway.createSession.bind(fake.gateway);
  fake.gateway.createSession = (spec) => {
    const endpoint = createSession(spec);
    issued.push(endpoint);
    return endpoint;
  };
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
});

beforeEach(() => {
  fake.faults.executeCommand = [];
  delete process.env.OUTPUT_BUCKET;
});

describe('handler end to end (fake ECS/KMS/SSM + agent double, reached via AWS_ENDPOINT_URL)', () => {
  it('runs a command on a service task and returns the Step Functions result', async () => {
    const result = (await invoke({ command: "printf 'hello\\nworld\\n'" })) as ExecResult;
    expect(result).toMatchObject({
      exitCode: 0,
      output: 'hello\nworld\n',
      outputBytes: 12,
      truncated: false,
      cluster: 'local',
      container: 'app',
    });
    expect(result.taskArn).toMatch(new RegExp(`task/local/${DEFAULT_WORLD_IDS.taskId}$`));
    expect(result.sessionId).toMatch(/^ecs-execute-command-/);
    expect(new Date(result.startedAt).getTime()).toBeLessThanOrEqual(Date.now());
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const exec = fake.calls.filter((c) => c.service === 'ecs' && c.operation === 'ExecuteCommand').pop();
    expect(exec?.input).toMatchObject({ interactive: true, container: 'app' });
  });

  it.each([
    ['single and double quotes', `echo 'single' "double" "it's"`, `single double it's\n`],
    ['backslashes', String.raw`printf '%s\n' 'a\b\\c'`, 'a\\b\\\\c\n'],
    ['dollar signs and variables', `X=1; echo "$X" '$X' \\$HOME`, '1 $X $HOME\n'],
    ['a hash', `echo a#b '# not a comment' # a comment`, 'a#b # not a comment\n'],
    ['newlines', `echo one\necho two`, 'one\ntwo\n'],
    ['non-ASCII text', `echo 'こんにちは 😀 ñ'`, 'こんにちは 😀 ñ\n'],
  ])('passes %s through to the shell intact', async (_name, command, expected) => {
    const result = (await invoke({ command })) as ExecResult;
    expect(result.output).toBe(expected);
    expect(result.exitCode).toBe(0);
  });

  it('delivers stdin byte-exact and never echoes it', async () => {
    const stdin = 'line 1\n"quoted" \'single\' $HOME \\ 日本\nno newline';
    const result = (await invoke({ command: 'cat', stdin })) as ExecResult;
    expect(result.output).toBe(stdin);
  });

  it('runs without a terminal by default and with one when tty is true', async () => {
    const plain = (await invoke({ command: '[ -t 1 ] && echo tty || echo pipe' })) as ExecResult;
    const tty = (await invoke({ command: '[ -t 1 ] && echo tty || echo pipe', tty: true })) as ExecResult;
    expect([plain.output, tty.output]).toEqual(['pipe\n', 'tty\n']);
  });

  it('throws NonZeroExit with the exit code and the output tail', async () => {
    const error = await failure({ command: "echo 'about to fail'; exit 3" });
    expect(error.name).toBe('NonZeroExit');
    const cause = JSON.parse(error.message);
    expect(cause).toMatchObject({ exitCode: 3, outputTail: 'about to fail\n', container: 'app' });
    expect(error.stack?.length).toBeLessThan(100);
  });

  it('emits the run metrics as EMF on stdout, by cluster and service, never by task or command', async () => {
    const from = logLines.length;
    await failure({ command: 'echo metrics-run; exit 3' });
    const records = logLines
      .slice(from)
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      Cluster: 'local',
      EcsService: 'web',
      Runs: 1,
      Failures: 1,
      NonZeroExitCodes: 1,
      OutputBytes: 'metrics-run\n'.length,
      Reconnects: 0,
      ExecuteCommandRetries: 0,
    });
    expect(records[0]?.SessionStartMs).toEqual(expect.any(Number));
    expect(records[1]).toMatchObject({ ErrorName: 'NonZeroExit', Failures: 1 });
    const text = JSON.stringify(records);
    expect(text).not.toContain('metrics-run');
    expect(text).not.toMatch(/[0-9a-f]{32}/);
  });

  it('returns a non-zero exit code as a result when failOnNonZeroExit is false', async () => {
    const result = (await invoke({ command: 'exit 42', failOnNonZeroExit: false })) as ExecResult;
    expect(result.exitCode).toBe(42);
  });

  it('returns a null exit code in raw mode', async () => {
    const result = (await invoke({ command: 'printf raw', shell: false })) as ExecResult;
    expect(result).toMatchObject({ exitCode: null, output: 'raw' });
  });

  it('runs an encrypted session on a KMS cluster with the right encryption context', async () => {
    const result = (await invoke({
      cluster: DEFAULT_WORLD_IDS.kmsCluster,
      service: DEFAULT_WORLD_IDS.kmsService,
      command: "echo 'secret'",
    })) as ExecResult;
    expect(result.output).toBe('secret\n');
    const kms = fake.calls.filter((c) => c.service === 'kms' && c.operation === 'GenerateDataKey').pop();
    expect(kms?.input).toMatchObject({
      NumberOfBytes: 64,
      EncryptionContext: {
        'aws:ssm:SessionId': result.sessionId,
        'aws:ssm:RandomChallenge': expect.any(String),
        'aws:ssm:TargetId': expect.stringMatching(
          new RegExp(`^ecs:${DEFAULT_WORLD_IDS.kmsCluster}_${DEFAULT_WORLD_IDS.kmsTaskId}_`),
        ),
      },
    });
  });

  it('retries ExecuteCommand while the agent is not ready, then succeeds', async () => {
    fake.faults.executeCommand = [
      { error: 'InvalidParameterException', times: 1 },
      { error: 'TargetNotConnectedException', times: 1 },
    ];
    const result = (await invoke({ command: 'echo ok' })) as ExecResult;
    expect(result.output).toBe('ok\n');
  });

  it('maps access denied to ExecuteCommandDenied without retrying', async () => {
    fake.faults.executeCommand = [{ error: 'AccessDeniedException', times: 5 }];
    const before = fake.calls.filter((c) => c.operation === 'ExecuteCommand').length;
    const error = await failure({ command: 'echo ok' });
    expect(error.name).toBe('ExecuteCommandDenied');
    expect(fake.calls.filter((c) => c.operation === 'ExecuteCommand').length - before).toBe(1);
  });

  it('rejects bad input with InvalidInput before calling AWS', async () => {
    const before = fake.calls.length;
    const error = await failure({ command: 'ls', unexpected: true });
    expect(error.name).toBe('InvalidInput');
    expect(JSON.parse(error.message).message).toMatch(/"unexpected"/);
    expect(fake.calls.length).toBe(before);
  });

  it.each([
    ['an unpaired surrogate in command', { command: 'echo \ud83d' }],
    ['an unpaired surrogate in stdin', { command: 'cat', stdin: 'x\udc00' }],
    ['a raw command of no words', { command: '# nothing', shell: false }],
  ])('rejects %s as InvalidInput before calling AWS', async (_what, event) => {
    const before = fake.calls.length;
    const error = await failure(event);
    expect(error.name).toBe('InvalidInput');
    expect(fake.calls.length).toBe(before);
  });

  it('keeps an InvalidInput message JSON and within the cause limit, whatever the input', async () => {
    const unknownKeys = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`key${i}`, i]));
    for (const event of [
      { command: 'ls', ['k'.repeat(200_000)]: 1 },
      { command: 'ls', ...unknownKeys },
    ]) {
      const error = await failure(event);
      expect(error.name).toBe('InvalidInput');
      expect(JSON.parse(error.message).message).toMatch(/^unknown fields? "k/);
      const cause = JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: [] });
      expect(cause.length).toBeLessThan(FAILURE_CAUSE_LIMIT_CHARS);
    }
  });

  it('reports a missing task as TargetNotFound', async () => {
    const error = await failure({
      service: undefined,
      task: 'ffffffffffffffffffffffffffffffff',
      command: 'ls',
    });
    expect(error.name).toBe('TargetNotFound');
  });

  it('interrupts a command at its timeout, terminates the session and throws CommandTimedOut', async () => {
    const error = await failure({ command: 'echo started; sleep 30', timeoutSeconds: 2 });
    expect(error.name).toBe('CommandTimedOut');
    expect(JSON.parse(error.message).outputTail).toContain('started');
    expect(fake.calls.some((c) => c.service === 'ssm' && c.operation === 'TerminateSession')).toBe(true);
  });

  it('sends Ctrl-C at the timeout to a command that has printed nothing', async () => {
    const error = await failure({ command: 'sleep 30', timeoutSeconds: 2 });
    expect(error.name).toBe('CommandTimedOut');
    const { sessionId } = JSON.parse(error.message) as { sessionId: string };
    expect(Buffer.concat(fake.gateway.session(sessionId).inputWritten).includes(0x03)).toBe(true);
  });

  it('streams a large output to S3 and returns head, tail and the URI', async () => {
    process.env.OUTPUT_BUCKET = 'exec-output';
    process.env.OUTPUT_PREFIX = 'runs/';
    const result = (await invoke({ command: 'seq 1 100000', outputLimitBytes: 2048 })) as ExecResult;
    const full = Array.from({ length: 100_000 }, (_, i) => `${i + 1}\n`).join('');
    expect(result.truncated).toBe(true);
    expect(result.outputBytes).toBe(full.length);
    expect(result.outputS3Uri).toMatch(/^s3:\/\/exec-output\/runs\/.+\.txt$/);
    const key = result.outputS3Uri?.replace('s3://', '') ?? '';
    expect(fake.objects.get(key)?.toString()).toBe(full);
    expect(JSON.stringify(result).length).toBeLessThan(262_144);
  });

  it('resumes a dropped data channel with ssm:ResumeSession and loses no byte', async () => {
    fake.faults.session = { faults: { closeAfterFrames: 2 }, timing: { chunkBytes: 256 } };
    try {
      const result = (await invoke({ command: 'seq 1 3000' })) as ExecResult;
      expect(result.output).toBe(Array.from({ length: 3000 }, (_, i) => `${i + 1}\n`).join(''));
      expect(fake.calls.some((c) => c.service === 'ssm' && c.operation === 'ResumeSession')).toBe(true);
    } finally {
      delete fake.faults.session;
    }
  });

  it('refuses an idempotencyKey when no idempotency table is configured', async () => {
    const error = await failure({ command: 'echo once', idempotencyKey: 'k-1' });
    expect(error.name).toBe('InvalidInput');
    expect(error.message).toMatch(/idempotency table/);
  });

  it('reports through the task token when Step Functions waits for a callback', async () => {
    const ok = await invoke({ command: 'echo via token', taskToken: 'token-ok' });
    expect(ok).toMatchObject({ taskTokenReported: 'success' });
    const failed = await invoke({ command: 'exit 5', taskToken: 'token-fail' });
    expect(failed).toMatchObject({ taskTokenReported: 'failure', error: 'NonZeroExit' });
    const callbacks = fake.taskCallbacks.filter(
      (c) => c.taskToken === 'token-ok' || c.taskToken === 'token-fail',
    );
    expect(callbacks.map((c) => c.kind)).toEqual(expect.arrayContaining(['success', 'failure']));
  });

  it('never writes the token value or the stream URL to the logs', async () => {
    await invoke({ command: 'echo logged', executionName: 'exec-42' });
    const logs = logLines.join('');
    expect(issued.length).toBeGreaterThan(5);
    for (const session of issued) {
      expect(logs).not.toContain(session.tokenValue);
      expect(logs).not.toContain(session.streamUrl);
    }
    const finished = logLines.filter((l) => l.includes('"session finished"')).pop() ?? '';
    expect(JSON.parse(finished)).toMatchObject({ executionName: 'exec-42', exitCode: 0, container: 'app' });
  });
});

describe('handler robustness', () => {
  it.each([
    ['an invalid event', { command: 'ls', unexpected: true }, 'InvalidInput'],
    ['a failing command', { command: 'exit 4' }, 'NonZeroExit'],
  ])('throws its own error for %s when SendTaskFailure itself fails', async (_what, event, name) => {
    fake.faults.operations['sfn.SendTaskFailure'] = [{ error: 'AccessDeniedException', times: 10 }];
    try {
      const error = await failure({ ...event, taskToken: 'token-unreportable' });
      expect(error.name).toBe(name);
      expect(JSON.parse(error.message)).toHaveProperty('message');
    } finally {
      delete fake.faults.operations['sfn.SendTaskFailure'];
    }
  });

  it('reports SessionFailed through the token when SendTaskSuccess is refused', async () => {
    fake.faults.operations['sfn.SendTaskSuccess'] = [{ error: 'InvalidOutput', times: 1 }];
    try {
      const report = await invoke({ command: 'echo done', taskToken: 'token-bad-output' });
      expect(report).toMatchObject({ taskTokenReported: 'failure', error: 'SessionFailed' });
      const sent = fake.taskCallbacks.filter((c) => c.taskToken === 'token-bad-output');
      expect(sent).toEqual([expect.objectContaining({ kind: 'failure', error: 'SessionFailed' })]);
    } finally {
      delete fake.faults.operations['sfn.SendTaskSuccess'];
    }
  });

  it('runs with a partial Lambda context (no getRemainingTimeInMillis)', async () => {
    const result = (await handler(
      { cluster: DEFAULT_WORLD_IDS.cluster, service: DEFAULT_WORLD_IDS.service, command: 'echo partial' },
      {} as Context,
    )) as ExecResult;
    expect(result.output).toBe('partial\n');
  });

  it('turns errors outside its vocabulary into SessionFailed', async () => {
    fake.faults.operations['ecs.DescribeTasks'] = [{ error: 'ServerException', times: 3 }];
    try {
      const error = await failure({ command: 'echo never' });
      expect(error.name).toBe('SessionFailed');
      expect(error.message).toMatch(/ServerException/);
    } finally {
      delete fake.faults.operations['ecs.DescribeTasks'];
    }
  });
});
