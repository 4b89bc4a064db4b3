/** The README's `npm start` commands, as written, against the embedded default world. */
import { cleanEnv } from '../local/support';
import { commands, expectedExit, mapConcurrently, SLOW_MS, shell } from './readme-commands';

/** Each run is its own process with its own local endpoint (any free port); several wait on sessions and polls. */
const SIDE_BY_SIDE = 3;

describe('README commands', () => {
  it(
    'runs every npm start command against the embedded default',
    async () => {
      const starts = commands.filter((command) => command.startsWith('npm start '));
      expect(starts.length).toBeGreaterThanOrEqual(5);
      const results = await mapConcurrently(starts, SIDE_BY_SIDE, (command) =>
        shell(command, cleanEnv({ ECS_EXEC_LOCAL_FAST_AGENT: '1' })),
      );
      for (const [index, { code, stdout, stderr }] of results.entries()) {
        const command = starts[index] as string;
        expect({ command, code }).toEqual({ command, code: expectedExit(command) });
        // A result on stdout; a failed command's output tail on stderr.
        expect((code === 0 ? stdout : stderr).length).toBeGreaterThan(0);
      }
    },
    SLOW_MS,
  );
});
