import fc from 'fast-check';
import type { ExecResult } from '../../lambda/contract';
import {
  CAUSE_LIMIT_CHARS,
  failureMessage,
  fitResult,
  RESULT_LIMIT_BYTES,
  shortenToJsonBytes,
  tail,
} from '../../lambda/result';

const base: ExecResult = {
  exitCode: 0,
  output: '',
  outputBytes: 0,
  truncated: false,
  cluster: 'prod',
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef',
  container: 'app',
  sessionId: 'ecs-execute-command-0123456789abcdef0',
  startedAt: '2026-11-23T00:00:00.000Z',
  durationMs: 1234,
};
const size = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

describe('fitResult', () => {
  it('leaves a small result alone', () => {
    const result = { ...base, output: 'hello\n' };
    expect(fitResult(result)).toBe(result);
  });

  it.each([
    ['control characters (6x when escaped)', '\u0001'.repeat(200_000)],
    ['quotes and backslashes (2x)', '"\\'.repeat(100_000)],
    ['4-byte characters', '😀'.repeat(70_000)],
    ['plain ASCII', 'a'.repeat(300_000)],
  ])('keeps the JSON result under the limit for %s', (_name, output) => {
    const fitted = fitResult({ ...base, output, outputBytes: Buffer.byteLength(output) });
    expect(size(fitted)).toBeLessThanOrEqual(RESULT_LIMIT_BYTES);
    expect(fitted.truncated).toBe(true);
    expect(fitted.output).toMatch(/omitted to fit the Step Functions payload limit/);
    expect(fitted.output.startsWith(output.slice(0, 10))).toBe(true);
    expect(fitted.output.endsWith(output.slice(-10))).toBe(true);
    expect(fitted.output).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('never exceeds the limit, whatever the output (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 5000 }),
        fc.integer({ min: 200, max: 3000 }),
        (output, limit) => {
          const fitted = fitResult({ ...base, output }, limit + size({ ...base, output: '' }));
          expect(size(fitted)).toBeLessThanOrEqual(limit + size({ ...base, output: '' }));
        },
      ),
    );
  });
});

describe('shortenToJsonBytes and tail', () => {
  it('does not split surrogate pairs', () => {
    const text = '😀'.repeat(1000);
    const short = shortenToJsonBytes(text, 500);
    expect(Buffer.byteLength(JSON.stringify(short))).toBeLessThanOrEqual(500);
    expect(short.replace(/\n\[\.\.\. \d+ characters omitted[^\n]*\n/, '')).toMatch(/^(😀)+$/u);
    expect(tail('ab😀', 2)).toBe('😀');
    expect(tail('a😀', 1)).toBe('');
  });
});

describe('failureMessage', () => {
  it('is JSON with the details and the output tail', () => {
    const message = JSON.parse(
      failureMessage('the command exited with code 3', { exitCode: 3 }, 'line1\nline2\n'),
    );
    expect(message).toEqual({
      message: 'the command exited with code 3',
      exitCode: 3,
      outputTail: 'line1\nline2\n',
    });
  });

  it('fits the cause limit even when the output is hostile to escaping', () => {
    const message = failureMessage('exit 1', { exitCode: 1 }, '\u0001"\\'.repeat(50_000));
    const envelope = JSON.stringify({
      errorType: 'NonZeroExit',
      errorMessage: message,
      trace: ['NonZeroExit'],
    });
    expect(envelope.length).toBeLessThanOrEqual(CAUSE_LIMIT_CHARS + 100);
    expect(JSON.parse(message).outputTail.length).toBeGreaterThan(100);
  });
});
