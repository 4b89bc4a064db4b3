import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageGatewayDouble } from '../../local/agent-double';
import { lookPath } from '../../local/agent-double/lookpath';
import { CounterNonce } from '../../local/agent-double/nonce';
import { ByteQueue, toCrlf } from '../../local/agent-double/pty-runner';
import { Utf8HoldBack, validRuneLength } from '../../local/agent-double/utf8-holdback';

const hex = (bytes: Buffer): string => bytes.toString('hex');

describe('Utf8HoldBack (the agent’s processStdoutData)', () => {
  it.each([
    { name: 'complete ASCII', reads: ['6162'], sent: ['6162'], held: 0 },
    { name: 'a split 3-byte character', reads: ['61e697', 'a562'], sent: ['61', 'e697a562'], held: 0 },
    { name: 'an invalid byte in the middle', reads: ['61ff62636465'], sent: ['61ff62636465'], held: 0 },
    {
      name: 'an invalid byte in the last 3 bytes (held with what follows)',
      reads: ['6162ff6364'],
      sent: ['6162'],
      held: 3,
    },
    { name: 'a lone continuation byte at the end', reads: ['616263646580'], sent: ['6162636465'], held: 1 },
    { name: 'a 4-byte character split 1+3', reads: ['f0', '9f9880'], sent: ['', 'f09f9880'], held: 0 },
    { name: 'a surrogate encoding (invalid)', reads: ['eda080616263'], sent: ['eda080616263'], held: 0 },
  ])('$name', ({ reads, sent, held }) => {
    const holdBack = new Utf8HoldBack();

    const out = reads.map((read) => hex(holdBack.push(Buffer.from(read, 'hex'))));

    expect(out).toEqual(sent);
    expect(holdBack.heldBytes).toBe(held);
  });

  it('keeps a valid U+FFFD unless the fffdBug is on', () => {
    const text = Buffer.from('ab\uFFFDcdef', 'utf8');

    expect(hex(new Utf8HoldBack(false).push(text))).toBe(hex(text));
    expect(hex(new Utf8HoldBack(true).push(text))).toBe('6162ef63646566');
  });

  it('holds back a U+FFFD in the last 3 bytes only with the fffdBug', () => {
    const text = Buffer.from('ab\uFFFD', 'utf8');
    const buggy = new Utf8HoldBack(true);

    expect(hex(new Utf8HoldBack(false).push(text))).toBe(hex(text));
    expect(hex(buggy.push(text))).toBe('6162');
    expect(buggy.heldBytes).toBe(3);
  });

  it('agrees with a strict UTF-8 decoder on which leading sequences are valid', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const samples = [
      'c3a9',
      'e282ac',
      'f09f9880',
      'c0af',
      'e080af',
      'eda080',
      'f4908080',
      'f5808080',
      'c3',
      'e282',
    ];
    for (const sample of samples) {
      const bytes = Buffer.from(sample, 'hex');
      let valid = true;
      try {
        decoder.decode(bytes);
      } catch {
        valid = false;
      }
      expect({ sample, valid: validRuneLength(bytes, 0) === bytes.length }).toEqual({ sample, valid });
    }
  });
});

describe('CounterNonce (the agent’s nonce.go)', () => {
  it('returns the current state, then increments three little-endian words with carry', () => {
    const nonce = new CounterNonce(Buffer.from('ffffffffffffffff00000000', 'hex'));

    expect(hex(nonce.next())).toBe('ffffffffffffffff00000000');
    expect(hex(nonce.next())).toBe('000000000000000001000000');
    expect(hex(nonce.next())).toBe('010000000000000001000000');
  });
});

describe('lookPath (Go exec.Command + LookPath)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lookpath-'));
    writeFileSync(join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(dir, 'data'), 'x', { mode: 0o644 });
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a bare name in PATH and skips non-executables', () => {
    expect(lookPath('tool', `/nonexistent:${dir}`, '/')).toEqual({ path: join(dir, 'tool') });
    expect(lookPath('data', dir, '/')).toEqual({ error: 'exec: "data": executable file not found in $PATH' });
  });

  it('refuses a match through a relative PATH entry (ErrDot)', () => {
    expect(lookPath('tool', '.', dir)).toEqual({
      error: 'exec: "tool": cannot run executable found relative to current directory',
    });
  });

  it('execs a path directly and reports execve’s errno', () => {
    expect(lookPath(join(dir, 'tool'), '', '/')).toEqual({ path: join(dir, 'tool') });
    expect(lookPath('/nonexistent/x', '', '/')).toEqual({
      error: 'fork/exec /nonexistent/x: no such file or directory',
    });
    expect(lookPath(join(dir, 'data'), '', '/')).toEqual({
      error: `fork/exec ${join(dir, 'data')}: permission denied`,
    });
    expect(lookPath(dir, '', '/')).toEqual({ error: `fork/exec ${dir}: permission denied` });
  });
});

describe('pty helpers', () => {
  it('toCrlf turns every LF into CRLF, like ONLCR', () => {
    expect(toCrlf(Buffer.from('a\nb\r\n')).toString()).toBe('a\r\nb\r\r\n');
    const untouched = Buffer.from('no newline');
    expect(toCrlf(untouched)).toBe(untouched);
  });

  it('ByteQueue hands out at most max bytes across chunks and reports EOF', async () => {
    const queue = new ByteQueue();
    const readable = queue.whenReadable();
    queue.push(Buffer.from('abc'));
    queue.push(Buffer.from('defgh'));
    await readable;

    expect(queue.take(4)?.toString()).toBe('abcd');
    expect(queue.take(10)?.toString()).toBe('efgh');
    expect(queue.take(10)).toBeUndefined();
    expect(queue.drained).toBe(false);
    queue.end();
    expect(queue.drained).toBe(true);
  });
});

describe('MessageGatewayDouble.createSession: spec validation', () => {
  let gateway: MessageGatewayDouble;

  beforeAll(async () => {
    gateway = await MessageGatewayDouble.start();
  });

  afterAll(async () => {
    await gateway.close();
  });

  it.each([
    { name: 'neither command nor script', spec: {}, error: TypeError },
    { name: 'both command and script', spec: { command: 'true', script: [] }, error: TypeError },
    { name: 'a negative timing', spec: { script: [], timing: { resendTickMs: -1 } }, error: RangeError },
    { name: 'a zero chunk size', spec: { script: [], timing: { chunkBytes: 0 } }, error: RangeError },
    { name: 'closeAfterFrames 0', spec: { script: [], faults: { closeAfterFrames: 0 } }, error: RangeError },
    {
      name: 'an empty KMS key id',
      spec: { script: [], kms: { keyId: '', targetId: 't' } },
      error: TypeError,
    },
  ])('rejects $name', ({ spec, error }) => {
    expect(() => gateway.createSession(spec)).toThrow(error);
  });

  it('names its sessions like ECS Exec and builds the stream URL from them', () => {
    const session = gateway.createSession({ script: [] });

    expect(session.sessionId).toMatch(/^ecs-execute-command-[0-9a-f]{17}$/);
    expect(session.streamUrl).toBe(
      `${gateway.url}/v1/data-channel/${session.sessionId}?role=publish_subscribe`,
    );
    expect(gateway.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.session(session.sessionId).state).toBe('waiting-for-client');
  });
});
