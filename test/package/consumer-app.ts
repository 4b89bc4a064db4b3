/**
 * A brand-new CDK app outside the repository that installs the packed tarball, offline: its
 * lockfile takes aws-cdk-lib, constructs and ws (and what they need) from this repository's
 * lockfile, so `npm ci --offline` finds every tarball in the npm cache by its integrity hash.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../local/support';

const execFileAsync = promisify(execFile);
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** What the consumer app depends on besides the package: the versions this repository locks. */
export const CONSUMER_PEERS = ['aws-cdk-lib', 'constructs'] as const;

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` in `cwd`; a non-zero exit rejects with its output in the message. */
export async function runIn(
  cwd: string,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandResult> {
  try {
    return await execFileAsync(command, [...args], {
      cwd,
      env,
      maxBuffer: MAX_OUTPUT_BYTES,
      encoding: 'utf8',
    });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stderr ?? ''}\n${stdout ?? ''}`, {
      cause: err,
    });
  }
}

interface LockEntry {
  readonly version?: string;
  readonly dependencies?: Record<string, string>;
  readonly dev?: boolean;
  readonly [key: string]: unknown;
}

interface Lockfile {
  readonly packages: Record<string, LockEntry>;
}

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly license: string;
  readonly bin: Record<string, string>;
  readonly engines: Record<string, string>;
  readonly dependencies: Record<string, string>;
  readonly peerDependencies: Record<string, string>;
  readonly peerDependenciesMeta: Record<string, unknown>;
  readonly devDependencies: Record<string, string>;
}

export const REPO_PACKAGE = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'),
) as PackageJson;

/** Node's lookup: `node_modules/<dep>` next to the dependent, then in each parent up to the root. */
function resolveEntry(packages: Lockfile['packages'], from: string, dependency: string): string | undefined {
  let base = from;
  for (;;) {
    const nested = `${base}/node_modules/${dependency}`;
    if (packages[nested]) return nested;
    const parent = base.lastIndexOf('/node_modules/');
    if (parent <= 0) break;
    base = base.slice(0, parent);
  }
  const top = `node_modules/${dependency}`;
  return packages[top] ? top : undefined;
}

/** The lockfile entries of `roots` and everything they depend on, dev flags dropped. */
function lockClosure(lock: Lockfile, roots: readonly string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const pending = roots.map((name) => `node_modules/${name}`);
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    const entry = lock.packages[key];
    if (out[key] || !entry) continue;
    const { dev: _dev, ...kept } = entry;
    out[key] = kept;
    for (const dependency of Object.keys(entry.dependencies ?? {})) {
      const resolved = resolveEntry(lock.packages, key, dependency);
      if (resolved) pending.push(resolved);
    }
  }
  return out;
}

/** Writes package.json and package-lock.json of a consumer app that depends on `tarball`. */
export function writeConsumerManifest(appDir: string, tarball: string): void {
  const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const spec = `file:${path.relative(appDir, tarball)}`;
  const dependencies: Record<string, string> = {
    ...Object.fromEntries(CONSUMER_PEERS.map((name) => [name, REPO_PACKAGE.devDependencies[name] as string])),
    [REPO_PACKAGE.name]: spec,
  };
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const manifest = { name: 'consumer-app', version: '1.0.0', private: true, dependencies };
  const lockfile = {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: manifest.name, version: manifest.version, dependencies },
      ...lockClosure(lock, [...CONSUMER_PEERS, ...Object.keys(REPO_PACKAGE.dependencies)]),
      [`node_modules/${REPO_PACKAGE.name}`]: {
        version: REPO_PACKAGE.version,
        resolved: spec,
        integrity,
        license: REPO_PACKAGE.license,
        dependencies: REPO_PACKAGE.dependencies,
        bin: REPO_PACKAGE.bin,
        engines: REPO_PACKAGE.engines,
        peerDependencies: REPO_PACKAGE.peerDependencies,
        peerDependenciesMeta: REPO_PACKAGE.peerDependenciesMeta,
      },
    },
  };
  writeFileSync(path.join(appDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(path.join(appDir, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);
}
