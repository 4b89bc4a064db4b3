/** What a user drops into their own stack. */

export type { FanOutInput } from '../lambda/fan-out/fan-out-input';
export { ExecDemoCluster, type ExecDemoClusterProps } from './demo/exec-demo-cluster';
export { EcsExecRunner, type EcsExecRunnerProps } from './ecs-exec-runner';
export { FanOutErrorName, FanOutStates } from './fan-out-workflow';
export { RunCommandStates } from './run-command-workflow';
export { type ScheduleConfig, ScheduleTarget } from './schedules';
