/**
 * A container that already holds all the ECS Exec sessions it takes: ExecuteCommand is refused the
 * way ECS refuses a session (TargetNotConnectedException), the handler retries within its budget and
 * then fails with AgentNotReady whose message says why and what to do; once the other session has
 * ended, the next run goes through.
 */
import type { Context } from 'aws-lambda';
import { SESSION_REFUSED_HINT } from '../../lambda/aws/execute';
import type { ExecResult } from '../../lambda/contract';
// Safe to import first: the handler creates its SDK clients on first use, after applyEnv().
import { handler } from '../../lambda/handler';
import { DEFAULT_WORLD_IDS, FAST_SESSION_DEFAULTS, type FakeAws, startFakeAws } from '../../local/fake-aws';

/** Long enough for a refused run to spend its whole retry budget meanwhile. */
const BUSY_MS = 2_500;
/** With the handler's 5 s kept for the command, this leaves about 1 s of ExecuteCommand retries. */
const SHORT_TIMEOUT_SECONDS = 6;

let fake: FakeAws;
let restoreEnv: () => void;

function context(): Context {
  const deadline = Date.now() + 120_000;
  return {
    functionName: 'ecs-exec-runner',
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as Context;
}

const invoke = (event: Record<string, unknown>) =>
  handler({ cluster: DEFAULT_WORLD_IDS.cluster, service: DEFAULT_WORLD_IDS.service, ...event }, context());

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  fake = await startFakeAws({ sessionDefaults: FAST_SESSION_DEFAULTS });
  restoreEnv = fake.applyEnv();
  const web = fake.world.clusters
    .find((cluster) => cluster.name === DEFAULT_WORLD_IDS.cluster)
    ?.tasks.find((task) => task.id === DEFAULT_WORLD_IDS.taskId);
  const container = web?.containers[0];
  if (container === undefined) throw new Error('no web task');
  container.execSessionLimit = 1;
  // `migrate` holds the session a while; anything else is quick.
  container.shell = (command) => ({
    output: `${command}: done\n`,
    exitCode: 0,
    durationMs: command === 'migrate' ? BUSY_MS : 0,
  });
});

afterAll(async () => {
  restoreEnv();
  await fake.close();
  delete process.env.POWERTOOLS_LOG_LEVEL;
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('a container at its ECS Exec session limit', () => {
  it('fails the extra run with AgentNotReady saying the session was refused, and takes the next one', async () => {
    const first = invoke({ command: 'migrate' });
    await until(() => fake.gateway.liveSessionCount === 1);
    const executeCalls = (): number =>
      fake.calls.filter((call) => call.operation === 'ExecuteCommand').length;
    const callsBefore = executeCalls();

    const refused = await invoke({ command: 'status', timeoutSeconds: SHORT_TIMEOUT_SECONDS }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );

    expect(refused?.name).toBe('AgentNotReady');
    const message = refused?.message ?? '';
    expect(message).toMatch(
      /^ECS Exec is not ready on the target after \d+ attempts: TargetNotConnectedException: The execute command failed due to an internal error\. Try again later\.; /,
    );
    expect(message).toContain(SESSION_REFUSED_HINT);
    expect(executeCalls() - callsBefore).toBeGreaterThanOrEqual(2);
    // Only the first session ever ran.
    expect(fake.gateway.peakLiveSessions).toBe(1);

    expect(((await first) as ExecResult).output).toBe('migrate: done\n');
    await until(() => fake.gateway.liveSessionCount === 0);
    expect(((await invoke({ command: 'status' })) as ExecResult).output).toBe('status: done\n');
  });
});
