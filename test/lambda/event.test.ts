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
    });
    expect(request).toMatchObject({
      tty: true,
      stdin: 'line\n',
      timeoutSeconds: 900,
      idempotencyKey: 'deploy-42',
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
  ])('rejects %j', (event, pattern) => rejects(event, pattern));

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
});
