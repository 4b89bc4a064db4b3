/**
 * `npm start --state-machine` (the synthesized "run one command" state machine run locally) and
 * Ctrl-C, as child processes of scripts/local-run.ts.
 */
import { RunExitCode } from '../../cli/execution-exit-codes';
import { ExecErrorName } from '../../lambda/contract';
import { ALERT_PREVIEW_LABEL } from '../../local/alert-preview';
import { processesWith, runLocal, type Spawned, waitFor } from './support';

/** Ctrl-C must end everything well before the command's 30 s would. */
const SIGINT_EXIT_BUDGET_MS = 5000;
/** Time for the command to appear (a cold start of the script included). */
const COMMAND_START_TIMEOUT_MS = 15_000;

let success: Spawned;
let failing: Spawned;

beforeAll(() => {
  success = runLocal(['--state-machine', '--output', 'text', 'echo through the state machine']);
  failing = runLocal(['--state-machine', 'echo about to fail; exit 5']);
});

afterAll(async () => {
  for (const run of [success, failing]) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  await Promise.allSettled([success.result, failing.result]);
});

describe('npm start --state-machine', () => {
  it('gives the same result through the synthesized state machine', async () => {
    const { code, stdout, stderr } = await success.result;
    expect(code).toBe(0);
    // Only the run's metrics line (EMF) reaches stderr.
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^metrics \(EMF.*\}$/)]);
    expect(stdout).toBe('through the state machine\n');
  });

  it('exits with the command code when NonZeroExit is caught into the Fail state', async () => {
    const { code, stdout, stderr } = await failing.result;
    expect(code).toBe(5);
    const failure = JSON.parse(stdout) as { error: string; cause: string };
    expect(failure.error).toBe(ExecErrorName.NonZeroExit);
    // The cause as Step Functions has it: the Lambda's error envelope around the JSON message.
    const envelope = JSON.parse(failure.cause) as { errorType: string; errorMessage: string };
    expect(envelope.errorType).toBe(ExecErrorName.NonZeroExit);
    expect(JSON.parse(envelope.errorMessage)).toMatchObject({ exitCode: 5, outputTail: 'about to fail\n' });
    expect(stderr).toContain(`${ExecErrorName.NonZeroExit}: the command exited with code 5`);
    expect(stderr).toContain('about to fail\n');
  });

  it('shows the alert the deployed runner would publish for the failed execution', async () => {
    const { stderr } = await failing.result;
    const alert = stderr.slice(stderr.indexOf(ALERT_PREVIEW_LABEL));
    expect(alert).toContain('\nSubject: ecs-exec-runner: NonZeroExit echo about to fail; exit 5\n');
    expect(alert).toContain('execution FAILED with NonZeroExit\nthe command exited with code 5\n');
    expect(alert).toContain('Exit code:  5\n');
    expect(alert).toMatch(/Console: {4}https:\/\/us-east-1\.console\.aws\.amazon\.com\/states\/home/);
    expect(alert).toContain('--- end of the output ---\nabout to fail\n');
  });
});

describe('npm start and Ctrl-C', () => {
  it('stops the command, its children and the local environment quickly during `sleep 30`, exit 130', async () => {
    // A duration no other process uses, to find the command's processes.
    const marker = `sleep 29.${Date.now() % 100_000}`;
    const run = runLocal([`${marker}; echo never`]);
    try {
      await waitFor(
        () => processesWith(marker).some((line) => line.endsWith(marker)),
        COMMAND_START_TIMEOUT_MS,
        'the command to start',
      );
      const interruptedAt = Date.now();
      run.child.kill('SIGINT');
      const { code, stdout, stderr } = await run.result;
      expect(code).toBe(RunExitCode.Interrupted);
      expect(Date.now() - interruptedAt).toBeLessThan(SIGINT_EXIT_BUDGET_MS);
      expect(stdout).toBe('');
      expect(stderr).toContain('SIGINT: stopping the command and the local environment');
      // Neither the shell wrapper nor `sleep` outlives the run.
      expect(processesWith(marker)).toEqual([]);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
  });
});
