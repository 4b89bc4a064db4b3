import { AlertsEnv, handler } from '../../lambda/alerts/handler';
import { startFakeAws } from '../../local/fake-aws';
import { fanOutTasksFailed, runtimeError, scheduledNonZeroExit } from './samples';

type FakeAws = Awaited<ReturnType<typeof startFakeAws>>;
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ecs-exec-runner-alerts';

let fake: FakeAws;
let restoreEnv: () => void;

beforeAll(async () => {
  fake = await startFakeAws();
  restoreEnv = fake.applyEnv();
  process.env[AlertsEnv.TopicArn] = TOPIC_ARN;
});

afterAll(async () => {
  delete process.env[AlertsEnv.TopicArn];
  restoreEnv();
  await fake.close();
});

const published = () =>
  fake.calls
    .filter((c) => c.service === 'sns' && c.operation === 'Publish' && c.error === undefined)
    .map((c) => c.input as { TopicArn: string; Subject: string; Message: string });

describe('alerts function against the local SNS', () => {
  it('publishes one readable message per failed execution to the topic', async () => {
    for (const event of [scheduledNonZeroExit, fanOutTasksFailed, runtimeError]) {
      expect(await handler(event)).toEqual({ messageId: expect.any(String) });
    }
    const messages = published();
    expect(messages.map((m) => m.Subject)).toEqual([
      'ecs-exec-runner: NonZeroExit (nightly-migrate) bin/rails db:migrate (+1 more lines)',
      'ecs-exec-runner: TasksFailed hostname',
      expect.stringMatching(/^ecs-exec-runner: States.Runtime /),
    ]);
    expect(messages.every((m) => m.TopicArn === TOPIC_ARN)).toBe(true);
    expect(messages[0]?.Message).toContain('Exit code:  3\n');
  });

  it('fails the invocation when SNS refuses, so that EventBridge retries', async () => {
    fake.faults.operations['sns.Publish'] = [{ error: 'AuthorizationError', times: 1 }];
    await expect(handler(scheduledNonZeroExit)).rejects.toMatchObject({
      name: 'AuthorizationErrorException',
    });
  });
});
