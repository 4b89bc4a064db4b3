/**
 * The detached-job scripts run by /bin/sh directly (no session): they start a job that outlives
 * the starting shell, read its output exactly from any offset, stop its process group, clean up.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  decodeChunk,
  parsePollReport,
  parseStartReport,
  parseStopReport,
} from '../../lambda/detach/poll-parse';
import {
  buildCleanupScript,
  buildPollScript,
  buildStartScript,
  buildStopScript,
  ChunkEncoding,
  jobDirectory,
} from '../../lambda/detach/scripts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'detach-scripts-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function sh(script: string, stdin = '', env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync('/bin/sh', ['-c', script], { input: stdin, env, encoding: 'latin1' });
  return result.stdout;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('detached-job scripts', () => {
  it('starts a job with the given stdin, records its exit status, and reads its raw bytes exactly', async () => {
    const dir = jobDirectory(root, 'job1');
    const command = "cat; printf 'a\\r\\n\\000\\377'; echo err >&2; exit 7";
    const start = parseStartReport(
      sh(buildStartScript({ jobsDirectory: root, jobId: 'job1', command }), 'in put'),
    );
    expect(start).toMatchObject({ kind: 'running', existing: false, mode: 'setsid' });

    await until(() => existsSync(path.join(dir, 'exit')), 'the exit file');
    const expected = Buffer.from('in puta\r\n\u0000\xffern\n'.replace('ern', 'err'), 'latin1');
    expect(readFileSync(path.join(dir, 'out'))).toEqual(expected);

    const first = await parsePollReport(sh(buildPollScript({ directory: dir, offset: 0, maxBytes: 5 })));
    expect(first).toMatchObject({ kind: 'present', exitCode: 7, size: expected.length, alive: false });
    const second = await parsePollReport(sh(buildPollScript({ directory: dir, offset: 5, maxBytes: 1000 })));
    expect(
      second.kind === 'present' &&
        Buffer.concat([first.kind === 'present' ? first.chunk : Buffer.alloc(0), second.chunk]),
    ).toEqual(expected);

    expect(
      parseStartReport(sh(buildStartScript({ jobsDirectory: root, jobId: 'job1', command }))),
    ).toMatchObject({
      kind: 'running',
      existing: true,
      pid: start.kind === 'running' ? start.pid : -1,
    });
    sh(buildCleanupScript(dir));
    expect(existsSync(dir)).toBe(false);
    expect(await parsePollReport(sh(buildPollScript({ directory: dir, offset: 0, maxBytes: 5 })))).toEqual({
      kind: 'gone',
    });
  });

  it('stops the whole process group with TERM, and KILLs what ignores it after the grace', async () => {
    const command = "trap '' TERM; sleep 30 & sleep 30";
    const start = parseStartReport(sh(buildStartScript({ jobsDirectory: root, jobId: 'job2', command })));
    if (start.kind !== 'running') throw new Error('not started');
    const dir = jobDirectory(root, 'job2');
    expect(
      await parsePollReport(sh(buildPollScript({ directory: dir, offset: 0, maxBytes: 10 }))),
    ).toMatchObject({
      alive: true,
      groupAlive: true,
      exitCode: null,
    });

    expect(parseStopReport(sh(buildStopScript({ directory: dir, graceSeconds: 1 })))).toEqual({
      gone: false,
      killed: true,
    });
    await until(() => !alive(start.pid), 'the job to die');
    expect(spawnSync('/bin/sh', ['-c', `kill -0 -${start.pgid}`]).status).not.toBe(0);
    expect(
      await parsePollReport(sh(buildPollScript({ directory: dir, offset: 0, maxBytes: 10 }))),
    ).toMatchObject({
      alive: false,
      groupAlive: false,
      stopRequested: true,
    });
  });

  it('names the directory when it cannot be written', () => {
    writeFileSync(path.join(root, 'file'), '');
    const report = parseStartReport(
      sh(buildStartScript({ jobsDirectory: path.join(root, 'file'), jobId: 'x', command: 'true' })),
    );
    expect(report).toEqual({ kind: 'error', error: 'not-writable', directory: path.join(root, 'file') });
  });

  it.each([
    ['zstd+base64', ['zstd', 'base64', 'od']],
    ['gzip+base64', ['gzip', 'base64', 'od']],
    ['base64', ['base64', 'od']],
    ['hex', ['od']],
  ])('reads the bytes exactly with %s when that is the best the container has', async (encoding, tools) => {
    const dir = jobDirectory(root, 'enc');
    sh(buildStartScript({ jobsDirectory: root, jobId: 'enc', command: "printf 'a\\r\\n\\000\\377z'" }));
    await until(() => existsSync(path.join(dir, 'exit')), 'the exit file');
    const bin = path.join(root, 'bin');
    const basics = ['sh', 'cat', 'wc', 'tail', 'head', 'kill', 'sleep', 'mkdir'];
    sh(
      `mkdir ${bin} && for t in ${[...basics, ...tools].join(' ')}; do ln -s "$(command -v $t)" ${bin}/$t; done`,
    );

    const output = sh(buildPollScript({ directory: dir, offset: 1, maxBytes: 100 }), '', { PATH: bin });

    expect(output).toContain(`enc=${encoding} `);
    expect(await parsePollReport(output)).toMatchObject({
      chunk: Buffer.from('\r\n\u0000\xffz', 'latin1'),
      exitCode: 0,
    });
  });

  it('falls back to hex with od, and reports no encoder when none exists', async () => {
    expect(await decodeChunk(' 00 ff 0d\n0a', ChunkEncoding.Hex)).toEqual(Buffer.from([0, 0xff, 0x0d, 0x0a]));
    const dir = jobDirectory(root, 'job3');
    sh(buildStartScript({ jobsDirectory: root, jobId: 'job3', command: 'printf x' }));
    const bin = path.join(root, 'bin');
    sh(
      `mkdir ${bin} && for t in cat wc tail head kill mkdir sleep rm; do ln -s "$(command -v $t)" ${bin}/$t; done`,
    );
    expect(
      await parsePollReport(
        sh(buildPollScript({ directory: dir, offset: 0, maxBytes: 10 }), '', { PATH: bin }),
      ),
    ).toEqual({ kind: 'no-encoder' });
  });
});
