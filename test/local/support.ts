/** Running the repository's entry points as child processes, as a user would. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { UNSET_ENV } from '../../local/fake-aws';

export const REPO_ROOT = path.join(__dirname, '..', '..');
export const LOCAL_RUN_SCRIPT = path.join(REPO_ROOT, 'scripts', 'local-run.ts');
export const CLI_BIN = path.join(REPO_ROOT, 'bin', 'ecs-exec.js');

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From spawn to exit. */
  readonly ms: number;
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly result: Promise<ChildResult>;
}

/** Spawns `command args` with `env` (replacing this process's), feeding `stdin` when given. */
export function spawnProcess(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): Spawned {
  const started = Date.now();
  const child = spawn(command, [...args], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const result = new Promise<ChildResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  if (stdin !== undefined) child.stdin?.end(stdin);
  else child.stdin?.end();
  return { child, result };
}

/** This process's environment without the AWS settings a developer may have (the fake must not need them). */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of UNSET_ENV) if (!(name in extra)) delete env[name];
  return env;
}

/** `node --import tsx scripts/local-run.ts …` (what `npm start -- …` runs). */
export function runLocal(
  args: readonly string[],
  options: {
    readonly fastAgent?: boolean;
    readonly stdin?: string;
    readonly env?: Record<string, string>;
  } = {},
): Spawned {
  const env = cleanEnv({
    ...(options.fastAgent === false ? {} : { ECS_EXEC_LOCAL_FAST_AGENT: '1' }),
    ...options.env,
  });
  return spawnProcess(process.execPath, ['--import', 'tsx', LOCAL_RUN_SCRIPT, ...args], env, options.stdin);
}

/** Command lines of the processes on this machine that contain `marker`. */
export function processesWith(marker: string): string[] {
  const listing = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return listing
    .split('\n')
    .filter((line) => line.includes(marker) && !line.includes('ps -eo'))
    .map((line) => line.trim());
}

export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
