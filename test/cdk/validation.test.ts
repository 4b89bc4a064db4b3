import { Duration, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { EcsExecRunner, type EcsExecRunnerProps } from '../../lib/ecs-exec-runner';
import { scheduleExpressionProblem, timeZoneProblem } from '../../lib/schedule-expression';
import { parseScheduleConfigs, type ScheduleConfig } from '../../lib/schedules';
import { CLUSTER_A, fastApp } from './helpers';

/** Props are checked before any resource exists, so these never bundle or synthesize. */
function build(props: Partial<EcsExecRunnerProps> = {}, clusterArns: readonly string[] = [CLUSTER_A]): void {
  const stack = new Stack(fastApp(), 'ValidationTest');
  const clusters = clusterArns.map((arn, i) => ecs.Cluster.fromClusterArn(stack, `Cluster${i}`, arn));
  new EcsExecRunner(stack, 'Runner', { clusters, ...props });
}

const schedule = (overrides: Partial<ScheduleConfig> = {}): ScheduleConfig => ({
  name: 'nightly',
  expression: 'cron(0 3 * * ? *)',
  event: { command: 'uptime', service: 'web' },
  ...overrides,
});

describe('EcsExecRunner props', () => {
  it.each<[string, Partial<EcsExecRunnerProps>, RegExp]>([
    [
      'a timeout above 15 minutes',
      { timeout: Duration.minutes(16) },
      /timeout: must be from 30 seconds to 15 minutes/,
    ],
    ['a timeout below 30 seconds', { timeout: Duration.seconds(10) }, /timeout: must be from 30 seconds/],
    ['a memory size out of range', { memorySize: 64 }, /memorySize: .*128 to 10240, got 64/],
    ['an output prefix without a trailing slash', { outputPrefix: 'out' }, /outputPrefix: .*got "out"/],
    ['an output prefix with a wildcard', { outputPrefix: 'out*/' }, /outputPrefix/],
    ['an output prefix starting with a slash', { outputPrefix: '/out/' }, /outputPrefix/],
    [
      'an expiration in hours',
      { outputExpiration: Duration.hours(36) },
      /outputExpiration: must be a whole number of days/,
    ],
    ['a fan-out concurrency of 0', { fanOutMaxConcurrency: 0 }, /fanOutMaxConcurrency: .*got 0/],
    ['a fractional fan-out concurrency', { fanOutMaxConcurrency: 2.5 }, /fanOutMaxConcurrency/],
    ['a default service with a slash', { defaultService: 'a/b' }, /defaultService: .*got "a\/b"/],
    ['a bad state machine name', { fanOutStateMachineName: 'has space' }, /fanOutStateMachineName/],
    ['a run timeout of 30 seconds', { runCommandTimeout: Duration.seconds(30) }, /runCommandTimeout/],
  ])('rejects %s at synth', (_name, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  it('rejects an empty cluster list', () => {
    expect(() => build({}, [])).toThrow(/clusters: give at least one cluster/);
  });

  it('rejects a cluster listed twice', () => {
    expect(() => build({}, [CLUSTER_A, CLUSTER_A])).toThrow(/is listed twice/);
  });

  it('lists every problem at once, naming the construct', () => {
    expect(() => build({ memorySize: 1, fanOutMaxConcurrency: -1 })).toThrow(
      /EcsExecRunner ValidationTest\/Runner: invalid props:\n {2}- memorySize.*\n {2}- fanOutMaxConcurrency/,
    );
  });
});

describe('schedules at synth', () => {
  it.each<[string, Partial<ScheduleConfig>, RegExp]>([
    ['a cron with 5 fields', { expression: 'cron(0 3 * * ?)' }, /needs 6 fields/],
    ['a cron with both days set', { expression: 'cron(0 3 1 * MON *)' }, /"\?" in exactly one/],
    ['a cron hour of 24', { expression: 'cron(0 24 * * ? *)' }, /hours field "24" has 24, outside 0-23/],
    ['a cron month name typo', { expression: 'cron(0 3 ? JANN MON *)' }, /month field "JANN"/],
    ['a plural rate of 1', { expression: 'rate(1 hours)' }, /singular unit/],
    ['a singular rate above 1', { expression: 'rate(5 minute)' }, /plural unit/],
    ['a rate of 0', { expression: 'rate(0 minutes)' }, /at least 1/],
    ['an impossible at() date', { expression: 'at(2030-02-30T08:00:00)' }, /not a real date/],
    [
      'an unknown expression type',
      { expression: 'every 5 minutes' },
      /must be cron\(\.\.\.\), rate\(\.\.\.\) or at\(\.\.\.\)/,
    ],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, /time zone "Mars\/Olympus"/],
    ['a bad name', { name: 'has space' }, /name must be 1-64/],
    ['an event without a command', { event: { service: 'web' } }, /event is invalid: "command" is required/],
    [
      'an event with an unknown field',
      { event: { command: 'ls', service: 'web', typo: 1 } },
      /unknown field "typo"/,
    ],
    [
      'an event naming a task and a service',
      { event: { command: 'ls', service: 'web', task: 'f'.repeat(32) } },
      /exactly one/,
    ],
    [
      'a fan-out event naming a task',
      { target: 'fan-out', event: { command: 'ls', task: 'f'.repeat(32) } },
      /"task" cannot be used here/,
    ],
    [
      'a fan-out concurrency of 0',
      { target: 'fan-out', event: { command: 'ls', service: 'web', maxConcurrency: 0 } },
      /maxConcurrency/,
    ],
    [
      'a cluster the runner may not use',
      { event: { command: 'ls', service: 'web', cluster: 'other' } },
      /not one this runner may use/,
    ],
    ['too many retries', { retryAttempts: 200 }, /retryAttempts/],
    ['a too short event age', { maxEventAgeSeconds: 10 }, /maxEventAgeSeconds/],
  ])('rejects %s', (_name, overrides, message) => {
    expect(() => build({ schedules: [schedule(overrides)] })).toThrow(message);
  });

  it('rejects an event without a service when no default service is configured', () => {
    expect(() => build({ schedules: [schedule({ event: { command: 'ls' } })] })).toThrow(
      /one of "task" or "service" is required/,
    );
  });

  it('accepts an event without a service when the runner has a default service', () => {
    expect(() =>
      build({
        defaultService: 'web',
        schedules: [schedule({ event: { command: 'ls' }, target: 'fan-out' })],
      }),
    ).not.toThrow();
  });

  it('rejects two schedules with the same (or the same-looking) name', () => {
    expect(() => build({ schedules: [schedule(), schedule()] })).toThrow(/name is used twice/);
    expect(() => build({ schedules: [schedule({ name: 'a-b' }), schedule({ name: 'a.b' })] })).toThrow(
      /too similar to another name/,
    );
  });
});

describe('schedule expressions', () => {
  it.each([
    'cron(0 3 * * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0 8 1,15 * ? 2030)',
    'cron(30 9 ? * MON-FRI *)',
    'cron(0 10 ? * 6L *)',
    'cron(0 10 ? * MON#2 *)',
    'cron(0 10 L * ? *)',
    'cron(0 10 15W * ? *)',
    'cron(0 12 ? JAN-MAR SUN *)',
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 day)',
    'rate(12 hours)',
    'at(2030-01-31T08:00:00)',
  ])('accepts %s', (expression) => {
    expect(scheduleExpressionProblem(expression)).toBeUndefined();
  });

  it.each(['Etc/UTC', 'UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires'])(
    'accepts the time zone %s',
    (zone) => {
      expect(timeZoneProblem(zone)).toBeUndefined();
    },
  );
});

describe('schedules from untyped configuration (cdk.json context)', () => {
  it('reads a JSON string or an array', () => {
    const config = [{ name: 'n', expression: 'rate(1 hour)', event: { command: 'ls' }, target: 'fan-out' }];
    expect(parseScheduleConfigs(JSON.stringify(config), 'ctx')).toEqual(config);
    expect(parseScheduleConfigs(config, 'ctx')).toEqual(config);
  });

  it('lists every problem with its position', () => {
    expect(() =>
      parseScheduleConfigs(
        [
          { name: 1, expression: 'rate(1 hour)', event: 'ls' },
          { name: 'x', event: {}, extra: true, target: 'lambda' },
        ],
        'context "schedules"',
      ),
    ).toThrow(
      /context "schedules"\[0\]\.name: must be a string[\s\S]*\[0\]\.event: must be an object[\s\S]*\[1\]: unknown field\(s\) extra[\s\S]*\[1\]\.expression: is required[\s\S]*\[1\]\.target: must be one of run-command, fan-out/,
    );
  });

  it('rejects JSON that does not parse, and non-arrays', () => {
    expect(() => parseScheduleConfigs('[{', 'ctx')).toThrow(/ctx: not valid JSON/);
    expect(() => parseScheduleConfigs({}, 'ctx')).toThrow(/ctx: must be a JSON array/);
  });
});
