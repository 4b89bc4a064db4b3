/**
 * What the fan-out's listing function, its state machine and their callers agree on. No AWS SDK
 * here: the CDK construct and the package's `contract` entry point import it without pulling a
 * client into their import graph.
 */

/** Environment of the listing function, besides the exec Lambda's defaults (`ExecEnv`). */
export const FanOutEnv = {
  /** Tasks run at once when the input gives no `maxConcurrency`. */
  DefaultMaxConcurrency: 'FAN_OUT_MAX_CONCURRENCY',
} as const;

/** Where task lists go, under the output prefix (the state machine may read only this prefix). */
export const FAN_OUT_TASKS_FOLDER = 'fan-out/tasks/';
/** Where the Distributed Map writes every task's result, under the output prefix. */
export const FAN_OUT_RESULTS_FOLDER = 'fan-out/results';

/** Error the fan-out execution fails with when at least one task failed (the others still ran). */
export const FanOutErrorName = { TasksFailed: 'TasksFailed' } as const;
export type FanOutErrorName = (typeof FanOutErrorName)[keyof typeof FanOutErrorName];
