import { request } from 'node:http';
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { MessageGatewayDouble } from '../../local/agent-double';
import {
  addCluster,
  addTask,
  defaultWorld,
  emptyWorld,
  FAKE_ACCESS_KEY_ID,
  type FakeAws,
  startFakeAws,
} from '../../local/fake-aws';

const ENDPOINT_PATTERN = /^http:\/\/127\.0\.0\.1:\d+$/;

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function post(endpoint: string, target: string, body: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${endpoint}/`,
      { method: 'POST', headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('startFakeAws', () => {
  let fake: FakeAws;

  beforeAll(async () => {
    fake = await startFakeAws({});
  });

  afterAll(async () => {
    await fake.close();
  });

  it('describes itself through the standard SDK settings', () => {
    expect(fake.endpoint).toMatch(ENDPOINT_PATTERN);
    expect(fake.env).toMatchObject({
      AWS_ENDPOINT_URL: fake.endpoint,
      AWS_ENDPOINT_URL_ECS: fake.endpoint,
      AWS_ENDPOINT_URL_S3: fake.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: expect.any(String),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });

  it('applies its environment and restores the previous one', () => {
    const saved = {
      region: process.env.AWS_REGION,
      token: process.env.AWS_SESSION_TOKEN,
      profile: process.env.AWS_PROFILE,
    };
    process.env.AWS_REGION = 'eu-west-3';
    process.env.AWS_SESSION_TOKEN = 'a-real-looking-session-token';
    process.env.AWS_PROFILE = 'production';
    try {
      const restore = fake.applyEnv();
      expect(process.env.AWS_ENDPOINT_URL).toBe(fake.endpoint);
      expect(process.env.AWS_REGION).toBe('us-east-1');
      expect(process.env.AWS_SESSION_TOKEN).toBeUndefined();
      expect(process.env.AWS_PROFILE).toBeUndefined();
      restore();
      expect(process.env.AWS_REGION).toBe('eu-west-3');
      expect(process.env.AWS_SESSION_TOKEN).toBe('a-real-looking-session-token');
      expect(process.env.AWS_PROFILE).toBe('production');
    } finally {
      for (const [name, value] of [
        ['AWS_REGION', saved.region],
        ['AWS_SESSION_TOKEN', saved.token],
        ['AWS_PROFILE', saved.profile],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('answers an unknown service with UnknownOperationException in the JSON error shape', async () => {
    const res = await post(fake.endpoint, 'AmazonDynamoDBv2.GetItem', '{}');
    expect(res.status).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('UnknownOperationException');
    expect(JSON.parse(res.body)).toEqual({
      __type: 'UnknownOperationException',
      message: expect.stringContaining('GetItem'),
    });
  });

  it('answers a body that is not JSON with SerializationException', async () => {
    const res = await post(fake.endpoint, 'AmazonEC2ContainerServiceV20141113.ListTasks', 'not json');
    expect(res.status).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('SerializationException');
  });

  it('builds the default world: a plain cluster and a KMS one, each with a ready task', () => {
    const world = defaultWorld();
    expect(world.clusters.map((cluster) => [cluster.name, cluster.kmsKeyId !== undefined])).toEqual([
      ['local', false],
      ['local-kms', true],
    ]);
    for (const cluster of world.clusters) {
      const [task] = cluster.tasks;
      expect(task).toMatchObject({
        lastStatus: 'RUNNING',
        healthStatus: 'HEALTHY',
        enableExecuteCommand: true,
      });
      expect(task?.id).toMatch(/^[0-9a-f]{32}$/);
      expect(task?.containers).toEqual([
        expect.objectContaining({ name: 'app', execAgentStatus: 'RUNNING' }),
      ]);
    }
  });
});

describe('startFakeAws with a given world, gateway and region', () => {
  it('uses them, and leaves the given gateway open on close', async () => {
    const gateway = await MessageGatewayDouble.start();
    const world = emptyWorld();
    addCluster(world, { name: 'blue' });
    const task = addTask(world, 'blue', { launchType: 'EC2', containerInstanceId: 'abc' });
    const fake = await startFakeAws({ world, gateway, region: 'eu-central-1' });
    const restore = fake.applyEnv();
    const ecs = new ECSClient({});
    try {
      expect(fake.gateway).toBe(gateway);
      expect(fake.env.AWS_REGION).toBe('eu-central-1');
      const out = await ecs.send(new DescribeTasksCommand({ cluster: 'blue', tasks: [task.id] }));
      expect(out.tasks?.[0]?.taskArn).toBe(`arn:aws:ecs:eu-central-1:123456789012:task/blue/${task.id}`);
      expect(out.tasks?.[0]?.platformVersion).toBeUndefined();
      expect(out.tasks?.[0]?.containerInstanceArn).toMatch(/container-instance\/blue\/abc$/);
    } finally {
      ecs.destroy();
      restore();
      await fake.close();
    }
    const session = gateway.createSession({ script: [{ output: 'still open' }] });
    expect(session.sessionId).toEqual(expect.any(String));
    await gateway.close();
  });
});
