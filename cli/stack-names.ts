/** Names shared by the CLI and the local environment (no imports, so either can load it cheaply). */

/** The stack `bin/app.ts` deploys; `ecs-exec run` uses it when given neither --stack nor --state-machine. */
export const DEFAULT_STACK_NAME = 'EcsExecRunnerDemo';
/** The demo stack's output holding the "run one command" state machine's ARN (lib/ecs-exec-runner-demo-stack.ts). */
export const RUN_COMMAND_OUTPUT_KEY = 'RunCommandStateMachineArn';
/** The demo stack's output holding the fan-out state machine's ARN (`ecs-exec run --fan-out`). */
export const FAN_OUT_OUTPUT_KEY = 'FanOutStateMachineArn';
