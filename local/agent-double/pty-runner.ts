/**
 * Where the agent double's output comes from: a real command on a pseudo-terminal, started the way
 * the agent starts it in ECS container mode (ssm-protocol.md §1: shlex split, PATH lookup, exec
 * without a shell, TERM=xterm-256color, LANG=C.UTF-8 when unset), or a script of canned output.
 *
 * Deviations from the agent, on purpose, both to never lose a command's last output:
 * - The pty is read eagerly into an in-memory queue, and the output pump applies the agent's read
 *   rules (1 s initial sleep, ≤ 1 KiB reads, no reads while paused) to that queue. node-pty closes
 *   a pty 200 ms after its child exits whether it was read or not, so leaving bytes in the kernel
 *   (as the agent does) would lose them. The price: a child never blocks on a full pty.
 * - The double holds the pty's slave side open itself. On Linux, node-pty (libuv) drops the last
 *   unread bytes when the slave side hangs up (microsoft/node-pty#72, #85, #726); with a slave fd
 *   held, no hang-up happens. When node-pty's 200 ms exit timer fires, a sentinel is written
 *   through the slave and the stream ends only once the reader has seen it, so nothing still in
 *   the kernel is lost however busy the machine. EOF comes ~200 ms after the direct child exits,
 *   and a background process that keeps the pty open does not keep the session alive (the agent
 *   would wait for it).
 *
 * The pty hangup needs nothing of ours: node-pty makes the child a session leader with the pty as
 * its controlling terminal, so when it exits the kernel sends SIGHUP to the terminal's foreground
 * process group (the held slave fd does not prevent it). A background child that has not yet left
 * the session or ignored SIGHUP dies, exactly the race the real agent shows
 * (real-agent-findings.md; test/detach/hangup.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, openSync, writeSync } from 'node:fs';
import { type IPty, spawn } from '@lydell/node-pty';
import { shlexSplit } from '../shlex';
import { lookPath } from './lookpath';
import type { ExitStatus, TerminalSize } from './observation';
import type { ScriptStep } from './options';

const LF = 0x0a;
const CR = 0x0d;
/** What the agent sets for every command (shell_unix.go termEnvVariable / langEnvVariable). */
const AGENT_TERM = 'xterm-256color';
const AGENT_LANG = 'C.UTF-8';
/** node-pty cannot open a 0x0 pty (the agent's starting size), so it starts at its own default. */
const PTY_DEFAULT_SIZE: TerminalSize = { cols: 80, rows: 24 };
/** Linux's answer to a write on a pty master whose slave side is gone. */
const WRITE_AFTER_EOF_ERROR = 'write /dev/ptmx: input/output error';

/** A FIFO of byte chunks; `take` hands out views when it can, so big reads are not copied. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private offset = 0;
  private length = 0;
  private ended = false;
  private waiters: (() => void)[] = [];

  get bufferedBytes(): number {
    return this.length;
  }

  /** True once the producer ended and every byte was taken. */
  get drained(): boolean {
    return this.ended && this.length === 0;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.ended) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  /** Up to `max` bytes, or undefined when nothing is buffered. */
  take(max: number): Buffer | undefined {
    const first = this.chunks[0];
    if (first === undefined) return undefined;
    const available = first.length - this.offset;
    if (available >= max || this.chunks.length === 1) {
      const size = Math.min(max, available);
      const view = first.subarray(this.offset, this.offset + size);
      this.consume(size);
      return view;
    }
    const size = Math.min(max, this.length);
    const out = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0];
      if (chunk === undefined) break;
      const part = Math.min(size - filled, chunk.length - this.offset);
      chunk.copy(out, filled, this.offset, this.offset + part);
      filled += part;
      this.consume(part);
    }
    return out;
  }

  /** Resolves when bytes are buffered or the producer ended. */
  whenReadable(): Promise<void> {
    if (this.length > 0 || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private consume(size: number): void {
    this.offset += size;
    this.length -= size;
    const first = this.chunks[0];
    if (first !== undefined && this.offset >= first.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** The command side of a session, as the agent's shell plugin sees it. */
export interface OutputSource {
  readonly pid: number | undefined;
  readonly output: ByteQueue;
  /** Keyboard bytes into the pty. Returns the agent's error text when the write fails. */
  writeInput(bytes: Buffer): string | undefined;
  /** `pty.Setsize`; returns an error text when it fails. */
  resize(size: TerminalSize): string | undefined;
  /** TerminateSession: SIGKILL the direct child only, then close the pty (SIGHUP to its foreground group). */
  kill(): void;
  readonly exited: Promise<ExitStatus>;
}

/** LF → CRLF, as the pty's ONLCR does for every NL (even one already preceded by CR). */
export function toCrlf(bytes: Buffer): Buffer {
  let lineFeeds = 0;
  for (const byte of bytes) if (byte === LF) lineFeeds++;
  if (lineFeeds === 0) return bytes;
  const out = Buffer.alloc(bytes.length + lineFeeds);
  let o = 0;
  for (const byte of bytes) {
    if (byte === LF) out[o++] = CR;
    out[o++] = byte;
  }
  return out;
}

/**
 * node-pty's runtime surface beyond its typings: with `encoding: null` it emits Buffers and
 * `write` hands a Buffer straight to the master fd, and `destroy` closes the master.
 */
interface RawPty {
  write(data: string | Buffer): void;
  destroy?(): void;
  /** The slave's path, e.g. /dev/pts/3. */
  readonly ptsName?: string;
}

/** Opens the pty's slave side so it never hangs up under node-pty's reader (see the file comment). */
function holdSlave(raw: RawPty): number | undefined {
  if (raw.ptsName === undefined) return undefined;
  try {
    // Read-write: the end-of-output sentinel is written through it (deferSocketDestroy).
    return openSync(raw.ptsName, fsConstants.O_RDWR | fsConstants.O_NOCTTY);
  } catch {
    return undefined;
  }
}

/** node-pty internals we lean on: the master socket it destroys 200 ms after the child exits. */
interface PtySocketInternals {
  _socket?: { destroy(error?: Error): unknown };
}

/** If the end-of-output sentinel never shows up (it always should), stop waiting after this long. */
const SENTINEL_WAIT_LIMIT_MS = 5_000;

class PtyProcess implements OutputSource {
  readonly output = new ByteQueue();
  readonly exited: Promise<ExitStatus>;
  private readonly raw: RawPty;
  private ended = false;
  private slaveFd: number | undefined;
  /** Written through the slave once the child is gone; everything before it has been read when it arrives. */
  private readonly sentinel = Buffer.from(
    `\u0000ecs-exec-double-eof-${randomBytes(12).toString('hex')}\u0000`,
  );
  private sentinelWritten = false;
  private sentinelTail: Buffer = Buffer.alloc(0);
  private releaseSocket: (() => void) | undefined;

  constructor(private readonly pty: IPty) {
    this.raw = pty;
    this.slaveFd = holdSlave(this.raw);
    this.deferSocketDestroy();
    pty.onData((data: string | Buffer) => {
      this.receive(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    });
    // With the slave held, node-pty reports the exit once the pty is drained (see deferSocketDestroy).
    this.exited = new Promise((resolve) => {
      pty.onExit(({ exitCode, signal }) => {
        this.ended = true;
        this.releaseSlave();
        this.output.end();
        resolve(signal ? { exitCode, signal } : { exitCode });
      });
    });
  }

  /**
   * node-pty destroys the master socket 200 ms after the child exits, read or not; on a busy
   * machine the last output can still be in the kernel then. Instead, when that moment comes, write
   * a sentinel through the slave we hold and destroy the socket only once the reader has seen it.
   */
  private deferSocketDestroy(): void {
    const socket = (this.pty as unknown as PtySocketInternals)._socket;
    if (socket === undefined || this.slaveFd === undefined) return;
    const destroy = socket.destroy.bind(socket);
    socket.destroy = (error?: Error) => {
      if (this.sentinelWritten || this.slaveFd === undefined) return destroy(error);
      this.sentinelWritten = true;
      const limit = setTimeout(() => this.releaseSocket?.(), SENTINEL_WAIT_LIMIT_MS);
      this.releaseSocket = () => {
        clearTimeout(limit);
        this.releaseSocket = undefined;
        destroy(error);
      };
      try {
        writeSync(this.slaveFd, this.sentinel);
      } catch {
        this.releaseSocket();
      }
      return socket;
    };
  }

  private receive(data: Buffer): void {
    if (!this.sentinelWritten) {
      this.output.push(data);
      return;
    }
    const combined = this.sentinelTail.length === 0 ? data : Buffer.concat([this.sentinelTail, data]);
    const at = combined.indexOf(this.sentinel);
    if (at !== -1) {
      this.sentinelTail = Buffer.alloc(0);
      this.output.push(combined.subarray(0, at));
      this.output.push(combined.subarray(at + this.sentinel.length));
      this.releaseSocket?.();
      return;
    }
    // Keep back what could be the start of a sentinel split across reads.
    const keep = Math.min(combined.length, this.sentinel.length - 1);
    this.output.push(combined.subarray(0, combined.length - keep));
    this.sentinelTail = Buffer.from(combined.subarray(combined.length - keep));
  }

  get pid(): number {
    return this.pty.pid;
  }

  writeInput(bytes: Buffer): string | undefined {
    if (this.ended) return WRITE_AFTER_EOF_ERROR;
    this.raw.write(bytes);
    return undefined;
  }

  resize(size: TerminalSize): string | undefined {
    // The agent may set 0 (uint16 truncation); node-pty refuses it, so the pty keeps its size.
    if (this.ended || size.cols === 0 || size.rows === 0) return undefined;
    try {
      this.pty.resize(size.cols, size.rows);
      return undefined;
    } catch (err) {
      return `set pty size failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  kill(): void {
    try {
      process.kill(this.pty.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    this.raw.destroy?.();
    this.releaseSlave();
  }

  private releaseSlave(): void {
    if (this.slaveFd === undefined) return;
    closeSync(this.slaveFd);
    this.slaveFd = undefined;
  }
}

class ScriptedOutput implements OutputSource {
  readonly pid = undefined;
  readonly output = new ByteQueue();
  readonly exited: Promise<ExitStatus>;
  private cancelled = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeTimer: (() => void) | undefined;

  constructor(steps: readonly ScriptStep[], raw: boolean) {
    this.exited = this.play(steps, raw);
  }

  writeInput(): string | undefined {
    return undefined;
  }

  resize(): string | undefined {
    return undefined;
  }

  kill(): void {
    this.cancelled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wakeTimer?.();
  }

  private async play(steps: readonly ScriptStep[], raw: boolean): Promise<ExitStatus> {
    for (const step of steps) {
      if (this.cancelled) break;
      if ('output' in step) {
        const bytes = typeof step.output === 'string' ? Buffer.from(step.output, 'utf8') : step.output;
        this.output.push(raw ? bytes : toCrlf(bytes));
      } else {
        await new Promise<void>((resolve) => {
          this.wakeTimer = resolve;
          this.timer = setTimeout(resolve, step.delayMs);
        });
      }
    }
    this.output.end();
    // A killed script reports SIGKILL like a killed process.
    return this.cancelled ? { exitCode: 0, signal: 9 } : { exitCode: 0 };
  }
}

export function startScript(steps: readonly ScriptStep[], raw: boolean): OutputSource {
  return new ScriptedOutput(steps, raw);
}

export interface CommandOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export type CommandStart =
  | { readonly source: OutputSource; readonly argv: readonly string[] }
  | { readonly error: string; readonly argv?: readonly string[] };

/** The child's environment: the agent's, plus TERM, plus LANG when unset, plus the spec's. */
function commandEnvironment(extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  env.TERM = AGENT_TERM;
  if (!process.env.LANG) env.LANG = AGENT_LANG;
  return { ...env, ...extra };
}

/**
 * Starts `command` like the agent's StartCommandExecutor in container mode. Errors carry the
 * agent's wording without the "Unable to start command: " prefix the caller adds.
 */
export function startCommand(command: string, options: CommandOptions): CommandStart {
  let argv: string[];
  try {
    argv = shlexSplit(command);
  } catch (err) {
    return { error: `Failed to parse commands input: ${err instanceof Error ? err.message : String(err)}` };
  }
  const name = argv[0];
  if (name === undefined) {
    // The agent indexes commands[0] unchecked; Go's panic text is what the session reports.
    return { error: 'runtime error: index out of range [0] with length 0', argv };
  }
  const cwd = options.cwd ?? process.cwd();
  const env = commandEnvironment(options.env);
  const resolved = lookPath(name, env.PATH, cwd);
  if ('error' in resolved) return { error: `Failed to start pty: ${resolved.error}`, argv };
  try {
    const pty = spawn(resolved.path, argv.slice(1), {
      name: env.TERM,
      cols: PTY_DEFAULT_SIZE.cols,
      rows: PTY_DEFAULT_SIZE.rows,
      cwd,
      env,
      encoding: null,
    });
    return { source: new PtyProcess(pty), argv };
  } catch (err) {
    return {
      error: `Failed to start pty: fork/exec ${name}: ${err instanceof Error ? err.message : String(err)}`,
      argv,
    };
  }
}
