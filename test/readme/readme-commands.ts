/**
 * The README's shell commands, as the README tests run them. The tests are split by group (static
 * checks, `npm start`, `cdk synth`, `ecs-exec`, `npm run bench`) so that jest's workers share them;
 * `known-commands.test.ts` checks that every command belongs to a group that runs it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import pLimit from 'p-limit';
import { type ChildResult, REPO_ROOT, spawnProcess } from '../local/support';

export const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
/** Generous: these run real child processes and must pass on a busy machine. */
export const SLOW_MS = 180_000;

/** Commands of every ```sh block: continuations joined, comments dropped, `&&` chains split. */
export function readmeCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/\s{2,}#.*$/, '').trim())
      .filter((line) => line !== '')
      .flatMap((line) => line.split(' && ').map((part) => part.trim())),
  );
}

export const commands = readmeCommands(README);

export function shell(command: string, env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return spawnProcess('/bin/sh', ['-c', command], env).result;
}

/** The exit status the README command's own remote command asks for (`exit N`), else 0. */
export function expectedExit(command: string): number {
  return Number(/exit (\d+)/.exec(command)?.[1] ?? 0);
}

/**
 * `work` over `items`, at most `concurrency` at a time, results in the items' order. For commands
 * that mostly wait (sessions, polls, sleeps): side by side they cost about the longest one's time.
 */
export function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const limit = pLimit(concurrency);
  return Promise.all(items.map((item) => limit(() => work(item))));
}
