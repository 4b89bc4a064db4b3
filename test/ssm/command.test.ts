import { spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn as spawnPty } from '@lydell/node-pty';
import fc from 'fast-check';
import {
  type BuildCommandOptions,
  buildCommand,
  DEFAULT_SHELL_PATH,
  newMarkerNonce,
  type PreparedCommand,
  quoteShlexWord,
  WRAPPER_NAME,
} from '../../lambda/ssm/command';
import { EXIT_MARKER_PREFIX } from '../../lambda/ssm/exit-marker';
import { BoundedOutputSink, OutputAssembler } from '../../lambda/ssm/output';
import { HEADER_PREFIX, HeaderReader } from '../../lambda/ssm/transfer/header';
import type { Transfer } from '../../lambda/ssm/transfer/modes';
import { MAX_STDIN_BYTES } from '../../lambda/ssm/wrapper/input';
import { shlexSplit } from '../../local/shlex';

const NONCE = '0123456789abcdef0123456789abcdef';
const OTHER_NONCE = 'fedcba9876543210fedcba9876543210';
const FAKE_HOME = '/nonexistent/fake-home';
const OUTPUT_LIMIT_BYTES = 1024 * 1024;
/** Only a guard against a hung child; no assertion depends on time. */
const HANG_GUARD_MS = 15_000;
const TEST_ENV = { ...process.env, HOME: FAKE_HOME, LANG: 'C.UTF-8', TERM: 'xterm-256color' };

interface RunResult {
  readonly output: string;
  readonly exitCode: number | null;
  readonly transfer: Transfer;
  readonly raw: Buffer;
  readonly stderr: string;
}

interface AssembleOptions {
  readonly normalizeNewlines?: boolean;
  readonly stripAnsi?: boolean;
}

async function assembleOutput(
  prepared: PreparedCommand,
  chunks: readonly Buffer[],
  options: AssembleOptions,
) {
  const sink = new BoundedOutputSink(OUTPUT_LIMIT_BYTES);
  const assembler = new OutputAssembler({ nonce: prepared.marker, sink, ...options });
  for (const chunk of chunks) assembler.push(chunk);
  const { exitCode, transfer } = await assembler.finish();
  return { output: sink.text(), exitCode, transfer };
}

/**
 * Splits the command as the agent does and execs argv directly (no shell), like the agent, with
 * stdout as a pipe. stdin stays open and never sends EOF, as the agent's pty would.
 */
async function runDirect(prepared: PreparedCommand, options: AssembleOptions = {}): Promise<RunResult> {
  const [file, ...args] = shlexSplit(prepared.command);
  const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: TEST_ENV });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  let hung = false;
  const guard = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, HANG_GUARD_MS);
  try {
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', () => resolve());
    });
    if (hung) throw new Error(`command hung: ${prepared.command}`);
  } finally {
    clearTimeout(guard);
    child.stdin.destroy();
  }
  const raw = Buffer.concat(stdout);
  return {
    ...(await assembleOutput(prepared, [raw], options)),
    raw,
    stderr: Buffer.concat(stderr).toString(),
  };
}

/**
 * Reading a pty from Node loses its tail: libuv takes POLLHUP after a short read as EOF, and a pty
 * master never returns more than 4095 bytes per read, so once the last process closes the slave
 * the bytes still buffered are dropped (and node-pty also destroys its stream 200 ms after the
 * child exits). The agent reads to EIO in Go and loses nothing (spec §7.1). So the harness holds
 * the slave open itself, waits for the child to exit, writes an end sentinel through the slave
 * (it queues behind everything already written) and reads until it sees that sentinel.
 */
const PTY_END_SENTINEL = Buffer.from('\0\u0001ecs-exec-runner-test-end\u0001\0');
const EXIT_POLL_MS = 5;

interface PtyInternals {
  /** The slave's path, e.g. /dev/pts/3. */
  readonly _pty?: string;
  readonly _socket?: { destroy(error?: Error): unknown };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false; // node-pty reaps its child at once, so a dead child is gone
  }
}

/** Same, but on a real pty (ONLCR, merged stderr, isatty), which is what the agent gives the command. */
async function runInPty(prepared: PreparedCommand, options: AssembleOptions = {}): Promise<RunResult> {
  const [file, ...args] = shlexSplit(prepared.command);
  const terminal = spawnPty(file!, args, {
    name: 'xterm-256color',
    cols: 80,
    rows: 24,
    env: TEST_ENV,
    encoding: null,
  });
  const { _pty: slavePath, _socket: socket } = terminal as unknown as PtyInternals;
  if (slavePath === undefined || socket === undefined) {
    throw new Error('node-pty internals changed: no _pty or _socket');
  }
  const slave = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
  const destroy = socket.destroy.bind(socket);
  let sawSentinel = false;
  socket.destroy = (error?: Error) => (error !== undefined || sawSentinel ? destroy(error) : socket);

  const chunks: Buffer[] = [];
  let tail = Buffer.alloc(0);
  let onSentinel = (): void => {};
  // The wrapper's input goes once its header says the pty is raw, as the session runner does it.
  const header =
    prepared.input !== null && prepared.marker !== null ? new HeaderReader(prepared.marker) : null;
  let inputSent = false;
  // With `encoding: null` node-pty delivers Buffers, although its typings say string.
  terminal.onData((data: string | Buffer) => {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
    chunks.push(chunk);
    if (header !== null && !inputSent) {
      header.push(chunk);
      inputSent = header.status.kind !== 'pending';
      if (header.status.kind === 'ready') terminal.write(prepared.input as unknown as string);
    }
    tail = Buffer.concat([tail, chunk]).subarray(-PTY_END_SENTINEL.length);
    if (tail.equals(PTY_END_SENTINEL)) onSentinel();
  });
  try {
    const deadline = Date.now() + HANG_GUARD_MS;
    while (isAlive(terminal.pid)) {
      if (Date.now() > deadline) {
        terminal.kill('SIGKILL');
        throw new Error(`command hung in the pty: ${prepared.command}`);
      }
      await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
    }
    await new Promise<void>((resolve) => {
      onSentinel = resolve;
      writeSync(slave, PTY_END_SENTINEL);
    });
    sawSentinel = true;
  } finally {
    closeSync(slave);
    sawSentinel = true;
    socket.destroy();
  }
  const all = Buffer.concat(chunks);
  const raw = all.subarray(0, all.length - PTY_END_SENTINEL.length);
  return { ...(await assembleOutput(prepared, [raw], options)), raw, stderr: '' };
}

// ---------------------------------------------------------------------------------------------

describe('quoteShlexWord', () => {
  const trickyUnit = fc.oneof(
    fc.constantFrom(
      "'",
      '"',
      '\\',
      '#',
      ' ',
      '\t',
      '\r',
      '\n',
      '$',
      '`',
      '!',
      '*',
      ';',
      '|',
      '&',
      '~',
      '\u00a0',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)), // lone surrogates
  );
  const wordArb = fc
    .oneof(fc.string({ unit: 'binary' }), fc.string({ unit: trickyUnit }), fc.string({ unit: 'grapheme' }))
    .filter((word) => !word.includes('\0'));

  it('round-trips any string without NUL through shlexSplit (property)', () => {
    fc.assert(
      fc.property(wordArb, (word) => {
        const quoted = quoteShlexWord(word);
        expect(shlexSplit(quoted)).toEqual([word]);
        expect(quoted.startsWith('#')).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips several words joined by spaces (property)', () => {
    fc.assert(
      fc.property(fc.array(wordArb, { maxLength: 6 }), (words) => {
        expect(shlexSplit(words.map(quoteShlexWord).join(' '))).toEqual(words);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    { word: 'sh', quoted: 'sh' },
    { word: '/bin/sh', quoted: '/bin/sh' },
    { word: '', quoted: "''" },
    { word: '#x', quoted: "'#x'" },
    { word: "it's", quoted: "'it'\\''s'" },
    { word: 'a b', quoted: "'a b'" },
  ])('quotes $word as $quoted', ({ word, quoted }) => {
    expect(quoteShlexWord(word)).toBe(quoted);
  });

  it('rejects NUL with a RangeError naming it', () => {
    expect(() => quoteShlexWord('a\0b')).toThrow(RangeError);
    expect(() => quoteShlexWord('a\0b')).toThrow(/NUL/);
  });
});

describe('newMarkerNonce', () => {
  it('returns 128 random bits as hex', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => newMarkerNonce()));
    expect(nonces.size).toBe(50);
    for (const nonce of nonces) expect(nonce).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('buildCommand', () => {
  it('passes a raw command through unchanged, without a marker', () => {
    const command = `echo "a b" 'c' # comment`;
    expect(buildCommand(command, { shell: false, tty: true })).toEqual({
      command,
      marker: null,
      input: null,
    });
  });

  it.each([
    {
      name: 'stdin in raw mode',
      command: 'cat',
      options: { shell: false, tty: true, stdin: 'x' },
      message: /stdin/,
    },
    {
      name: 'an empty raw command',
      command: ' \t',
      options: { shell: false, tty: true },
      message: /no words/,
    },
    {
      name: 'a comment-only raw command',
      command: '# x\n',
      options: { shell: false, tty: true },
      message: /no words/,
    },
    {
      name: 'an empty shell command',
      command: '  \n',
      options: { shell: true, tty: true },
      message: /empty/,
    },
    {
      name: 'NUL in the command',
      command: 'a\0b',
      options: { shell: true, tty: true },
      message: /^command contains a NUL/,
    },
    {
      name: 'a lone surrogate in the command',
      command: 'echo \ud800',
      options: { shell: true, tty: true },
      message: /surrogate/,
    },
    {
      name: 'a lone surrogate in stdin',
      command: 'cat',
      options: { shell: true, tty: true, stdin: '\udc00' },
      message: /stdin.*surrogate/,
    },
    {
      name: 'a bad nonce',
      command: 'true',
      options: { shell: true, tty: true, nonce: 'x y' },
      message: /nonce/,
    },
    {
      name: 'zero columns',
      command: 'true',
      options: { shell: true, tty: true, terminalSize: { cols: 0, rows: 5 } },
      message: /cols/,
    },
    {
      name: 'too many rows',
      command: 'true',
      options: { shell: true, tty: true, terminalSize: { cols: 5, rows: 70_000 } },
      message: /rows/,
    },
    {
      name: 'stdin over its limit',
      command: 'cat',
      options: { shell: true, tty: false, stdin: Buffer.alloc(MAX_STDIN_BYTES + 1) },
      message: new RegExp(`^stdin is ${MAX_STDIN_BYTES + 1} bytes`),
    },
    {
      name: 'an environment in raw mode',
      command: 'env',
      options: { shell: false, tty: true, environment: { A: '1' } },
      message: /environment needs shell mode/,
    },
    {
      name: 'a bad environment name',
      command: 'env',
      options: { shell: true, tty: false, environment: { 'A-B': 'secret-value' } },
      message: /"A-B" is not a POSIX name/,
    },
    {
      name: 'a NUL in an environment value',
      command: 'env',
      options: { shell: true, tty: false, environment: { A: 'x\0y' } },
      message: /value of A contains a NUL/,
    },
    {
      name: 'a user name with a space',
      command: 'id',
      options: { shell: true, tty: false, user: 'a b' },
      message: /^user must be/,
    },
    {
      name: 'an empty working directory',
      command: 'pwd',
      options: { shell: true, tty: false, workingDirectory: '' },
      message: /workingDirectory must not be empty/,
    },
    {
      name: 'an unknown transfer',
      command: 'true',
      options: { shell: true, tty: false, transfer: 'brotli' },
      message: /transfer must be one of/,
    },
  ])('rejects $name with a RangeError', ({ command, options, message }) => {
    const build = () => buildCommand(command, options as BuildCommandOptions);
    expect(build).toThrow(RangeError);
    expect(build).toThrow(message);
  });

  it('wraps a shell command so the agent execs sh with the user command as an argument', () => {
    const prepared = buildCommand('echo hi', { shell: true, tty: true, stdin: 'in', nonce: NONCE });
    const argv = shlexSplit(prepared.command);
    expect(prepared.marker).toBe(NONCE);
    expect(argv).toHaveLength(5);
    expect(argv.slice(0, 2)).toEqual([DEFAULT_SHELL_PATH, '-c']);
    expect(argv.slice(3)).toEqual([WRAPPER_NAME, 'echo hi']);
    expect(prepared.input).toEqual(Buffer.from('in'));
    expect(argv[2]).toContain('stty cols 200 rows 50');
    // The marker text itself never appears in the command line (nor in `ps` inside the container).
    expect(prepared.command).not.toContain(`${EXIT_MARKER_PREFIX}${NONCE}`);
  });

  it('sets the requested terminal size, and none without a tty', () => {
    const sized = buildCommand('true', { shell: true, tty: true, terminalSize: { cols: 123, rows: 45 } });
    expect(shlexSplit(sized.command)[2]).toContain('stty cols 123 rows 45');
    const piped = buildCommand('true', { shell: true, tty: false });
    expect(shlexSplit(piped.command)[2]).not.toContain('stty cols');
    expect(piped.marker).toMatch(/^[0-9a-f]{32}$/);
  });

  it('delivers any command as an exact argument, and stdin and environment only as input (property)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
    const secret = text.map((s) => `S3CR3T-${s}`);
    fc.assert(
      fc.property(
        text.filter((s) => /\S/.test(s)),
        fc.option(secret, { nil: undefined }),
        fc.option(secret, { nil: undefined }),
        fc.boolean(),
        (command, stdin, value, tty) => {
          const environment = value === undefined ? undefined : { SECRET_VALUE: value };
          const prepared = buildCommand(command, { shell: true, tty, stdin, environment });
          expect(shlexSplit(prepared.command).slice(4)).toEqual([command]);
          expect(prepared.command).not.toContain('S3CR3T-');
          expect(prepared.command).not.toContain('SECRET_VALUE');
          if (stdin !== undefined) expect(prepared.input?.toString('utf8').endsWith(stdin)).toBe(true);
          if (stdin === undefined && value === undefined) expect(prepared.input).toBeNull();
        },
      ),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// End to end without ECS: the agent's split, a direct exec, and the output pipeline.

/** The shells a container's /bin/sh is likely to be, as far as this machine has them. */
function availableShells(): Array<{ name: string; path: string }> {
  const shells = [{ name: `/bin/sh (${realpathSync('/bin/sh')})`, path: '/bin/sh' }];
  if (existsSync('/bin/bash')) shells.push({ name: 'bash', path: '/bin/bash' });
  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((path) => existsSync(path));
  if (busybox !== undefined) {
    // busybox picks its applet from argv[0], so it runs as `sh` through a link of that name.
    const dir = mkdtempSync(join(tmpdir(), 'ecs-exec-runner-busybox-'));
    symlinkSync(busybox, join(dir, 'sh'));
    shells.push({ name: 'busybox ash', path: join(dir, 'sh') });
  }
  return shells;
}

const SHELLS = availableShells();

afterAll(() => {
  for (const shell of SHELLS) {
    if (shell.path.includes('ecs-exec-runner-busybox-')) rmSync(join(shell.path, '..'), { recursive: true });
  }
});

interface E2ECase {
  readonly name: string;
  readonly command: string;
  readonly stdin?: string;
  readonly environment?: Readonly<Record<string, string>>;
  readonly output: string;
  readonly exitCode: number | null;
}

const STDIN_TEXT = `line1\n'single' "double" \\ $HOME \`x\` 日本語 🎉\n\n\tno trailing newline`;

const E2E_CASES: readonly E2ECase[] = [
  {
    name: 'single and double quotes',
    command: `echo 'single quoted' "double quoted" "it's" 'say "hi"'`,
    output: `single quoted double quoted it's say "hi"\n`,
    exitCode: 0,
  },
  {
    name: 'backslashes',
    command: String.raw`printf '%s\n' 'a\b' "c\\d" e\\f`,
    output: `${String.raw`a\b`}\n${String.raw`c\d`}\n${String.raw`e\f`}\n`,
    exitCode: 0,
  },
  {
    name: '$HOME expanded or literal as written',
    command: String.raw`echo "$HOME" '$HOME' \$HOME`,
    output: `${FAKE_HOME} $HOME $HOME\n`,
    exitCode: 0,
  },
  {
    name: '# as text and as a comment',
    command: `echo a#b '#quoted' # a comment`,
    output: 'a#b #quoted\n',
    exitCode: 0,
  },
  { name: 'a command that is only a comment', command: '# nothing to do', output: '', exitCode: 0 },
  {
    name: 'newlines in the command',
    command: 'echo one\necho two\n\necho "three\nfour"',
    output: 'one\ntwo\nthree\nfour\n',
    exitCode: 0,
  },
  { name: 'non-ASCII text', command: 'echo 日本語 🎉 "ünïcödé"', output: '日本語 🎉 ünïcödé\n', exitCode: 0 },
  { name: 'exit 3', command: 'echo before; exit 3', output: 'before\n', exitCode: 3 },
  { name: 'exit 255', command: 'exit 255', output: '', exitCode: 255 },
  { name: 'a failing command', command: 'false', output: '', exitCode: 1 },
  { name: 'death by SIGKILL', command: 'echo partial; kill -9 $$', output: 'partial\n', exitCode: 137 },
  { name: 'death by SIGTERM', command: 'kill -TERM $$', output: '', exitCode: 143 },
  {
    name: 'output without a trailing newline',
    command: `printf 'no newline'`,
    output: 'no newline',
    exitCode: 0,
  },
  { name: 'output ending in blank lines', command: String.raw`printf 'x\n\n'`, output: 'x\n\n', exitCode: 0 },
  { name: 'empty output', command: 'true', output: '', exitCode: 0 },
  {
    name: 'stderr merged in order',
    command: 'echo out1; echo err1 >&2; echo out2',
    output: 'out1\nerr1\nout2\n',
    exitCode: 0,
  },
  {
    name: 'a fake marker with another nonce',
    command: String.raw`printf '\n${EXIT_MARKER_PREFIX}${OTHER_NONCE}:5\n'`,
    output: `\n${EXIT_MARKER_PREFIX}${OTHER_NONCE}:5\n`,
    exitCode: 0,
  },
  {
    name: 'the marker prefix in the output',
    command: `echo ${EXIT_MARKER_PREFIX}; echo ${EXIT_MARKER_PREFIX}${NONCE}:`,
    output: `${EXIT_MARKER_PREFIX}\n${EXIT_MARKER_PREFIX}${NONCE}:\n`,
    exitCode: 0,
  },
  {
    name: 'an exact copy of the real marker as the last output',
    command: String.raw`printf '\n${EXIT_MARKER_PREFIX}${NONCE}:0\n'; exit 7`,
    output: `\n${EXIT_MARKER_PREFIX}${NONCE}:0\n`,
    exitCode: 7,
  },
  { name: 'stdin byte for byte', command: 'cat', stdin: STDIN_TEXT, output: STDIN_TEXT, exitCode: 0 },
  {
    name: 'stdin byte count',
    command: `wc -c | tr -d ' '`,
    stdin: 'héllo\n',
    output: `${Buffer.byteLength('héllo\n')}\n`,
    exitCode: 0,
  },
  { name: 'empty stdin', command: `wc -c | tr -d ' '`, stdin: '', output: '0\n', exitCode: 0 },
  {
    name: 'environment values byte for byte, with stdin',
    command: `printf '%s|%s|' "$ONE" "$TWO"; cat`,
    stdin: 'in',
    environment: { ONE: `it's "q" \\ $HOME \`x\` 日本\n`, TWO: '' },
    output: `it's "q" \\ $HOME \`x\` 日本\n||in`,
    exitCode: 0,
  },
  {
    name: 'an environment without stdin',
    command: 'printf "%s" "$ONLY"; cat',
    environment: { ONLY: 'value' },
    output: 'value',
    exitCode: 0,
  },
  {
    name: 'stdin the command does not read',
    command: 'echo ignored; exit 4',
    stdin: 'x'.repeat(100_000),
    output: 'ignored\n',
    exitCode: 4,
  },
  { name: 'reading stdin when none is given', command: 'cat; echo done', output: 'done\n', exitCode: 0 },
  {
    name: 'the read builtin without stdin',
    command: 'read line; echo "got [$line] rc=$?"',
    output: 'got [] rc=1\n',
    exitCode: 0,
  },
  {
    name: 'no terminal with tty=false',
    command: '[ -t 1 ] && echo tty1 || echo notty1; [ -t 2 ] && echo tty2 || echo notty2',
    output: 'notty1\nnotty2\n',
    exitCode: 0,
  },
];

describe.each(SHELLS)('end to end through $name, tty=false, direct exec', ({ path }) => {
  it.each(E2E_CASES)('runs $name', async ({ command, stdin, environment, output, exitCode }) => {
    // Prepare
    const prepared = buildCommand(command, {
      shell: true,
      tty: false,
      stdin,
      environment,
      nonce: NONCE,
      shellPath: path,
    });

    // Act: stdin needs the pty (the wrapper makes it raw to read it), everything else runs on a pipe.
    const result = prepared.input === null ? await runDirect(prepared) : await runInPty(prepared);

    // Assess
    expect(result.output).toBe(output);
    expect(result.exitCode).toBe(exitCode);
    expect(result.stderr).toBe('');
  });

  it('reports no exit code when the wrapper dies, and keeps the output', async () => {
    const prepared = buildCommand('echo partial; kill -9 $PPID', {
      shell: true,
      tty: false,
      shellPath: path,
    });
    const result = await runDirect(prepared);
    expect(result).toMatchObject({ output: 'partial\n', exitCode: null });
    expect(result.raw.toString()).not.toContain(EXIT_MARKER_PREFIX);
  });

  it('runs the tty=true wrapper too', async () => {
    const prepared = buildCommand('echo "$1-less"; printf %s "$(cat)"; exit 5', {
      shell: true,
      tty: true,
      stdin: 'in\nput',
      shellPath: path,
    });
    const result = await runInPty(prepared);
    expect(result).toMatchObject({ output: '-less\nin\nput', exitCode: 5, stderr: '' });
  });
});

describe.each([true, false])('end to end on a real pty (tty=%s)', (tty) => {
  const prepare = (command: string, extra: Partial<BuildCommandOptions> = {}): PreparedCommand =>
    buildCommand(command, { shell: true, tty, nonce: NONCE, ...extra });

  it('sees a terminal on stdout and stderr only with tty=true, and never on stdin', async () => {
    const result = await runInPty(
      prepare(
        '[ -t 0 ] && echo in-tty || echo in-notty; [ -t 1 ] && echo out-tty || echo out-notty; ' +
          '[ -t 2 ] && echo err-tty || echo err-notty',
      ),
    );
    const expected = tty ? 'in-notty\nout-tty\nerr-tty\n' : 'in-notty\nout-notty\nerr-notty\n';
    expect(result).toMatchObject({ output: expected, exitCode: 0 });
  });

  it('on the plain path gets CRLF from the pty with a tty (LF after normalising), and LF without', async () => {
    const prepared = prepare(String.raw`printf 'a\nb\n'`, { transfer: 'plain' });
    const result = await runInPty(prepared);
    const eol = tty ? '\r\n' : '\n';
    expect(result.transfer).toBe('plain');
    expect(result.raw.toString()).toContain(`a${eol}b${eol}`);
    expect(result.raw.toString()).toContain(`${eol}${EXIT_MARKER_PREFIX}${NONCE}:0${eol}`);
    expect(result.output).toBe('a\nb\n');
    const kept = await runInPty(prepared, { normalizeNewlines: false });
    expect(kept.output).toBe(`a${eol}b${eol}`);
  });

  it('picks zstd when the container has it, unless there is a tty', async () => {
    const result = await runInPty(prepare(String.raw`printf 'a\r\nb\0'`));
    expect(result).toMatchObject({ transfer: tty ? 'plain' : 'zstd', exitCode: 0 });
    expect(result.output).toBe('a\r\nb\0');
  });

  it('merges stderr in order', async () => {
    const result = await runInPty(prepare('echo out1; echo err1 >&2; echo out2'));
    expect(result.output).toBe('out1\nerr1\nout2\n');
  });

  it('delivers stdin byte for byte without echoing it', async () => {
    const result = await runInPty(prepare('cat', { stdin: STDIN_TEXT }));
    expect(result).toMatchObject({ output: STDIN_TEXT, exitCode: 0 });
    // Once, from cat, on the plain tty path; not even that in the base64 of the compressed path.
    expect(result.raw.toString().split('no trailing newline')).toHaveLength(tty ? 2 : 1);
  });

  it('does not hang on a command that reads stdin when none is given', async () => {
    const result = await runInPty(prepare('cat; echo done'));
    expect(result).toMatchObject({ output: 'done\n', exitCode: 0 });
  });

  it.each([
    { command: 'echo before; exit 3', output: 'before\n', exitCode: 3 },
    { command: 'echo partial; kill -9 $$', output: 'partial\n', exitCode: 137 },
    {
      command: String.raw`printf '\n${EXIT_MARKER_PREFIX}${NONCE}:0\n'; exit 7`,
      output: `\n${EXIT_MARKER_PREFIX}${NONCE}:0\n`,
      exitCode: 7,
    },
  ])('reports the exit code of `$command`', async ({ command, output, exitCode }) => {
    expect(await runInPty(prepare(command))).toMatchObject({ output, exitCode });
  });

  it('delivers a large output completely, with the exit code after it', async () => {
    const expected = Array.from({ length: 20_000 }, (_, index) => `${index + 1}\n`).join('');
    const result = await runInPty(prepare('seq 1 20000; exit 6'));
    expect(result.output.length).toBe(expected.length);
    expect(result.output === expected).toBe(true);
    expect(result.exitCode).toBe(6);
  });

  it('strips colours when asked to', async () => {
    const result = await runInPty(prepare(String.raw`printf '\033[1;31mred\033[0m plain\n'`), {
      stripAnsi: true,
    });
    expect(result.output).toBe('red plain\n');
  });
});

describe('end to end on a real pty (terminal size and raw mode)', () => {
  it('sets the default and a requested terminal size with tty=true', async () => {
    const command = 'stty size </dev/tty';
    const byDefault = await runInPty(buildCommand(command, { shell: true, tty: true }));
    expect(byDefault).toMatchObject({ output: '50 200\n', exitCode: 0 });
    const sized = await runInPty(
      buildCommand(command, { shell: true, tty: true, terminalSize: { cols: 123, rows: 45 } }),
    );
    expect(sized).toMatchObject({ output: '45 123\n', exitCode: 0 });
  });

  it('reports no exit code when the wrapper itself is killed', async () => {
    // The command's parent is the wrapper's subshell; its parent is the wrapper.
    const command = `echo partial; kill -9 $(cut -d' ' -f4 /proc/$PPID/stat)`;
    const result = await runInPty(buildCommand(command, { shell: true, tty: true }));
    expect(result).toMatchObject({ output: 'partial\n', exitCode: null });
  });

  it('refuses to switch user when the container does not run as root', async () => {
    const prepared = buildCommand('echo never', { shell: true, tty: false, user: 'root', nonce: NONCE });
    // The agent runs the wrapper as the container's user: here `nobody`.
    const asNobody = {
      ...prepared,
      command: `setpriv --reuid=65534 --regid=65534 --clear-groups ${prepared.command}`,
    };
    const result = await runInPty(asNobody);
    expect(result.raw.toString()).toBe(`${HEADER_PREFIX}${NONCE}:!not-root\r\n`);
    expect(result.exitCode).toBeNull();
  });

  it('runs a raw command split by shlex, without a shell or an exit code', async () => {
    const prepared = buildCommand(`printf '%s|' "a b" 'c d' $HOME`, { shell: false, tty: true });
    const result = await runInPty(prepared);
    expect(result).toMatchObject({ output: 'a b|c d|$HOME|', exitCode: null });
  });
});
