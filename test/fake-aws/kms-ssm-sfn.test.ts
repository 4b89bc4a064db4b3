import { ECSClient, ExecuteCommandCommand } from '@aws-sdk/client-ecs';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ResumeSessionCommand, SSMClient, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import {
  DEFAULT_WORLD_IDS,
  FAST_SESSION_DEFAULTS,
  type FakeAws,
  kmsKeyArn,
  REDACTED,
  SFN_MAX_OUTPUT_BYTES,
  startFakeAws,
} from '../../local/fake-aws';
import { decryptDataKey } from '../../local/fake-kms';

const KEY_BYTES = 64;
const SESSION_ID = 'ecs-execute-command-0123456789abcdef0';
const TARGET_ID = `ecs:local-kms_${DEFAULT_WORLD_IDS.kmsTaskId}_${DEFAULT_WORLD_IDS.kmsTaskId}-${DEFAULT_WORLD_IDS.runtimeSuffix}`;

let fake: FakeAws;
let restoreEnv: () => void;
let kms: KMSClient;
let ssm: SSMClient;
let sfn: SFNClient;
let ecs: ECSClient;
let keyArn: string;

beforeAll(async () => {
  fake = await startFakeAws({ sessionDefaults: FAST_SESSION_DEFAULTS });
  restoreEnv = fake.applyEnv();
  // One attempt each: an injected fault answers exactly one call, with no SDK back-off.
  kms = new KMSClient({ maxAttempts: 1 });
  ssm = new SSMClient({ maxAttempts: 1 });
  sfn = new SFNClient({ maxAttempts: 1 });
  ecs = new ECSClient({});
  keyArn = kmsKeyArn(fake.world, DEFAULT_WORLD_IDS.kmsKeyUuid);
});

afterAll(async () => {
  for (const client of [kms, ssm, sfn, ecs]) client.destroy();
  await fake.close();
  restoreEnv();
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the call to fail');
  return outcome;
}

async function execSession(): Promise<string> {
  const out = await ecs.send(
    new ExecuteCommandCommand({
      cluster: 'local',
      task: DEFAULT_WORLD_IDS.taskId,
      command: 'sleep 5',
      interactive: true,
    }),
  );
  const sessionId = out.session?.sessionId;
  if (sessionId === undefined) throw new Error('no session');
  return sessionId;
}

describe('KMS', () => {
  const context = { 'aws:ssm:SessionId': SESSION_ID, 'aws:ssm:TargetId': TARGET_ID };

  it('generates a data key that fake-kms decrypts only with the same encryption context', async () => {
    const out = await kms.send(
      new GenerateDataKeyCommand({ KeyId: keyArn, NumberOfBytes: KEY_BYTES, EncryptionContext: context }),
    );
    const { Plaintext, CiphertextBlob } = out;
    if (Plaintext === undefined || CiphertextBlob === undefined) throw new Error('no data key');
    expect(out.KeyId).toBe(keyArn);
    expect(Plaintext).toHaveLength(KEY_BYTES);
    expect(decryptDataKey(CiphertextBlob, context, keyArn).equals(Buffer.from(Plaintext))).toBe(true);
    expect(() => decryptDataKey(CiphertextBlob, { ...context, 'aws:ssm:TargetId': 'ecs:other' })).toThrow(
      expect.objectContaining({ name: 'InvalidCiphertextException' }),
    );

    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context }));
    expect(Buffer.from(decrypted.Plaintext ?? []).equals(Buffer.from(Plaintext))).toBe(true);
    const wrong = await rejection(
      kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { 'aws:ssm:SessionId': 'other' } })),
    );
    expect(wrong.name).toBe('InvalidCiphertextException');
  });

  it('accepts the bare key id of a known key and never records the plaintext', async () => {
    const out = await kms.send(
      new GenerateDataKeyCommand({ KeyId: DEFAULT_WORLD_IDS.kmsKeyUuid, NumberOfBytes: KEY_BYTES }),
    );
    expect(out.KeyId).toBe(keyArn);
    const recorded = fake.calls.filter(
      (call) => call.operation === 'GenerateDataKey' && call.error === undefined,
    );
    expect(recorded.at(-1)?.output).toMatchObject({ Plaintext: REDACTED });
    expect(JSON.stringify(fake.calls)).not.toContain(Buffer.from(out.Plaintext ?? []).toString('base64'));
  });

  it('fails with NotFoundException for an unknown key', async () => {
    const err = await rejection(
      kms.send(
        new GenerateDataKeyCommand({ KeyId: kmsKeyArn(fake.world, 'no-such-key'), NumberOfBytes: KEY_BYTES }),
      ),
    );
    expect(err.name).toBe('NotFoundException');
  });

  it('fails every GenerateDataKey with an injected AccessDeniedException', async () => {
    fake.faults.kms.generateDataKey = 'AccessDeniedException';
    try {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const err = await rejection(
          kms.send(new GenerateDataKeyCommand({ KeyId: keyArn, NumberOfBytes: KEY_BYTES })),
        );
        expect(err.name).toBe('AccessDeniedException');
        expect(err.message).toContain('kms:GenerateDataKey');
      }
    } finally {
      fake.faults.kms.generateDataKey = undefined;
    }
    const out = await kms.send(new GenerateDataKeyCommand({ KeyId: keyArn, NumberOfBytes: KEY_BYTES }));
    expect(out.CiphertextBlob).toBeDefined();
  });
});

describe('SSM', () => {
  it('resumes a session with a fresh token for the same stream', async () => {
    const sessionId = await execSession();
    const out = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
    expect(out.SessionId).toBe(sessionId);
    expect(out.StreamUrl).toContain(sessionId);
    expect(out.TokenValue).toEqual(expect.any(String));
    expect(JSON.stringify(fake.calls)).not.toContain(out.TokenValue);
  });

  it('terminates a session in the gateway', async () => {
    const sessionId = await execSession();
    const out = await ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
    expect(out.SessionId).toBe(sessionId);
    await fake.gateway.session(sessionId).ended;
    expect(fake.gateway.session(sessionId).state).toBe('terminated');
    const resumed = await rejection(ssm.send(new ResumeSessionCommand({ SessionId: sessionId })));
    expect(resumed.name).toBe('DoesNotExistException');
  });

  it("fails ResumeSession when told to ('fail')", async () => {
    const sessionId = await execSession();
    fake.faults.resumeSession = 'fail';
    try {
      const err = await rejection(ssm.send(new ResumeSessionCommand({ SessionId: sessionId })));
      expect(err.name).toBe('InternalServerError');
    } finally {
      fake.faults.resumeSession = undefined;
    }
  });
});

describe('Step Functions', () => {
  it('records task-token callbacks in order', async () => {
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'token-a' }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-a', output: '{"exitCode":0}' }));
    await sfn.send(
      new SendTaskFailureCommand({ taskToken: 'token-b', error: 'NonZeroExit', cause: 'exit 3' }),
    );
    expect(fake.taskCallbacks.map(({ at: _at, ...callback }) => callback)).toEqual([
      { kind: 'heartbeat', taskToken: 'token-a' },
      { kind: 'success', taskToken: 'token-a', output: '{"exitCode":0}' },
      { kind: 'failure', taskToken: 'token-b', error: 'NonZeroExit', cause: 'exit 3' },
    ]);
  });

  it('refuses a second answer for the same token', async () => {
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-c', output: '{}' }));
    const err = await rejection(
      sfn.send(new SendTaskFailureCommand({ taskToken: 'token-c', error: 'Late' })),
    );
    expect(err.name).toBe('TaskTimedOut');
  });

  it('validates the output like Step Functions', async () => {
    const notJson = await rejection(
      sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-d', output: 'nope' })),
    );
    expect(notJson.name).toBe('InvalidOutput');
    const big = JSON.stringify('x'.repeat(SFN_MAX_OUTPUT_BYTES));
    const tooBig = await rejection(
      sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-d', output: big })),
    );
    expect(tooBig.name).toBe('ValidationException');
    expect(fake.taskCallbacks.some((callback) => callback.taskToken === 'token-d')).toBe(false);
  });

  it('does not implement StartExecution', async () => {
    const err = await rejection(sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:x' })));
    expect(err.name).toBe('UnknownOperationException');
    expect(err.message).toContain('sfn:StartExecution');
  });
});
