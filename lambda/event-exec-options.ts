/**
 * The event fields that shape how the command runs in its container, like `docker exec -i -u -w
 * -e`, and how its output travels: stdin (text or base64), environment, user, workingDirectory,
 * transfer. Validated here, before any AWS call; each failure is InvalidInput naming the field.
 * Values of `environment` and `stdin` never appear in a message: they may be secrets.
 */
import { InvalidInput } from './errors';
import {
  DEFAULT_TRANSFER,
  isTransferRequest,
  TRANSFER_REQUESTS,
  type TransferRequest,
} from './ssm/transfer/modes';
import {
  ENVIRONMENT_NAME_PATTERN,
  type Environment,
  environmentScript,
  MAX_STDIN_BYTES,
} from './ssm/wrapper/input';

export { MAX_STDIN_BYTES } from './ssm/wrapper/input';

/** As useradd and busybox adduser accept them, or a numeric uid. */
const USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$/;
const MAX_WORKING_DIRECTORY_CHARS = 4096;
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;
/** Base64 takes 4 characters per 3 bytes. */
const MAX_STDIN_BASE64_CHARS = Math.ceil(MAX_STDIN_BYTES / 3) * 4;

export interface ExecOptions {
  /** The command's stdin, decoded (from `stdin` as UTF-8 or from `stdinBase64`). */
  readonly stdinBytes?: Buffer;
  readonly environment?: Environment;
  readonly user?: string;
  readonly workingDirectory?: string;
  readonly transfer: TransferRequest;
}

export const EXEC_OPTION_FIELDS = [
  'stdinBase64',
  'environment',
  'user',
  'workingDirectory',
  'transfer',
] as const;

export function parseExecOptions(
  event: Record<string, unknown>,
  shell: boolean,
  stdin: string | undefined,
): ExecOptions {
  const stdinBase64 = event.stdinBase64;
  if (stdinBase64 !== undefined && stdinBase64 !== null) {
    if (stdin !== undefined) throw new InvalidInput('give "stdin" or "stdinBase64", not both');
    if (typeof stdinBase64 !== 'string' || stdinBase64.length > MAX_STDIN_BASE64_CHARS) {
      throw new InvalidInput(`"stdinBase64" must be a base64 string of at most ${MAX_STDIN_BYTES} bytes`);
    }
    if (stdinBase64.length % 4 !== 0 || !BASE64_PATTERN.test(stdinBase64)) {
      throw new InvalidInput('"stdinBase64" is not valid base64 (RFC 4648, with padding)');
    }
  }
  const stdinBytes =
    typeof stdinBase64 === 'string'
      ? Buffer.from(stdinBase64, 'base64')
      : stdin !== undefined
        ? Buffer.from(stdin, 'utf8')
        : undefined;
  if (stdinBytes !== undefined && stdinBytes.length > MAX_STDIN_BYTES) {
    throw new InvalidInput(`stdin must be at most ${MAX_STDIN_BYTES} bytes`);
  }
  const environment = parseEnvironment(event.environment);
  const user = optionalText(event, 'user');
  if (user !== undefined && !USER_PATTERN.test(user)) {
    throw new InvalidInput(
      `"user" must be a user name or uid ([A-Za-z0-9_][A-Za-z0-9._-], at most 32 characters), got ${JSON.stringify(user)}`,
    );
  }
  const workingDirectory = optionalText(event, 'workingDirectory');
  if (
    workingDirectory !== undefined &&
    (workingDirectory.length > MAX_WORKING_DIRECTORY_CHARS || workingDirectory.includes('\0'))
  ) {
    throw new InvalidInput(
      `"workingDirectory" must be a path of at most ${MAX_WORKING_DIRECTORY_CHARS} characters without NUL`,
    );
  }
  const transfer = event.transfer ?? DEFAULT_TRANSFER;
  if (!isTransferRequest(transfer)) {
    throw new InvalidInput(`"transfer" must be one of ${TRANSFER_REQUESTS.join(', ')}`);
  }
  if (!shell) {
    const given = [
      ['stdin', stdinBytes],
      ['environment', environment],
      ['user', user],
      ['workingDirectory', workingDirectory],
    ].filter(([, value]) => value !== undefined);
    if (given.length > 0) {
      throw new InvalidInput(`"${given[0]?.[0]}" needs "shell": true (a raw command only has the pty)`);
    }
  }
  return {
    ...(stdinBytes !== undefined ? { stdinBytes } : {}),
    ...(environment !== undefined ? { environment } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(workingDirectory !== undefined ? { workingDirectory } : {}),
    transfer,
  };
}

function optionalText(event: Record<string, unknown>, field: string): string | undefined {
  const value = event[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new InvalidInput(`"${field}" must be a non-empty string`);
  return value;
}

function parseEnvironment(value: unknown): Environment | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInput('"environment" must be an object of NAME: "value" strings');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [name, entry] of entries) {
    if (!ENVIRONMENT_NAME_PATTERN.test(name)) {
      throw new InvalidInput(
        `"environment" name ${JSON.stringify(name)} is not a POSIX name ([A-Za-z_][A-Za-z0-9_]*)`,
      );
    }
    if (typeof entry !== 'string') throw new InvalidInput(`"environment" value of ${name} must be a string`);
  }
  const environment = value as Environment;
  try {
    environmentScript(environment);
  } catch (error) {
    // The messages name the variable, never its value.
    throw new InvalidInput(`"environment": ${error instanceof Error ? error.message : String(error)}`);
  }
  return entries.length > 0 ? environment : undefined;
}
