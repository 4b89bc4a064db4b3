/**
 * `--stack NAME`: the "run one command" (or, with `outputKey`, the fan-out) state machine's ARN from the stack's outputs. The demo
 * stack (lib/ecs-exec-runner-demo-stack.ts) names the output `RunCommandStateMachineArn`; a stack
 * that embeds the construct under another id may prefix or suffix it, so a single output whose
 * key contains that name is taken too.
 */
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { usageError } from './execution-exit-codes';
import { RUN_COMMAND_OUTPUT_KEY } from './stack-names';

export async function stateMachineArnFromStack(
  cloudFormation: CloudFormationClient,
  stackName: string,
  outputKey: string = RUN_COMMAND_OUTPUT_KEY,
): Promise<string> {
  let outputs: Array<{ OutputKey?: string; OutputValue?: string }>;
  try {
    const answer = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = answer.Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    // CloudFormation answers an unknown stack with ValidationError "Stack with id X does not exist".
    if (err instanceof Error && err.name === 'ValidationError' && /does not exist/.test(err.message)) {
      throw usageError(
        `stack ${stackName} does not exist (in this account and region); pass --stack or --state-machine`,
      );
    }
    throw err;
  }
  const exact = outputs.find((output) => output.OutputKey === outputKey);
  const candidates =
    exact !== undefined ? [exact] : outputs.filter((output) => output.OutputKey?.includes(outputKey));
  const [match] = candidates;
  if (candidates.length !== 1 || match?.OutputValue === undefined) {
    const keys = outputs.map((output) => output.OutputKey).join(', ') || 'none';
    throw usageError(
      `stack ${stackName} has ${candidates.length === 0 ? 'no' : 'more than one'} output named like ${outputKey} (outputs: ${keys}); pass --state-machine ARN`,
    );
  }
  return match.OutputValue;
}
