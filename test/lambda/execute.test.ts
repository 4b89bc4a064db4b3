import {
  ECSClient,
  ExecuteCommandCommand,
  InvalidParameterException,
  TargetNotConnectedException,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { classifyExecuteCommandError, executeCommand, SESSION_REFUSED_HINT } from '../../lambda/aws/execute';
import {
  AgentNotReady,
  ExecuteCommandDenied,
  InvalidInput,
  SessionFailed,
  TargetNotFound,
} from '../../lambda/errors';

const ecsMock = mockClient(ECSClient);
const INPUT = { cluster: 'arn:c', task: 'arn:t', container: 'app', command: 'sh -c true' };
const SESSION = {
  sessionId: 'ecs-execute-command-1',
  streamUrl: 'wss://x/v1/data-channel/1',
  tokenValue: 'secret',
};
const AGENT_TEXT =
  'The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running. Wait and try again or run a new task with execute command enabled and try again.';

function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

beforeEach(() => ecsMock.reset());

describe('executeCommand', () => {
  it('calls ExecuteCommand interactively and returns the session', async () => {
    ecsMock.on(ExecuteCommandCommand).resolves({ session: SESSION });
    const client = new ECSClient({ region: 'us-east-1' });
    await expect(executeCommand(client, INPUT, { retryUntilMs: Date.now() + 10_000 })).resolves.toEqual(
      SESSION,
    );
    expect(ecsMock.commandCalls(ExecuteCommandCommand)[0]?.args[0].input).toEqual({
      ...INPUT,
      interactive: true,
    });
  });

  it('retries "wait and try again", TargetNotConnected and throttling with growing jittered delays', async () => {
    ecsMock
      .on(ExecuteCommandCommand)
      .rejectsOnce(new InvalidParameterException({ message: AGENT_TEXT, $metadata: {} }))
      .rejectsOnce(new TargetNotConnectedException({ message: 'internal error', $metadata: {} }))
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves({ session: SESSION });
    const delays: number[] = [];
    const result = await executeCommand(new ECSClient({ region: 'us-east-1' }), INPUT, {
      retryUntilMs: Date.now() + 60_000,
      random: () => 1,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    expect(result.sessionId).toBe(SESSION.sessionId);
    expect(delays).toEqual([500, 1000, 2000]);
  });

  it('gives up with AgentNotReady when the retry budget is spent', async () => {
    ecsMock
      .on(ExecuteCommandCommand)
      .rejects(new TargetNotConnectedException({ message: 'internal error', $metadata: {} }));
    const error = await executeCommand(new ECSClient({ region: 'us-east-1' }), INPUT, {
      retryUntilMs: Date.now() + 1_600,
      random: () => 1,
      sleep: async () => undefined,
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AgentNotReady);
    expect((error as Error).message).toMatch(/after 3 attempts/);
    // A refusal that lasts may be the container's session limit: the message says so.
    expect((error as Error).message).toContain(SESSION_REFUSED_HINT);
  });

  it('names no session limit when the agent was merely not running yet', async () => {
    ecsMock
      .on(ExecuteCommandCommand)
      .rejects(new InvalidParameterException({ message: AGENT_TEXT, $metadata: {} }));
    const error = await executeCommand(new ECSClient({ region: 'us-east-1' }), INPUT, {
      retryUntilMs: Date.now() + 600,
      random: () => 1,
      sleep: async () => undefined,
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AgentNotReady);
    expect((error as Error).message).not.toContain(SESSION_REFUSED_HINT);
  });

  it('does not retry access errors', async () => {
    ecsMock
      .on(ExecuteCommandCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform ecs:ExecuteCommand'));
    const error = await executeCommand(new ECSClient({ region: 'us-east-1' }), INPUT, {
      retryUntilMs: Date.now() + 60_000,
      sleep: async () => undefined,
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ExecuteCommandDenied);
    expect(ecsMock.commandCalls(ExecuteCommandCommand)).toHaveLength(1);
  });

  it('fails when the response has no session', async () => {
    ecsMock.on(ExecuteCommandCommand).resolves({});
    await expect(
      executeCommand(new ECSClient({ region: 'us-east-1' }), INPUT, { retryUntilMs: Date.now() + 1000 }),
    ).rejects.toBeInstanceOf(SessionFailed);
  });
});

describe('classifyExecuteCommandError', () => {
  it.each([
    ['ClusterNotFoundException', 'Cluster not found.', TargetNotFound],
    ['InvalidParameterException', 'The command is too long', InvalidInput],
    ['UnrecognizedClientException', 'bad token', ExecuteCommandDenied],
    ['ServerException', 'boom', SessionFailed],
  ])('maps %s to a final error', (name, message, type) => {
    const classified = classifyExecuteCommandError(awsError(name, message));
    expect(classified.kind).toBe('fail');
    expect(classified.kind === 'fail' && classified.error).toBeInstanceOf(type);
  });
});
