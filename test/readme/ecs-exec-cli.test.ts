/** The README's `npx ecs-exec` commands, as written, against the local environment. */
import { type LocalEnvironment, startLocalEnvironment } from '../../local/local-environment';
import { cleanEnv } from '../local/support';
import { commands, mapConcurrently, SLOW_MS, shell } from './readme-commands';

/** Independent examples run side by side: most of their time is sessions, polls and the cancel's grace. */
const SIDE_BY_SIDE = 3;

/**
 * The commands' indexes in chains: a `--no-wait` run starts a chain that the commands reading its
 * `$EXECUTION_ARN` (history, cancel) continue, in the README's order; every other command is a
 * chain of its own.
 */
function chains(cli: readonly string[]): number[][] {
  const result: number[][] = [];
  let open: number[] | undefined;
  for (const [index, command] of cli.entries()) {
    if (command.includes('$EXECUTION_ARN') && open) {
      open.push(index);
      continue;
    }
    const chain = [index];
    result.push(chain);
    if (command.includes('--no-wait')) open = chain;
  }
  return result;
}

describe('README commands', () => {
  describe('ecs-exec against the local environment', () => {
    let env: LocalEnvironment;

    beforeAll(async () => {
      process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
      env = await startLocalEnvironment({ fastAgent: true });
      await env.runStateMachine({ command: 'true' });
    }, SLOW_MS);

    afterAll(async () => {
      await env.close();
      delete process.env.POWERTOOLS_LOG_LEVEL;
    });

    it('chains each --no-wait run with the commands that read its $EXECUTION_ARN', () => {
      expect(
        chains([
          'a',
          'b --no-wait',
          'c "$EXECUTION_ARN"',
          'd',
          'e --no-wait',
          'f "$EXECUTION_ARN"',
          'g "$EXECUTION_ARN"',
        ]),
      ).toEqual([[0], [1, 2], [3], [4, 5, 6]]);
    });

    it(
      'runs every npx ecs-exec command as written',
      async () => {
        const cli = commands.filter((command) => command.startsWith('npx ecs-exec '));
        expect(cli.length).toBeGreaterThanOrEqual(4);
        const codes: Array<number | null> = [];
        const executionArns: string[] = [];
        await mapConcurrently(chains(cli), SIDE_BY_SIDE, async (chain) => {
          const vars = { RUN_COMMAND_ARN: env.runCommandStateMachineArn, EXECUTION_ARN: '' };
          for (const index of chain) {
            const command = cli[index] as string;
            const result = await shell(command, cleanEnv({ ...env.fake.env, ...vars }));
            codes[index] = result.code;
            // The no-wait run prints the ARN the history and cancel examples then read.
            if (command.includes('--no-wait')) {
              vars.EXECUTION_ARN = result.stdout.trim();
              executionArns.push(vars.EXECUTION_ARN);
            }
          }
        });
        // Each README example, run locally: the remote exit code (127: no such program here), a
        // task that does not exist locally (TargetNotFound, 68), an ARN, a timeline, a cancelled job.
        expect(cli.map((command, index) => ({ command, code: codes[index] }))).toEqual(
          cli.map((command) => {
            if (command.includes('bin/rails')) return { command, code: 127 };
            if (command.includes('--task 0123456789abcdef0123456789abcdef')) return { command, code: 68 };
            // The detached job is stopped: CommandTimedOut ("cancelled").
            if (command.includes('ecs-exec cancel')) return { command, code: 124 };
            return { command, code: 0 };
          }),
        );
        expect(executionArns.length).toBeGreaterThan(0);
        for (const arn of executionArns) expect(arn).toMatch(/^arn:aws:states:/);
      },
      SLOW_MS,
    );
  });
});
