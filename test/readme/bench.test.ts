/** The README's `npm run bench`, end to end on small sizes. */
import { cleanEnv } from '../local/support';
import { commands, SLOW_MS, shell } from './readme-commands';

describe('README commands', () => {
  it(
    'runs npm run bench end to end (on small sizes: targets live in the figures, not in tests)',
    async () => {
      expect(commands).toContain('npm run bench');
      const { code, stdout } = await shell(
        'npm run bench',
        cleanEnv({ BENCH_QUICK: '1', BENCH_AGENT_WARM_UP_MIB: '0' }),
      );
      expect(code).toBe(0);
      for (const figure of [
        'codec:',
        'handler bundle',
        'end to end:',
        'memory:',
        'real agent pace:',
        'transfer:',
        'detached:',
        'fan-out:',
      ])
        expect(stdout).toContain(figure);
    },
    SLOW_MS,
  );
});
