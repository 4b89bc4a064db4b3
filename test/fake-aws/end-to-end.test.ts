import { DescribeTasksCommand, ECSClient, ExecuteCommandCommand } from '@aws-sdk/client-ecs';
import { GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ResumeSessionCommand, SSMClient } from '@aws-sdk/client-ssm';
import { run } from '../../lambda/ssm/run';
import type { DataKeyProvider, SessionEndpoint } from '../../lambda/ssm/types';
import { DEFAULT_WORLD_IDS, FAST_SESSION_DEFAULTS, type FakeAws, startFakeAws } from '../../local/fake-aws';

const KMS_DATA_KEY_BYTES = 64;
const RUN_TIMEOUT_MS = 20_000;

let fake: FakeAws;
let restoreEnv: () => void;
let ecs: ECSClient;
let kms: KMSClient;
let ssm: SSMClient;

beforeAll(async () => {
  fake = await startFakeAws({ sessionDefaults: FAST_SESSION_DEFAULTS });
  restoreEnv = fake.applyEnv();
  ecs = new ECSClient({});
  kms = new KMSClient({});
  ssm = new SSMClient({});
});

afterAll(async () => {
  for (const client of [ecs, kms, ssm]) client.destroy();
  await fake.close();
  restoreEnv();
});

/** What the Lambda does: describe the task for the container's runtime id, then ExecuteCommand. */
async function runInTask(cluster: string, taskId: string, command: string) {
  const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskId] }));
  const runtimeId = described.tasks?.[0]?.containers?.[0]?.runtimeId;
  if (runtimeId === undefined) throw new Error('no runtime id');
  const targetId = `ecs:${cluster}_${taskId}_${runtimeId}`;
  const dataKeyProvider: DataKeyProvider = async ({ keyId, sessionId }) => {
    const key = await kms.send(
      new GenerateDataKeyCommand({
        KeyId: keyId,
        NumberOfBytes: KMS_DATA_KEY_BYTES,
        EncryptionContext: { 'aws:ssm:SessionId': sessionId, 'aws:ssm:TargetId': targetId },
      }),
    );
    if (key.Plaintext === undefined || key.CiphertextBlob === undefined) throw new Error('no data key');
    return { plaintext: key.Plaintext, ciphertextBlob: key.CiphertextBlob };
  };
  const start = async (prepared: { command: string }): Promise<SessionEndpoint> => {
    const out = await ecs.send(
      new ExecuteCommandCommand({ cluster, task: taskId, command: prepared.command, interactive: true }),
    );
    const session = out.session;
    if (
      session?.sessionId === undefined ||
      session.streamUrl === undefined ||
      session.tokenValue === undefined
    ) {
      throw new Error('no session');
    }
    return { sessionId: session.sessionId, streamUrl: session.streamUrl, tokenValue: session.tokenValue };
  };
  return run(command, start, {
    timeoutMs: RUN_TIMEOUT_MS,
    dataKeyProvider,
    resume: async (sessionId) => {
      const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
      return {
        tokenValue: resumed.TokenValue ?? '',
        ...(resumed.StreamUrl ? { streamUrl: resumed.StreamUrl } : {}),
      };
    },
  });
}

describe('the data-channel client against the fake endpoint', () => {
  it('runs a command in a task of a cluster without KMS', async () => {
    const result = await runInTask('local', DEFAULT_WORLD_IDS.taskId, 'echo plain; exit 3');
    expect(result.output.trim()).toBe('plain');
    expect(result.exitCode).toBe(3);
    expect(result.encrypted).toBe(false);
  });

  it('runs a command through the KMS handshake with a data key from the fake KMS', async () => {
    const result = await runInTask('local-kms', DEFAULT_WORLD_IDS.kmsTaskId, 'echo encrypted');
    expect(result.output.trim()).toBe('encrypted');
    expect(result.exitCode).toBe(0);
    expect(result.encrypted).toBe(true);
    const session = fake.sessions.at(-1);
    if (session === undefined) throw new Error('no session recorded');
    expect(fake.gateway.session(session.sessionId).handshake).toMatchObject({ state: 'complete' });
  });
});
