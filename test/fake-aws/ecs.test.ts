import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ExecuteCommandCommand,
  ListClustersCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import WebSocket from 'ws';
import { decodeFrame, encodeOpenDataChannel, type Frame } from '../../lambda/ssm/codec';
import { MessageType, PayloadType } from '../../lambda/ssm/constants';
import {
  addCluster,
  addTask,
  DEFAULT_WORLD_IDS,
  EcsMessage,
  FAST_SESSION_DEFAULTS,
  type FakeAws,
  REDACTED,
  startFakeAws,
} from '../../local/fake-aws';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/local/${DEFAULT_WORLD_IDS.taskId}`;
const KMS_TASK_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/local-kms/${DEFAULT_WORLD_IDS.kmsTaskId}`;
const FRAME_WAIT_MS = 10_000;

let fake: FakeAws;
let restoreEnv: () => void;
let ecs: ECSClient;
/** No SDK retries, so each injected fault answers exactly one call. */
let ecsOnce: ECSClient;

beforeAll(async () => {
  fake = await startFakeAws({ sessionDefaults: FAST_SESSION_DEFAULTS });
  restoreEnv = fake.applyEnv();
  ecs = new ECSClient({});
  ecsOnce = new ECSClient({ maxAttempts: 1 });
});

afterAll(async () => {
  ecs.destroy();
  ecsOnce.destroy();
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

/** Opens the data channel like a client and returns the first binary frame the gateway relays. */
async function firstFrame(streamUrl: string, tokenValue: string): Promise<Frame> {
  const socket = new WebSocket(streamUrl, { perMessageDeflate: false });
  try {
    return await new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame from the gateway')), FRAME_WAIT_MS);
      socket.on('error', reject);
      socket.on('open', () => {
        socket.send(
          encodeOpenDataChannel({
            requestId: crypto.randomUUID(),
            tokenValue,
            clientId: crypto.randomUUID(),
          }),
        );
      });
      socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        if (!isBinary || !Buffer.isBuffer(data)) return;
        const frame = decodeFrame(data);
        if (frame.messageType !== MessageType.OutputStreamData) return;
        clearTimeout(timer);
        resolve(frame);
      });
    });
  } finally {
    socket.terminate();
  }
}

describe('ListTasks', () => {
  it('lists the RUNNING tasks of a service by ARN', async () => {
    const out = await ecs.send(new ListTasksCommand({ cluster: 'local', serviceName: 'web' }));
    expect(out.taskArns).toEqual([TASK_ARN]);
    expect(out.nextToken).toBeUndefined();
  });

  it('pages with maxResults and nextToken', async () => {
    addCluster(fake.world, { name: 'paged' });
    const ids = Array.from({ length: 5 }, () => addTask(fake.world, 'paged', { service: 'api' }).id);
    addTask(fake.world, 'paged', { service: 'api', lastStatus: 'STOPPED' });
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ecs.send(
        new ListTasksCommand({ cluster: 'paged', serviceName: 'api', maxResults: 2, nextToken }),
      );
      pages += 1;
      seen.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids.map((id) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task/paged/${id}`));
    const stopped = await ecs.send(new ListTasksCommand({ cluster: 'paged', desiredStatus: 'STOPPED' }));
    expect(stopped.taskArns).toHaveLength(1);
  });

  it('fails with the exceptions ECS uses for an unknown cluster or service', async () => {
    const noCluster = await rejection(ecs.send(new ListTasksCommand({ cluster: 'nope' })));
    expect(noCluster.name).toBe('ClusterNotFoundException');
    expect(noCluster.message).toBe('Cluster not found.');
    const noService = await rejection(
      ecs.send(new ListTasksCommand({ cluster: 'local', serviceName: 'nope' })),
    );
    expect(noService.name).toBe('ServiceNotFoundException');
  });
});

describe('DescribeTasks', () => {
  it('describes a task by id with its containers and exec agent', async () => {
    const out = await ecs.send(
      new DescribeTasksCommand({ cluster: 'local', tasks: [DEFAULT_WORLD_IDS.taskId] }),
    );
    expect(out.failures).toEqual([]);
    const [task] = out.tasks ?? [];
    expect(task).toMatchObject({
      taskArn: TASK_ARN,
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/local`,
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      healthStatus: 'HEALTHY',
      enableExecuteCommand: true,
      group: 'service:web',
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
    });
    expect(task?.startedAt).toBeInstanceOf(Date);
    expect(task?.containers).toEqual([
      expect.objectContaining({
        name: 'app',
        runtimeId: `${DEFAULT_WORLD_IDS.taskId}-${DEFAULT_WORLD_IDS.runtimeSuffix}`,
        lastStatus: 'RUNNING',
        managedAgents: [expect.objectContaining({ name: 'ExecuteCommandAgent', lastStatus: 'RUNNING' })],
      }),
    ]);
  });

  it('accepts ARNs and reports unknown tasks as MISSING failures', async () => {
    const unknown = 'ffffffffffffffffffffffffffffffff';
    const out = await ecs.send(new DescribeTasksCommand({ cluster: 'local', tasks: [TASK_ARN, unknown] }));
    expect(out.tasks?.map((task) => task.taskArn)).toEqual([TASK_ARN]);
    expect(out.failures).toEqual([
      { arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/local/${unknown}`, reason: 'MISSING' },
    ]);
  });

  it('lists no exec agent for a task started without execute command', async () => {
    const task = addTask(fake.world, 'local', { enableExecuteCommand: false });
    const out = await ecs.send(new DescribeTasksCommand({ cluster: 'local', tasks: [task.id] }));
    expect(out.tasks?.[0]?.enableExecuteCommand).toBe(false);
    expect(out.tasks?.[0]?.containers?.[0]?.managedAgents).toBeUndefined();
  });

  it('rejects an empty task list like ECS', async () => {
    const err = await rejection(ecs.send(new DescribeTasksCommand({ cluster: 'local', tasks: [] })));
    expect(err.name).toBe('InvalidParameterException');
    expect(err.message).toBe('Tasks cannot be empty.');
  });
});

describe('DescribeClusters and DescribeServices', () => {
  it('returns the exec configuration only when CONFIGURATIONS is included', async () => {
    const withConfig = await ecs.send(
      new DescribeClustersCommand({ clusters: ['local-kms', 'local', 'nope'], include: ['CONFIGURATIONS'] }),
    );
    expect(withConfig.clusters?.map((cluster) => cluster.clusterName)).toEqual(['local-kms', 'local']);
    expect(withConfig.clusters?.[0]?.configuration?.executeCommandConfiguration).toEqual({
      kmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${DEFAULT_WORLD_IDS.kmsKeyUuid}`,
      logging: 'DEFAULT',
    });
    expect(withConfig.clusters?.[1]?.configuration?.executeCommandConfiguration?.kmsKeyId).toBeUndefined();
    expect(withConfig.failures).toEqual([
      { arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/nope`, reason: 'MISSING' },
    ]);
    const plain = await ecs.send(new DescribeClustersCommand({ clusters: ['local-kms'] }));
    expect(plain.clusters?.[0]?.configuration).toBeUndefined();
  });

  it('describes a service made of its tasks', async () => {
    const out = await ecs.send(new DescribeServicesCommand({ cluster: 'local', services: ['web', 'ghost'] }));
    expect(out.services?.[0]).toMatchObject({ serviceName: 'web', status: 'ACTIVE', runningCount: 1 });
    expect(out.failures?.[0]?.reason).toBe('MISSING');
  });
});

describe('ExecuteCommand', () => {
  it('opens a session whose stream relays the command output', async () => {
    const out = await ecs.send(
      new ExecuteCommandCommand({
        cluster: 'local',
        task: DEFAULT_WORLD_IDS.taskId,
        container: 'app',
        command: 'echo fake-aws-says-hi',
        interactive: true,
      }),
    );
    expect(out).toMatchObject({
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/local`,
      containerName: 'app',
      interactive: true,
      taskArn: TASK_ARN,
    });
    expect(out.containerArn).toMatch(/^arn:aws:ecs:us-east-1:123456789012:container\/local\//);
    const session = out.session;
    if (
      session?.streamUrl === undefined ||
      session.tokenValue === undefined ||
      session.sessionId === undefined
    ) {
      throw new Error('ExecuteCommand returned no session');
    }
    const frame = await firstFrame(session.streamUrl, session.tokenValue);
    expect(frame.payloadType).toBe(PayloadType.Output);
    expect(frame.sequenceNumber).toBe(0);
    expect(frame.payload.toString('utf8')).toContain('fake-aws-says-hi');
    expect(fake.sessions.at(-1)).toMatchObject({
      sessionId: session.sessionId,
      cluster: 'local',
      container: 'app',
    });
    expect(fake.sessions.at(-1)?.spec.kms).toBeUndefined();

    const recorded = fake.calls.filter(
      (call) => call.operation === 'ExecuteCommand' && call.error === undefined,
    );
    expect(recorded.at(-1)?.output).toMatchObject({ session: { tokenValue: REDACTED } });
    expect(JSON.stringify(fake.calls)).not.toContain(session.tokenValue);
  });

  it('starts with the KMS handshake on a cluster with a KMS key, for the ECS target id', async () => {
    const out = await ecs.send(
      new ExecuteCommandCommand({
        cluster: 'local-kms',
        task: KMS_TASK_ARN,
        command: 'true',
        interactive: true,
      }),
    );
    const session = out.session;
    if (session?.streamUrl === undefined || session.tokenValue === undefined) throw new Error('no session');
    const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${DEFAULT_WORLD_IDS.kmsKeyUuid}`;
    expect(fake.sessions.at(-1)?.spec.kms).toEqual({
      keyId: keyArn,
      targetId: `ecs:local-kms_${DEFAULT_WORLD_IDS.kmsTaskId}_${DEFAULT_WORLD_IDS.kmsTaskId}-${DEFAULT_WORLD_IDS.runtimeSuffix}`,
    });
    const frame = await firstFrame(session.streamUrl, session.tokenValue);
    expect(frame.payloadType).toBe(PayloadType.HandshakeRequest);
    const request: unknown = JSON.parse(frame.payload.toString('utf8'));
    expect(request).toMatchObject({
      RequestedClientActions: expect.arrayContaining([
        expect.objectContaining({
          ActionType: 'KMSEncryption',
          ActionParameters: expect.objectContaining({ KMSKeyId: keyArn }),
        }),
      ]),
    });
  });

  it('refuses a non-interactive command with ECS text', async () => {
    const err = await rejection(
      ecs.send(
        new ExecuteCommandCommand({
          cluster: 'local',
          task: DEFAULT_WORLD_IDS.taskId,
          command: 'id',
          interactive: false,
        }),
      ),
    );
    expect(err.name).toBe('InvalidParameterException');
    expect(err.message).toBe('Interactive is the only mode supported currently.');
  });

  it('fails with ClusterNotFoundException for an unknown cluster', async () => {
    const err = await rejection(
      ecs.send(
        new ExecuteCommandCommand({
          cluster: 'nope',
          task: DEFAULT_WORLD_IDS.taskId,
          command: 'id',
          interactive: true,
        }),
      ),
    );
    expect(err.name).toBe('ClusterNotFoundException');
  });

  it.each([
    ['execute command disabled', { enableExecuteCommand: false }],
    ['agent still PENDING', { containers: [{ execAgentStatus: 'PENDING' as const }] }],
    ['agent STOPPED', { containers: [{ execAgentStatus: 'STOPPED' as const }] }],
  ])('answers the agent-not-ready error when %s', async (_case, taskInput) => {
    const task = addTask(fake.world, 'local', taskInput);
    const err = await rejection(
      ecs.send(
        new ExecuteCommandCommand({ cluster: 'local', task: task.id, command: 'id', interactive: true }),
      ),
    );
    expect(err.name).toBe('InvalidParameterException');
    expect(err.message).toBe(EcsMessage.AgentNotReady);
    expect(err.message).toContain('execute command agent isn’t running');
  });

  it('recovers once the agent reports RUNNING', async () => {
    const task = addTask(fake.world, 'local', { containers: [{ execAgentStatus: 'PENDING' }] });
    const send = () =>
      ecs.send(
        new ExecuteCommandCommand({ cluster: 'local', task: task.id, command: 'true', interactive: true }),
      );
    expect((await rejection(send())).name).toBe('InvalidParameterException');
    const [container] = task.containers;
    if (container === undefined) throw new Error('no container');
    container.execAgentStatus = 'RUNNING';
    const out = await send();
    expect(out.session?.sessionId).toEqual(expect.any(String));
  });

  it('requires a container name when the task has several', async () => {
    const task = addTask(fake.world, 'local', { containers: [{ name: 'app' }, { name: 'sidecar' }] });
    const err = await rejection(
      ecs.send(
        new ExecuteCommandCommand({ cluster: 'local', task: task.id, command: 'id', interactive: true }),
      ),
    );
    expect(err.name).toBe('InvalidParameterException');
  });

  it('answers injected faults in order, then runs normally', async () => {
    fake.faults.executeCommand.push(
      { error: 'TargetNotConnectedException', times: 2 },
      { error: 'AccessDeniedException', message: 'denied by test' },
    );
    const send = () =>
      ecsOnce.send(
        new ExecuteCommandCommand({
          cluster: 'local',
          task: DEFAULT_WORLD_IDS.taskId,
          command: 'true',
          interactive: true,
        }),
      );
    const first = await rejection(send());
    expect(first.name).toBe('TargetNotConnectedException');
    expect(first.message).toBe(EcsMessage.TargetNotConnected);
    expect((await rejection(send())).name).toBe('TargetNotConnectedException');
    const denied = await rejection(send());
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toBe('denied by test');
    expect((await send()).session?.sessionId).toEqual(expect.any(String));
  });

  it('applies faults.session to every session it creates', async () => {
    fake.faults.session = {
      script: [{ output: 'scripted output\n' }],
      kms: { requireChallengeResponse: true },
      faults: { duplicate: { seqs: [0] } },
    };
    try {
      const out = await ecs.send(
        new ExecuteCommandCommand({
          cluster: 'local',
          task: DEFAULT_WORLD_IDS.taskId,
          command: 'id',
          interactive: true,
        }),
      );
      const spec = fake.sessions.at(-1)?.spec;
      expect(spec?.command).toBeUndefined();
      expect(spec?.faults).toEqual({ duplicate: { seqs: [0] } });
      expect(spec?.timing).toMatchObject(FAST_SESSION_DEFAULTS.timing ?? {});
      // A partial kms override changes only sessions that have KMS.
      expect(spec?.kms).toBeUndefined();
      const session = out.session;
      if (session?.streamUrl === undefined || session.tokenValue === undefined) throw new Error('no session');
      const frame = await firstFrame(session.streamUrl, session.tokenValue);
      expect(frame.payload.toString('utf8')).toBe('scripted output\r\n');

      await ecs.send(
        new ExecuteCommandCommand({
          cluster: 'local-kms',
          task: DEFAULT_WORLD_IDS.kmsTaskId,
          command: 'id',
          interactive: true,
        }),
      );
      expect(fake.sessions.at(-1)?.spec.kms).toMatchObject({ requireChallengeResponse: true });
    } finally {
      fake.faults.session = undefined;
    }
  });

  it('injects a fault into any operation by name', async () => {
    fake.faults.operations['ecs.DescribeTasks'] = [
      { error: 'ThrottlingException', message: 'Rate exceeded' },
    ];
    const err = await rejection(
      ecsOnce.send(new DescribeTasksCommand({ cluster: 'local', tasks: [DEFAULT_WORLD_IDS.taskId] })),
    );
    expect(err.name).toBe('ThrottlingException');
    const out = await ecsOnce.send(
      new DescribeTasksCommand({ cluster: 'local', tasks: [DEFAULT_WORLD_IDS.taskId] }),
    );
    expect(out.tasks).toHaveLength(1);
  });
});

describe('operations the fake does not implement', () => {
  it('fail with UnknownOperationException naming the operation', async () => {
    const err = await rejection(ecs.send(new ListClustersCommand({})));
    expect(err.name).toBe('UnknownOperationException');
    expect(err.message).toContain('ecs:ListClusters');
    expect(fake.calls.at(-1)).toMatchObject({
      service: 'ecs',
      operation: 'ListClusters',
      error: { code: 'UnknownOperationException' },
    });
  });
});
