/** What a user drops into their own stack. */

export { esbuildBuildOptions, HANDLER_ENTRY, runnerBundlingOptions } from './bundling';
export { ExecDemoCluster, type ExecDemoClusterProps } from './demo/exec-demo-cluster';
export { EcsExecRunner, type EcsExecRunnerProps } from './ecs-exec-runner';
export { FanOutErrorName, FanOutStates } from './fan-out-workflow';
export { RunCommandStates } from './run-command-workflow';
export type { FanOutInput } from './runtime/fan-out-input';
export { type ScheduleConfig, ScheduleTarget } from './schedules';
