/**
 * The "container restart" fault: what a detached job sees when its container is replaced (an
 * essential container restarted, a health check failed). Every process started in the container —
 * exec sessions and the detached jobs they left behind, whatever session or group they moved to —
 * is killed, the container's writable files are removed, and it comes back with a new runtime id,
 * while the task stays RUNNING.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { containerIdentityEnv } from './ecs';
import type { FakeContainer } from './world';

export interface ContainerRestartOptions {
  /**
   * Directories that stand for the container's writable layer (e.g. the jobs directory an event
   * used); they are deleted. The double runs commands on this machine, so nothing else is removed.
   */
  readonly writableDirectories?: readonly string[];
}

export interface ContainerRestart {
  /** Pids that were killed. */
  readonly killed: readonly number[];
}

export function restartContainer(
  container: FakeContainer,
  options: ContainerRestartOptions = {},
): ContainerRestart {
  const killed = processesOf(container).filter((pid) => {
    try {
      process.kill(pid, 'SIGKILL');
      return true;
    } catch {
      return false;
    }
  });
  for (const directory of options.writableDirectories ?? [])
    rmSync(directory, { recursive: true, force: true });
  container.runtimeId = `${container.runtimeId.split('-')[0]}-${Date.now() % 10_000_000_000}`;
  return { killed };
}

/** Pids whose environment carries the container's identity (Linux /proc). */
export function processesOf(container: Pick<FakeContainer, 'runtimeId'>): number[] {
  const [[name, value]] = Object.entries(containerIdentityEnv(container)) as [[string, string]];
  const needle = Buffer.from(`${name}=${value}\0`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`);
      if (environ.includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}
