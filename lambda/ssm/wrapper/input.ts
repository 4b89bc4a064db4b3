/**
 * What the wrapper reads from the pty after it has made it raw and silent: the environment as a
 * small shell script, then the stdin bytes. Both travel on the data channel (input_stream_data),
 * never on the ExecuteCommand command line, which CloudTrail records and `ps` shows.
 */

/** POSIX portable environment variable names. */
export const ENVIRONMENT_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Documented maximum of stdin bytes per run (the event's and run()'s limit). */
export const MAX_STDIN_BYTES = 1024 * 1024;
/** Documented maximum of the environment script (names, values and quoting). */
export const MAX_ENVIRONMENT_BYTES = 64 * 1024;
/** The plugin's input frame size (`StreamDataPayloadSize`); the agent writes each frame to the pty as it comes. */
export const INPUT_FRAME_BYTES = 1024;
const LONE_SURROGATE = /\p{Surrogate}/u;

export type Environment = Readonly<Record<string, string>>;

/** @throws RangeError naming the first bad entry (the value itself is never quoted: it may be a secret). */
export function assertEnvironment(environment: Environment): void {
  for (const [name, value] of Object.entries(environment)) {
    if (!ENVIRONMENT_NAME_PATTERN.test(name)) {
      throw new RangeError(
        `environment name ${JSON.stringify(name)} is not a POSIX name ([A-Za-z_][A-Za-z0-9_]*)`,
      );
    }
    if (typeof value !== 'string') throw new RangeError(`environment value of ${name} must be a string`);
    if (value.includes('\0')) throw new RangeError(`environment value of ${name} contains a NUL character`);
    if (LONE_SURROGATE.test(value)) {
      throw new RangeError(`environment value of ${name} has an unpaired UTF-16 surrogate`);
    }
  }
}

/**
 * `export NAME='value'` lines for the wrapper to `eval` in the command's subshell. Single quotes
 * keep every byte literal in sh; a `'` is closed, escaped and reopened.
 */
export function environmentScript(environment: Environment): Buffer {
  assertEnvironment(environment);
  const lines = Object.entries(environment).map(
    ([name, value]) => `export ${name}='${value.replaceAll("'", `'\\''`)}'\n`,
  );
  const script = Buffer.from(lines.join(''), 'utf8');
  if (script.length > MAX_ENVIRONMENT_BYTES) {
    throw new RangeError(
      `environment takes ${script.length} bytes once quoted; at most ${MAX_ENVIRONMENT_BYTES} are allowed`,
    );
  }
  return script;
}

/** Stdin as bytes: a string is sent as UTF-8. @throws RangeError past MAX_STDIN_BYTES. */
export function stdinBytes(stdin: string | Buffer): Buffer {
  if (typeof stdin === 'string' && LONE_SURROGATE.test(stdin)) {
    throw new RangeError('stdin has an unpaired UTF-16 surrogate; it cannot be sent intact');
  }
  const bytes = typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : Buffer.from(stdin);
  if (bytes.length > MAX_STDIN_BYTES) {
    throw new RangeError(`stdin is ${bytes.length} bytes; at most ${MAX_STDIN_BYTES} are allowed`);
  }
  return bytes;
}

/** Splits the input into frame-sized pieces, in order. */
export function inputFrames(input: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < input.length; offset += INPUT_FRAME_BYTES) {
    frames.push(input.subarray(offset, offset + INPUT_FRAME_BYTES));
  }
  return frames;
}
