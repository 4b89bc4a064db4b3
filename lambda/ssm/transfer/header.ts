/**
 * The wrapper's first line, `PREFIX <nonce> ":" <status> "\n"`, printed before the command runs.
 * It tells the client which transfer path the wrapper chose (it probes the container, so only it
 * knows), or why it refused to start the command; and, when the command gets stdin or an
 * environment, that the pty is now raw and silent, so the client may send them.
 *
 * It is the very first output of a shell-mode session: nothing the command prints can come before
 * it, so a command cannot forge it.
 */
import { assertMarkerNonce } from '../exit-marker';
import { isTransfer, type Transfer } from './modes';

export const HEADER_PREFIX = '__ECS_EXEC_RUNNER_HDR_';
/** Status words starting with this mark a setup failure; the command did not run. */
export const SETUP_FAILURE_MARK = '!';

/** Why the wrapper did not start the command. */
export const SETUP_FAILURES = {
  workdir: 'the working directory does not exist or cannot be entered',
  user: 'the user does not exist in the container',
  'not-root': 'the container does not run as root, so it cannot run the command as another user',
  switch: 'the container has none of setpriv, runuser and su to run the command as another user',
  base64: 'the container has no base64 for the requested transfer',
  zstd: 'the container has no zstd for the requested transfer',
  xz: 'the container has no xz for the requested transfer',
  gzip: 'the container has no gzip for the requested transfer',
  stty: 'the container has no working stty to put the terminal in raw mode for stdin/environment',
  head: 'the container has no head (with -c) to read stdin/environment',
} as const;
export type SetupFailure = keyof typeof SETUP_FAILURES;

export type HeaderStatus =
  | { readonly kind: 'pending' }
  /** The header arrived: the wrapper runs the command with this transfer. */
  | { readonly kind: 'ready'; readonly transfer: Transfer }
  | { readonly kind: 'refused'; readonly failure: SetupFailure; readonly text: string }
  /** The stream did not start with a header (an old or foreign wrapper): everything is plain output. */
  | { readonly kind: 'absent' };

const LONGEST_STATUS = 16;

/** Strips the header from the start of the raw stream; everything after it is passed on untouched. */
export class HeaderReader {
  private held: Buffer = Buffer.alloc(0);
  private current: HeaderStatus = { kind: 'pending' };
  private readonly pattern: RegExp;
  private readonly maxBytes: number;

  constructor(nonce: string) {
    assertMarkerNonce(nonce);
    this.pattern = new RegExp(`^${HEADER_PREFIX}${nonce}:([!a-z0-9-]{1,${LONGEST_STATUS}})\\r?\\n`);
    this.maxBytes = HEADER_PREFIX.length + nonce.length + 1 + LONGEST_STATUS + 2;
  }

  get status(): HeaderStatus {
    return this.current;
  }

  /** Returns the bytes after the header (empty while it is still incomplete). */
  push(bytes: Buffer): Buffer {
    if (this.current.kind !== 'pending') return bytes;
    this.held = this.held.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.held, bytes]);
    // latin1: one character per byte, so the match length is a byte count.
    const text = this.held.toString('latin1', 0, Math.min(this.held.length, this.maxBytes));
    const match = this.pattern.exec(text);
    if (match !== null) {
      this.current = interpret(match[1] as string);
      const rest = this.held.subarray(match[0].length);
      this.held = Buffer.alloc(0);
      return rest;
    }
    if (this.held.length >= this.maxBytes || !this.couldStillMatch(text)) {
      this.current = { kind: 'absent' };
      const rest = this.held;
      this.held = Buffer.alloc(0);
      return rest;
    }
    return Buffer.alloc(0);
  }

  /** The stream ended: whatever was held is output, and a header that never completed is absent. */
  finish(): Buffer {
    if (this.current.kind === 'pending') this.current = { kind: 'absent' };
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }

  /** The bytes held while the header is incomplete, for snapshots. */
  get pending(): Buffer {
    return this.held;
  }

  private couldStillMatch(text: string): boolean {
    const newline = text.indexOf('\n');
    if (newline !== -1) return false;
    const prefix = HEADER_PREFIX;
    return text.length <= prefix.length ? prefix.startsWith(text) : text.startsWith(prefix);
  }
}

function interpret(status: string): HeaderStatus {
  if (status.startsWith(SETUP_FAILURE_MARK)) {
    const code = status.slice(SETUP_FAILURE_MARK.length);
    if (Object.hasOwn(SETUP_FAILURES, code)) {
      const failure = code as SetupFailure;
      return { kind: 'refused', failure, text: SETUP_FAILURES[failure] };
    }
    return { kind: 'absent' };
  }
  return isTransfer(status) ? { kind: 'ready', transfer: status } : { kind: 'absent' };
}
