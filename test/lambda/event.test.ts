import { InvalidInput } from '../../lambda/errors';
import {
  DEFAULT_OUTPUT_LIMIT_BYTES,
  DEFAULT_TIMEOUT_SECONDS,
  defaultsFromEnv,
  type ExecRequest,
  MAX_COMMAND_CHARS,
  MAX_STDIN_BYTES,
  parseExecEvent,
} from '../../lambda/event';

const TASK_ID = '0123456789abcdef0123456789abcdef';
const TASK_ARN = `arn:aws:ecs:us-east-1:123456789012:task/prod/${TASK_ID}`;

function rejects(event: unknown, pattern: RegExp, defaults = {}): void {
  let error: unknown;
  try {
    parseExecEvent(event, defaults);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(InvalidInput);
  expect((error as InvalidInput).name).toBe('InvalidInput');
  expect((error as InvalidInput).message).toMatch(pattern);
}

describe('parseExecEvent', () => {
  it('applies every default', () => {
    const request: ExecRequest = parseExecEvent({ command: 'uname -a', cluster: 'prod', task: TASK_ID });
    expect(request).toEqual({
      command: 'uname -a',
      cluster: 'prod',
      target: { kind: 'task', task: TASK_ID },
      shell: true,
      tty: false,
      timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
      outputLimitBytes: DEFAULT_OUTPUT_LIMIT_BYTES,
      stripAnsi: true,
      failOnNonZeroExit: true,
      transfer: 'auto',
    });
  });

  it('takes cluster, service and container defaults from the environment', () => {
    const defaults = defaultsFromEnv({
      DEFAULT_CLUSTER: 'prod',
      DEFAULT_SERVICE: 'web',
      DEFAULT_CONTAINER: 'app',
    });
    expect(parseExecEvent({ command: 'true' }, defaults)).toMatchObject({
      cluster: 'prod',
      target: { kind: 'service', service: 'web' },
      container: 'app',
    });
    expect(parseExecEvent({ command: 'true', task: TASK_ARN }, defaults).target).toEqual({
      kind: 'task',
      task: TASK_ARN,
    });
  });

  it('accepts every documented field', () => {
    const request = parseExecEvent({
      command: 'cat',
      cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      service: 'web',
      container: 'app',
      shell: true,
      tty: true,
      stdin: 'line\n',
      timeoutSeconds: 900,
      outputLimitBytes: 1024,
      stripAnsi: false,
      failOnNonZeroExit: false,
      idempotencyKey: 'deploy-42',
      taskToken: 'token',
      executionName: 'exec-1',
      scheduleName: 'nightly-disk',
    });
    expect(request).toMatchObject({
      tty: true,
      stdin: 'line\n',
      timeoutSeconds: 900,
      idempotencyKey: 'deploy-42',
      scheduleName: 'nightly-disk',
    });
  });

  it.each([
    [null, /JSON object/],
    ['uname', /JSON object/],
    [[], /JSON object/],
    [{ cluster: 'prod', task: TASK_ID }, /"command" is required/],
    [{ command: '', cluster: 'prod', task: TASK_ID }, /"command" must not be empty/],
    [{ command: '   ', cluster: 'prod', task: TASK_ID }, /"command" must not be blank/],
    [{ command: 42, cluster: 'prod', task: TASK_ID }, /"command" must be a string, got 42/],
    [{ command: 'x'.repeat(MAX_COMMAND_CHARS + 1), cluster: 'prod', task: TASK_ID }, /at most 16384/],
    [{ command: 'a\0b', cluster: 'prod', task: TASK_ID }, /NUL/],
    [{ command: 'ls', task: TASK_ID }, /"cluster" is required/],
    [{ command: 'ls', cluster: 'bad name', task: TASK_ID }, /"cluster" must be a cluster name/],
    [{ command: 'ls', cluster: 'prod' }, /one of "task" or "service" is required/],
    [
      { command: 'ls', cluster: 'prod', task: TASK_ID, service: 'web' },
      /exactly one of "task" and "service"/,
    ],
    [{ command: 'ls', cluster: 'prod', task: 'nope' }, /"task" must be a task id/],
    [{ command: 'ls', cluster: 'prod', service: 'a b' }, /"service" must be a service name/],
    [
      { command: 'ls', cluster: 'prod', task: TASK_ID, container: 'a/b' },
      /"container" must be a container name/,
    ],
    [{ command: 'ls', cluster: 'prod', task: TASK_ID, shell: 'yes' }, /"shell" must be true or false/],
    [
      { command: 'ls', cluster: 'prod', task: TASK_ID, shell: false, stdin: 'x' },
      /"stdin" needs "shell": true/,
    ],
    [
      { command: 'ls', cluster: 'prod', task: TASK_ID, timeoutSeconds: 0 },
      /"timeoutSeconds" must be a whole number from 1 to 900, got 0/,
    ],
    [{ command: 'ls', cluster: 'prod', task: TASK_ID, timeoutSeconds: 1.5 }, /"timeoutSeconds"/],
    [
      { command: 'ls', cluster: 'prod', task: TASK_ID, outputLimitBytes: 10_000_000 },
      /"outputLimitBytes" must be a whole number from 256 to 240000/,
    ],
    [
      { command: 'ls', cluster: 'prod', task: TASK_ID, idempotencyKey: 'has space' },
      /"idempotencyKey" must be printable/,
    ],
    [{ command: 'ls', cluster: 'prod', task: TASK_ID, commnd: 'typo' }, /unknown field "commnd"/],
    [{ command: 'echo \ud800', cluster: 'prod', task: TASK_ID }, /"command".*unpaired UTF-16 surrogate/],
    [
      { command: 'cat', cluster: 'prod', task: TASK_ID, stdin: 'tail \udc00' },
      /"stdin".*unpaired UTF-16 surrogate/,
    ],
    [{ command: '  # only a comment', cluster: 'prod', task: TASK_ID, shell: false }, /no words/],
  ])('rejects %j', (event, pattern) => rejects(event, pattern));

  it('accepts a surrogate pair (an emoji) in command and stdin', () => {
    const request = parseExecEvent({ command: 'echo 😀', stdin: '😀', cluster: 'prod', task: TASK_ID });
    expect(request).toMatchObject({ command: 'echo 😀', stdin: '😀' });
  });

  it('rejects stdin over its limit in UTF-8 bytes', () => {
    const stdin = 'é'.repeat(MAX_STDIN_BYTES / 2 + 1);
    rejects({ command: 'ls', cluster: 'prod', task: TASK_ID, stdin }, /at most 1048576 bytes/);
  });

  it('rejects a cluster outside the allowed list, by name or ARN', () => {
    const defaults = defaultsFromEnv({
      ALLOWED_CLUSTERS: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod, staging',
    });
    expect(parseExecEvent({ command: 'ls', cluster: 'prod', task: TASK_ID }, defaults).cluster).toBe('prod');
    expect(parseExecEvent({ command: 'ls', cluster: 'staging', task: TASK_ID }, defaults).cluster).toBe(
      'staging',
    );
    rejects({ command: 'ls', cluster: 'other', task: TASK_ID }, /not one this runner may use/, defaults);
  });

  it('matches an allowed ARN on account and region too, not only on the name', () => {
    const defaults = defaultsFromEnv({
      ALLOWED_CLUSTERS: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
      AWS_REGION: 'us-east-1',
    });
    const run = (cluster: string) => parseExecEvent({ command: 'ls', cluster, task: TASK_ID }, defaults);
    expect(run('arn:aws:ecs:us-east-1:123456789012:cluster/prod').cluster).toMatch(/cluster\/prod$/);
    expect(run('prod').cluster).toBe('prod');
    for (const other of [
      'arn:aws:ecs:us-east-1:999999999999:cluster/prod',
      'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
    ]) {
      rejects({ command: 'ls', cluster: other, task: TASK_ID }, /not one this runner may use/, defaults);
    }
    // A bare name means a cluster in the function's own region (and account, when known).
    const elsewhere = { ...defaults, home: { region: 'eu-west-1', account: '123456789012' } };
    rejects({ command: 'ls', cluster: 'prod', task: TASK_ID }, /not one this runner may use/, elsewhere);
    const otherAccount = { ...defaults, home: { region: 'us-east-1', account: '999999999999' } };
    rejects({ command: 'ls', cluster: 'prod', task: TASK_ID }, /not one this runner may use/, otherAccount);
  });

  it('matches an allowed name only against ARNs of its own account and region', () => {
    const defaults = {
      ...defaultsFromEnv({ ALLOWED_CLUSTERS: 'prod' }),
      home: { region: 'us-east-1', account: '123456789012' },
    };
    const run = (cluster: string) => parseExecEvent({ command: 'ls', cluster, task: TASK_ID }, defaults);
    expect(run('arn:aws:ecs:us-east-1:123456789012:cluster/prod').cluster).toMatch(/prod$/);
    rejects(
      { command: 'ls', cluster: 'arn:aws:ecs:us-east-1:999999999999:cluster/prod', task: TASK_ID },
      /not one this runner may use/,
      defaults,
    );
  });
});

describe('parseExecEvent: detached jobs', () => {
  const base = { command: 'bin/reindex', cluster: 'prod', task: TASK_ID };

  it('takes detach, the poll interval, the jobs directory and keepJobFiles, with a 7-day timeout', () => {
    const request = parseExecEvent({
      ...base,
      detach: true,
      timeoutSeconds: 604_800,
      pollIntervalSeconds: 30,
      jobsDirectory: '/data/jobs',
      keepJobFiles: true,
    });
    expect(request).toMatchObject({
      timeoutSeconds: 604_800,
      detach: { pollIntervalSeconds: 30, jobsDirectory: '/data/jobs', keepFiles: true },
    });
    expect(parseExecEvent({ ...base, detach: true }).detach).toEqual({
      pollIntervalSeconds: null,
      keepFiles: false,
    });
    // The state machine's detached path parses long timeouts without `detach`.
    expect(parseExecEvent({ ...base, timeoutSeconds: 7200 }, {}, { detached: true }).timeoutSeconds).toBe(
      7200,
    );
  });

  it.each([
    [
      'a long timeout without detach',
      { timeoutSeconds: 7200 },
      /"timeoutSeconds" must be a whole number from 1 to 900/,
    ],
    ['a timeout above 7 days', { detach: true, timeoutSeconds: 604_801 }, /from 1 to 604800/],
    [
      'a poll interval below 2 s',
      { detach: true, pollIntervalSeconds: 1 },
      /"pollIntervalSeconds" must be a whole number from 2 to 300/,
    ],
    ['detach fields without detach', { jobsDirectory: '/data' }, /"jobsDirectory" needs "detach": true/],
    [
      'a relative jobs directory',
      { detach: true, jobsDirectory: 'jobs' },
      /"jobsDirectory" must be an absolute path/,
    ],
    ['a jobs directory with ..', { detach: true, jobsDirectory: '/data/../etc' }, /without "\.\."/],
    [
      'a jobs directory with shell characters',
      { detach: true, jobsDirectory: '/data/$(id)' },
      /absolute path/,
    ],
  ])('rejects %s', (_name, fields, pattern) => {
    rejects({ ...base, ...fields }, pattern);
  });
});
