/** The exec event the CLI and `npm start` build, and how a failure is read back and shown. */

import { Readable } from 'node:stream';
import { buildExecEvent, commandText, parseSeconds, readStdinFile } from '../../cli/event';
import { CliError, RunExitCode } from '../../cli/execution-exit-codes';
import { ExitCode } from '../../cli/exit-codes';
import { describeFailure, formatFailure, lambdaErrorCause } from '../../cli/failure';
import { ExecErrorName } from '../../lambda/contract';

function usageErrorOf(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('expected a usage error');
}

describe('buildExecEvent', () => {
  it('maps every option to the field of the contract, and nothing else', () => {
    expect(
      buildExecEvent({
        command: ['python', 'manage.py', 'migrate'],
        cluster: 'prod',
        service: 'web',
        container: 'app',
        timeout: '120',
        stdin: 'yes\n',
        tty: true,
        raw: true,
        idempotencyKey: 'deploy-42',
      }),
    ).toEqual({
      command: 'python manage.py migrate',
      cluster: 'prod',
      service: 'web',
      container: 'app',
      timeoutSeconds: 120,
      stdin: 'yes\n',
      tty: true,
      shell: false,
      idempotencyKey: 'deploy-42',
    });
  });

  it('sends only the command when nothing else is given (the function defaults apply)', () => {
    expect(buildExecEvent({ command: ['echo "a  b" | wc -c'] })).toEqual({ command: 'echo "a  b" | wc -c' });
    expect(buildExecEvent({ command: ['ls'], task: 'abc' })).toEqual({ command: 'ls', task: 'abc' });
  });

  it('refuses what the command line itself gets wrong, with exit 64', () => {
    expect(usageErrorOf(() => buildExecEvent({ command: [] })).message).toMatch(/no command given/);
    expect(usageErrorOf(() => commandText(['  '])).exitCode).toBe(RunExitCode.Usage);
    expect(usageErrorOf(() => buildExecEvent({ command: ['ls'], service: 's', task: 't' })).message).toBe(
      'give --service or --task, not both',
    );
    expect(usageErrorOf(() => parseSeconds('--timeout', '1.5')).message).toBe(
      '--timeout must be a whole number of seconds, got "1.5"',
    );
    expect(usageErrorOf(() => buildExecEvent({ command: ['ls'], timeout: 'soon' })).exitCode).toBe(64);
  });

  it('leaves range checks to the Lambda (one set of rules)', () => {
    expect(buildExecEvent({ command: ['ls'], timeout: '100000' })).toEqual({
      command: 'ls',
      timeoutSeconds: 100_000,
    });
  });

  it('reads --stdin-file - from the given stream, and a missing file as a usage error', async () => {
    await expect(readStdinFile('-', Readable.from([Buffer.from('a\n'), Buffer.from('b')]))).resolves.toEqual(
      Buffer.from('a\nb'),
    );
    await expect(readStdinFile('/nonexistent/input.txt')).rejects.toMatchObject({
      exitCode: RunExitCode.Usage,
      message: expect.stringContaining('cannot read --stdin-file /nonexistent/input.txt'),
    });
  });
});

const MESSAGE = {
  message: 'the command exited with code 3',
  exitCode: 3,
  cluster: 'prod',
  taskArn: 'arn:aws:ecs:eu-west-1:111122223333:task/prod/abc',
  outputBytes: 12,
  outputTail: 'about to fail\n',
};

describe('describeFailure', () => {
  it('reads the Lambda error envelope Step Functions gives as the cause', () => {
    const cause = JSON.stringify({
      errorType: ExecErrorName.NonZeroExit,
      errorMessage: JSON.stringify(MESSAGE),
      trace: [],
    });
    expect(describeFailure(ExecErrorName.NonZeroExit, cause)).toEqual({
      error: ExecErrorName.NonZeroExit,
      message: 'the command exited with code 3',
      commandExitCode: 3,
      outputTail: 'about to fail\n',
      details: {
        exitCode: 3,
        cluster: 'prod',
        taskArn: 'arn:aws:ecs:eu-west-1:111122223333:task/prod/abc',
        outputBytes: 12,
      },
      exitCode: 3,
    });
  });

  it('reads the bare JSON message a task-token callback sends as the cause', () => {
    const report = describeFailure(
      ExecErrorName.TargetNotFound,
      JSON.stringify({ message: 'no RUNNING task of service web', cluster: 'prod' }),
    );
    expect(report).toMatchObject({
      error: ExecErrorName.TargetNotFound,
      message: 'no RUNNING task of service web',
      details: { cluster: 'prod' },
      exitCode: ExitCode.TargetNotFound,
    });
    expect(report.outputTail).toBeUndefined();
  });

  it('keeps a plain-text message, and maps unknown errors to 70', () => {
    const invalid = describeFailure(
      ExecErrorName.InvalidInput,
      JSON.stringify({ errorType: 'InvalidInput', errorMessage: 'unknown field "x"', trace: [] }),
    );
    expect(invalid).toMatchObject({
      message: 'unknown field "x"',
      details: {},
      exitCode: ExitCode.InvalidInput,
    });
    expect(describeFailure('States.Timeout', 'Task timed out')).toMatchObject({
      error: 'States.Timeout',
      message: 'Task timed out',
      exitCode: ExitCode.Unexpected,
    });
    // No error name at all: the envelope's errorType, else Unknown.
    expect(
      describeFailure(undefined, JSON.stringify({ errorType: 'SessionFailed', errorMessage: 'x' })).exitCode,
    ).toBe(ExitCode.SessionFailed);
    expect(describeFailure(undefined, undefined)).toMatchObject({
      error: 'Unknown',
      exitCode: ExitCode.Unexpected,
    });
  });

  it('gives NonZeroExit without an exit code the generic code, not 0', () => {
    expect(describeFailure(ExecErrorName.NonZeroExit, '{"message":"odd"}').exitCode).toBe(
      ExitCode.Unexpected,
    );
  });
});

describe('formatFailure', () => {
  it('prints the error and message, the details, then the output tail', () => {
    const cause = JSON.stringify({
      errorType: 'NonZeroExit',
      errorMessage: JSON.stringify(MESSAGE),
      trace: [],
    });
    expect(formatFailure(describeFailure(ExecErrorName.NonZeroExit, cause))).toBe(
      [
        'NonZeroExit: the command exited with code 3',
        '  exitCode: 3',
        '  cluster: prod',
        '  taskArn: arn:aws:ecs:eu-west-1:111122223333:task/prod/abc',
        '  outputBytes: 12',
        '--- end of the output ---',
        'about to fail',
        '',
      ].join('\n'),
    );
  });

  it('ends an output tail without a newline with one', () => {
    const text = formatFailure(describeFailure('SessionFailed', '{"message":"m","outputTail":"partial"}'));
    expect(text.endsWith('--- end of the output ---\npartial\n')).toBe(true);
  });
});

describe('lambdaErrorCause', () => {
  it('builds the envelope Step Functions shows for a thrown error', () => {
    const err = new Error('{"message":"m"}');
    err.name = ExecErrorName.CommandTimedOut;
    const { error, cause } = lambdaErrorCause(err);
    expect(error).toBe(ExecErrorName.CommandTimedOut);
    expect(JSON.parse(cause)).toEqual({
      errorType: 'CommandTimedOut',
      errorMessage: '{"message":"m"}',
      trace: [],
    });
    expect(describeFailure(error, cause).exitCode).toBe(ExitCode.CommandTimedOut);
  });
});
