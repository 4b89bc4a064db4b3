/**
 * The detached path of the synthesized "run one command" state machine: its shape, the
 * continue-as-new integration and the permissions it needs (behaviour: state-machine-detached.test.ts).
 */

import { DetachedStates } from '../../lib/detached-workflow';
import { definitionFromTemplate } from '../../lib/local/definition';
import { RunCommandStates } from '../../lib/run-command-workflow';
import { iamStatements, runnerStack } from '../cdk/helpers';

const fixture = runnerStack();
const definition = definitionFromTemplate(fixture.json, 'RunnerRunCommandStateMachine') as unknown as {
  States: Record<string, Record<string, unknown>>;
};
const states = definition.States;

describe('the detached path of the run-one state machine', () => {
  it('routes detach: true and timeouts above one invocation to StartJob, everything else to RunCommand', () => {
    const route = states[RunCommandStates.Route] as {
      Choices: Array<Record<string, unknown>>;
      Default: string;
    };
    expect(route.Default).toBe(RunCommandStates.RunCommand);
    expect(route.Choices.map((choice) => choice.Next)).toEqual([
      DetachedStates.ResumeJob,
      DetachedStates.CancelJob,
      DetachedStates.StartJob,
    ]);
    // 15 min function timeout minus the 15 s margin.
    expect(JSON.stringify(route.Choices[2])).toContain('"NumericGreaterThan":885');
  });

  it('loops Wait → Poll → Choice on a small state and continues as new in a child execution', () => {
    expect(states[DetachedStates.WaitForPoll]).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.job.waitSeconds',
      Next: DetachedStates.PollJob,
    });
    expect(states[DetachedStates.PollJob]).toMatchObject({
      Next: DetachedStates.AfterPoll,
      Parameters: {
        Payload: { detachedJob: { step: 'poll', 'job.$': '$.job', 'executionName.$': '$$.Execution.Name' } },
      },
    });
    const afterPoll = states[DetachedStates.AfterPoll] as {
      Choices: Array<{ Next: string }>;
      Default: string;
    };
    expect(afterPoll.Choices.map((choice) => choice.Next)).toEqual([
      DetachedStates.JobSucceeded,
      DetachedStates.ContinueAsNew,
      DetachedStates.PollJob,
    ]);
    expect(afterPoll.Default).toBe(DetachedStates.WaitForPoll);
    expect(states[DetachedStates.ContinueAsNew]).toMatchObject({
      Resource: expect.stringMatching(/:states:::states:startExecution\.sync:2$/),
      OutputPath: '$.Output',
    });
  });

  it('lets the state machine start, describe and stop its own child executions, and nothing wider', () => {
    const statements = iamStatements(fixture.json).filter(({ statement }) =>
      ([] as string[]).concat(statement.Action).some((action) => action.startsWith('states:')),
    );
    const text = JSON.stringify(statements.map(({ statement }) => statement));
    expect(text).toContain('states:StartExecution');
    expect(text).toMatch(/execution:RunnerTestRunner[0-9A-F]{8}RunCmd\*/);
    expect(text).not.toMatch(/"Resource":"\*"/);
  });
});
