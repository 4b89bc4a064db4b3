/**
 * How the agent turns argv[0] into an executable in container mode: Go's `exec.Command`, which runs
 * `exec.LookPath` only for a bare name, and whose `Start` reports a failed exec as
 * `fork/exec <path>: <errno text>`. The texts are Go's, because they end up in the session's
 * channel_closed Output ("Unable to start command: Failed to start pty: …").
 */
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

export type LookPathResult = { readonly path: string } | { readonly error: string };

/** Go's errno texts for the failures an exec can hit before the child runs. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
};

function errnoCode(err: unknown): string {
  // Duck-typed: errors from node:fs may come from another realm (jest), where instanceof fails.
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return 'EIO';
}

/** Go's `findExecutable` (unix): a non-directory the caller may execute. Returns an errno code. */
function findExecutable(file: string): string | undefined {
  try {
    if (statSync(file).isDirectory()) return 'EISDIR';
    accessSync(file, constants.X_OK);
    return undefined;
  } catch (err) {
    return errnoCode(err);
  }
}

/**
 * Resolves `name` the way the agent's `exec.Command(name)` + `Start` would, relative to `cwd`.
 * @param pathEnv the PATH the lookup uses (the agent's own environment).
 */
export function lookPath(name: string, pathEnv: string | undefined, cwd: string): LookPathResult {
  if (name.includes('/') || name === '') {
    // No lookup: execve decides. A directory or a non-executable file gives EACCES there.
    const target = path.resolve(cwd, name);
    const code = name === '' ? 'ENOENT' : findExecutable(target);
    if (code === undefined) return { path: target };
    const execCode = code === 'EISDIR' ? 'EACCES' : code;
    return { error: `fork/exec ${name}: ${ERRNO_TEXT[execCode] ?? execCode}` };
  }
  for (const entry of (pathEnv ?? '').split(':')) {
    // An empty PATH entry means the current directory, as in the shell.
    const candidate = path.join(entry === '' ? '.' : entry, name);
    if (findExecutable(path.resolve(cwd, candidate)) !== undefined) continue;
    if (!path.isAbsolute(candidate)) {
      // Go >= 1.19 refuses a match found through a relative PATH entry (exec.ErrDot).
      return { error: `exec: "${name}": cannot run executable found relative to current directory` };
    }
    return { path: candidate };
  }
  return { error: `exec: "${name}": executable file not found in $PATH` };
}
