/** The README's `npx cdk synth` and `npx cdk deploy` commands, synthesized offline. */
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cleanEnv } from '../local/support';
import { commands, SLOW_MS, shell } from './readme-commands';

describe('README commands', () => {
  it(
    'synthesizes offline for npx cdk synth and for each npx cdk deploy variant',
    async () => {
      const cdk = commands.filter((command) => command.startsWith('npx cdk '));
      expect(cdk.some((command) => command.startsWith('npx cdk deploy'))).toBe(true);
      // Deploy needs an account; its synthesis (with the same context) is what can run here.
      const synths = [
        ...new Set(cdk.map((command) => command.replace(/^npx cdk (synth|deploy)/, 'npx cdk synth -q'))),
      ];
      // Separate output folders: two CLIs may not synthesize into one cdk.out at once.
      const results = await Promise.all(
        synths.map((command, index) =>
          shell(
            `${command} -o ${path.join(tmpdir(), `readme-synth-${process.pid}-${index}`)}`,
            cleanEnv({ CDK_DISABLE_CLI_TELEMETRY: 'true' }),
          ),
        ),
      );
      for (const [index, result] of results.entries()) {
        expect({
          command: synths[index],
          code: result.code,
          stderr: result.code === 0 ? '' : result.stderr,
        }).toEqual({
          command: synths[index],
          code: 0,
          stderr: '',
        });
      }
    },
    SLOW_MS,
  );
});
