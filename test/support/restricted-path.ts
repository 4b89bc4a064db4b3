/**
 * A PATH with only the tools a test allows: a temporary directory of symlinks to this machine's
 * binaries. Passed as the agent double's `env.PATH`, it simulates a container image that lacks
 * zstd, xz, gzip or base64 (the wrapper finds tools with `command -v`, i.e. through PATH).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RestrictedPath {
  readonly path: string;
  remove(): void;
}

export function restrictedPath(tools: readonly string[]): RestrictedPath {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-exec-runner-path-'));
  for (const tool of tools) {
    const target = execFileSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', tool], {
      encoding: 'utf8',
    }).trim();
    symlinkSync(target, join(dir, tool));
  }
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
