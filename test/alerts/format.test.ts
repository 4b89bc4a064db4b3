import { formatAlert, OUTPUT_TAIL_LINES, SUBJECT_MAX_CHARS } from '../../lambda/alerts/format';
import { aborted, fanOutTasksFailed, runtimeError, scheduledNonZeroExit, timedOut } from './samples';

describe('alert messages', () => {
  it('says what failed, where, which command, its exit code and output end, and links the execution', () => {
    const { subject, message } = formatAlert(scheduledNonZeroExit);
    expect(subject).toBe(
      'ecs-exec-runner: NonZeroExit (nightly-migrate) bin/rails db:migrate (+1 more lines)',
    );
    const lines = message.split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'RunnerRunCommandStateMachineE1A2B3C4: execution FAILED with NonZeroExit',
      'the command exited with code 3',
    ]);
    expect(message).toContain('Schedule:   nightly-migrate\n');
    expect(message).toContain(
      'Target:     cluster prod, service web, task 0123456789abcdef0123456789abcdef, container app\n',
    );
    expect(message).toContain('Command:    bin/rails db:migrate (+1 more lines)\n');
    expect(message).toContain('Exit code:  3\n');
    expect(message).toContain('Started:    2026-12-07T03:00:00.123Z\n');
    expect(message).toContain(
      'Console:    https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:RunnerRunCommandStateMachineE1A2B3C4:9f5e6c1a-1b2c-4d5e-8f90-a1b2c3d4e5f6\n',
    );
    const tail = message.split('--- end of the output ---\n')[1] ?? '';
    expect(tail.trimEnd().split('\n')).toHaveLength(OUTPUT_TAIL_LINES);
    expect(tail).toMatch(/migrating batch 30\nERROR: disk full\n$/);
  });

  it('names a timeout and an abort, which carry no error of their own', () => {
    const timeout = formatAlert(timedOut);
    expect(timeout.subject).toBe('ecs-exec-runner: States.Timeout sleep 7200');
    expect(timeout.message).toMatch(
      /^RunnerRunCommandStateMachineE1A2B3C4: execution TIMED_OUT with States.Timeout\n/,
    );
    expect(timeout.message).toContain('Target:     cluster prod, task 0123456789abcdef0123456789abcdef\n');
    expect(timeout.message).not.toContain('Schedule:');
    expect(timeout.message).not.toContain('--- end of the output ---');
    const abort = formatAlert(aborted);
    expect(abort.subject).toBe('ecs-exec-runner: Aborted df -h');
    expect(abort.message).toContain('Target:     service web\n');
  });

  it('lists the failed tasks of a fan-out from its summary', () => {
    const { subject, message } = formatAlert(fanOutTasksFailed);
    expect(subject).toBe('ecs-exec-runner: TasksFailed hostname');
    expect(message).toContain('total: 300\nsucceeded: 299\nfailed: 1\nfailedTasks:\n');
    expect(message).toContain(
      '  arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef  NonZeroExit\n',
    );
    expect(message).toContain('resultsLocation: s3://outputs/exec-output/fan-out/results/fan-out-7/');
  });

  it('keeps a subject SNS accepts (ASCII, one line, at most 100 characters) and a long cause short', () => {
    const { subject, message } = formatAlert(runtimeError);
    expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX_CHARS);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(message.length).toBeLessThan(2000);
    expect(message).toContain('Command:    😀 ünïcödé\n');
  });
});
