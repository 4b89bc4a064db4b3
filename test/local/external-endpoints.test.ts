/**
 * The local environment with AWS_ENDPOINT_URL_ECS / _SSM / _KMS already set: those services go to
 * that endpoint (here a second instance of our own fake, with a cluster the embedded one lacks),
 * the embedded stand-in serves the rest (S3, Step Functions) — attached and detached runs alike.
 */
import { addCluster, emptyWorld, FAST_SESSION_DEFAULTS, startFakeAws } from '../../local/fake-aws';
import { type LocalEnvironment, startLocalEnvironment } from '../../local/local-environment';

type FakeAws = Awaited<ReturnType<typeof startFakeAws>>;

const ELSEWHERE = 'elsewhere';
const TASK_ID = 'abcdefabcdefabcdefabcdefabcdef12';
const SERVICES = ['ECS', 'SSM', 'KMS'] as const;

let other: FakeAws;
let env: LocalEnvironment;
const saved = new Map<string, string | undefined>();

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const world = emptyWorld();
  addCluster(world, { name: ELSEWHERE, tasks: [{ id: TASK_ID, service: 'api' }] });
  other = await startFakeAws({ world, sessionDefaults: FAST_SESSION_DEFAULTS });
  for (const id of SERVICES) {
    const name = `AWS_ENDPOINT_URL_${id}`;
    saved.set(name, process.env[name]);
    process.env[name] = other.endpoint;
  }
  env = await startLocalEnvironment({ fastAgent: true });
});

afterAll(async () => {
  await env.close();
  await other.close();
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  delete process.env.POWERTOOLS_LOG_LEVEL;
});

const services = (fake: FakeAws): string[] => [...new Set(fake.calls.map((call) => call.service))].sort();

describe('npm start with per-service endpoints in the environment', () => {
  it('sends ECS (and the session) to that endpoint and names its targets', async () => {
    expect(env.externalEndpoints).toEqual({ ECS: other.endpoint, SSM: other.endpoint, KMS: other.endpoint });

    const result = await env.invoke({ command: 'echo routed', cluster: ELSEWHERE, task: TASK_ID });

    expect(result).toMatchObject({ exitCode: 0, output: 'routed\n', cluster: ELSEWHERE });
    expect(other.calls.map((call) => `${call.service}.${call.operation}`)).toContain('ecs.ExecuteCommand');
    expect(services(env.fake)).not.toContain('ecs');
  });

  it('runs a detached job there, its output collected in the embedded S3', async () => {
    const result = await env.runStateMachine({
      command: 'printf far',
      detach: true,
      cluster: ELSEWHERE,
      task: TASK_ID,
      pollIntervalSeconds: 2,
    });

    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: { exitCode: 0, output: 'far', cluster: ELSEWHERE },
    });
    expect(services(env.fake)).toEqual(['s3']);
    expect(services(other)).toContain('ecs');
  });
});
