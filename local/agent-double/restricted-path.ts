/**
 * Simulates a container image that lacks some tools (no zstd, no xz, not even base64): the session's
 * command gets a PATH on which they cannot be found. Each PATH directory that holds one of them is
 * replaced by a temporary directory of symlinks to everything else in it; the other directories
 * stay as they are. Both the agent's own lookup of argv[0] (lookpath.ts) and every shell inside the
 * command then fail to find the tools, as in such an image. An absolute path (`/usr/bin/xz`) still
 * works, so list aliases (`unxz`, `xzcat`) too if they matter.
 *
 * Mirroring a directory like /usr/bin takes a thousand symlinks, which is slow on a busy machine,
 * so each distinct PATH is built once per process and removed when the process exits.
 */
import { mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const TEMP_PREFIX = 'agent-double-path-';

/** Built PATH values by `cacheKey`, and the directories they own. */
const built = new Map<string, { readonly path: string; readonly dirs: readonly string[] }>();
let exitHookInstalled = false;

/** Fails fast on names that cannot be commands on a PATH. */
export function validateMissingTools(names: readonly string[]): void {
  for (const name of names) {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new TypeError(`missingTools entries must be plain command names, got ${JSON.stringify(name)}`);
    }
  }
}

/** `basePath` with `missing` hidden: the value to give the command as its PATH. */
export function pathWithout(basePath: string, missing: readonly string[]): string {
  const key = `${basePath}\0${[...new Set(missing)].sort().join('\0')}`;
  const cached = built.get(key);
  if (cached !== undefined) return cached.path;
  const entry = buildPath(basePath, new Set(missing));
  built.set(key, entry);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', removeRestrictedPaths);
  }
  return entry.path;
}

/** Removes every directory built so far (at process exit; tests call it to check the clean-up). */
export function removeRestrictedPaths(): void {
  for (const { dirs } of built.values())
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  built.clear();
}

function buildPath(basePath: string, hidden: ReadonlySet<string>): { path: string; dirs: string[] } {
  const mirrors = new Map<string, string>();
  const entries = basePath.split(':').map((entry) => {
    const names = listDirectory(entry);
    if (names === undefined || !names.some((name) => hidden.has(name))) return entry;
    // /bin and /usr/bin are often one directory: mirror it once.
    const real = realpathSync(entry);
    let mirror = mirrors.get(real);
    if (mirror === undefined) {
      mirror = mkdtempSync(path.join(tmpdir(), TEMP_PREFIX));
      for (const name of names)
        if (!hidden.has(name)) symlinkSync(path.join(real, name), path.join(mirror, name));
      mirrors.set(real, mirror);
    }
    return mirror;
  });
  return { path: entries.join(':'), dirs: [...mirrors.values()] };
}

/** The names in a PATH directory, or undefined for an entry a lookup would skip anyway. */
function listDirectory(entry: string): string[] | undefined {
  // Relative entries depend on the command's cwd, and the agent's lookup refuses them (exec.ErrDot).
  if (!path.isAbsolute(entry)) return undefined;
  try {
    return readdirSync(entry);
  } catch {
    return undefined;
  }
}
