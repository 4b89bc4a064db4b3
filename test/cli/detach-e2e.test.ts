/**
 * `ecs-exec run --detach` and `ecs-exec cancel` (main(), in this process) against the local
 * environment: the fake Step Functions runs the synthesized state machine, whose Tasks call the
 * real handler; the job runs on the agent double's machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { createSfnClient } from '../../cli/clients';
import { ExitCode } from '../../cli/exit-codes';
import { latestJobState } from '../../cli/follow';
import { main } from '../../cli/main';
import { executionArnOf } from '../../cli/run';
import { type LocalEnvironment, startLocalEnvironment } from '../../local/local-environment';

let env: LocalEnvironment;

function capture(): {
  io: { stdout: { write(t: string): boolean }; stderr: { write(t: string): boolean } };
  out: string[];
  err: string[];
} {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (t: string) => out.push(t) > 0 },
      stderr: { write: (t: string) => err.push(t) > 0 },
    },
    out,
    err,
  };
}

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  env = await startLocalEnvironment({ fastAgent: true });
  await env.runStateMachine({ command: 'true' });
});

afterAll(async () => {
  await env.close();
  delete process.env.POWERTOOLS_LOG_LEVEL;
});

describe('ecs-exec run --detach / ecs-exec cancel', () => {
  it('prints the job’s output as the polls bring it, then exits with its exit code', async () => {
    const { io, out } = capture();
    const gate = path.join(mkdtempSync(path.join(tmpdir(), 'detach-cli-')), 'go-on');
    const command = `echo one; while [ ! -f ${gate} ]; do sleep 0.2; done; printf two; exit 5`;
    const running = main(
      [
        'run',
        '--detach',
        '--poll-interval',
        '2',
        '--state-machine',
        env.runCommandStateMachineArn,
        '--',
        command,
      ],
      { io },
    );
    // The job goes on only once its first line was printed: the output streams while it runs.
    const deadline = Date.now() + 20_000;
    while (out.join('') !== 'one\n') {
      if (Date.now() > deadline) throw new Error(`the first line never came: ${JSON.stringify(out)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    writeFileSync(gate, '');

    expect(await running).toBe(5);
    expect(out.join('')).toBe('one\ntwo');
  });

  it('cancel stops the execution and the job’s process group, and exits like a timeout', async () => {
    const name = 'detached-cancel-me';
    const started = capture();
    const command = "echo pgid=$(ps -o pgid= -p $$ | tr -d ' '); sleep 60";
    expect(
      await main(
        [
          'run',
          '--detach',
          '--no-wait',
          '--name',
          name,
          '--state-machine',
          env.runCommandStateMachineArn,
          '--',
          command,
        ],
        {
          io: started.io,
        },
      ),
    ).toBe(0);
    const executionArn = executionArnOf(env.runCommandStateMachineArn, name);
    const sfn = createSfnClient();
    try {
      const deadline = Date.now() + 20_000;
      while ((await latestJobState(sfn, executionArn)) === undefined) {
        if (Date.now() > deadline) throw new Error('the job never started');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }

      const { io, err } = capture();
      const code = await main(['cancel', executionArn], { io });

      expect(code).toBe(ExitCode.CommandTimedOut);
      expect(err.join('')).toMatch(/cancelled/);
      expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('ABORTED');
      const pgid = /pgid=(\d+)/.exec(err.join(''))?.[1];
      expect(pgid).toBeDefined();
      const groups = execFileSync('ps', ['-e', '-o', 'pgid='], { encoding: 'utf8' })
        .split('\n')
        .map((line) => line.trim());
      expect(groups).not.toContain(pgid);
    } finally {
      sfn.destroy();
    }
  });
});
