/**
 * A local endpoint for the AWS APIs the exec Lambda calls (ECS, KMS, SSM, Step Functions, S3) and
 * the CLI calls (Step Functions executions, CloudFormation DescribeStacks), backed by the
 * message-gateway double, for tests and for running without an AWS account.
 *
 * ```ts
 * const fake = await startFakeAws({ sessionDefaults: FAST_SESSION_DEFAULTS });
 * const restore = fake.applyEnv(); // the SDK now talks to fake.endpoint
 * …
 * restore();
 * await fake.close();
 * ```
 */
import { MessageGatewayDouble } from '../agent-double';
import { type FakeAwsOf, type FakeAwsOptionsOf, startFakeAwsServer } from './server';

export {
  CLOUDFORMATION_API_VERSION,
  type FakeStack,
  type FakeStackInput,
  type FakeStackOutput,
  type FakeStackOutputs,
  StackRegistry,
} from './cloudformation';
export type { ExecSessionRecord, GatewayPort, SessionHandle, TaskCallback } from './context';
export { ECS_TARGET_PREFIX, EcsMessage, LIST_TASKS_MAX_RESULTS } from './ecs';
export { AwsServiceError, UNKNOWN_OPERATION } from './errors';
export {
  type ExecuteCommandFaultError,
  emptyFaultPlan,
  FAST_SESSION_DEFAULTS,
  type FaultPlan,
  type FaultRule,
  type KmsFaultError,
  mergeSessionSpec,
  type SessionOverrides,
} from './faults';
export { KMS_TARGET_PREFIX } from './kms';
export { S3_MIN_PART_BYTES } from './s3';
export {
  FAKE_ACCESS_KEY_ID,
  FAKE_SECRET_ACCESS_KEY,
  type FakeAwsOf,
  type FakeAwsOptionsOf,
  type FakeService,
  LOCALHOST,
  REDACTED,
  type RecordedCall,
  redact,
  UNSET_ENV,
} from './server';
export {
  type ExecutionExecutor,
  type ExecutionHistoryRecorder,
  type ExecutionOutcome,
  type ExecutionRun,
  type ExecutionStatus,
  executionArnOf,
  type FakeExecution,
  type FakeHistoryEvent,
  historyDetailsMember,
  SFN_MAX_CAUSE_CHARS,
  SFN_MAX_ERROR_CHARS,
  SFN_MAX_OUTPUT_BYTES,
  SFN_TARGET_PREFIX,
  type StateMachineOptions,
  StateMachineRegistry,
} from './sfn';
export { SSM_TARGET_PREFIX } from './ssm';
export {
  addCluster,
  addFleetService,
  addTask,
  type ClusterInput,
  type ContainerInput,
  type ContainerStatus,
  clusterArn,
  containerArn,
  DEFAULT_ACCOUNT,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_REGION,
  DEFAULT_WORLD_IDS,
  defaultWorld,
  type ExecAgentStatus,
  type ExecLogging,
  emptyWorld,
  execTargetId,
  type FakeCluster,
  type FakeContainer,
  type FakeTask,
  type FakeWorld,
  FLEET_TASK_COUNT,
  findCluster,
  findTask,
  fleetHostname,
  fleetTaskId,
  type HealthStatus,
  kmsKeyArn,
  type LaunchType,
  newTaskId,
  type TaskInput,
  type TaskStatus,
  taskArn,
  type WorldOptions,
} from './world';

/** A running fake endpoint with its message-gateway double. */
export type FakeAws = FakeAwsOf<MessageGatewayDouble>;
export type FakeAwsOptions = FakeAwsOptionsOf<MessageGatewayDouble>;

/**
 * Starts the endpoint on 127.0.0.1 (a free port). It starts its own MessageGatewayDouble unless
 * given one, and closes only a gateway it started.
 */
export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const ownGateway = options.gateway === undefined;
  const gateway = options.gateway ?? (await MessageGatewayDouble.start());
  const closeGateway = async (): Promise<void> => {
    if (ownGateway) await gateway.close();
  };
  try {
    return await startFakeAwsServer({ ...options, gateway }, closeGateway);
  } catch (err) {
    await closeGateway();
    throw err;
  }
}
export {
  type ContainerRestart,
  type ContainerRestartOptions,
  processesOf,
  restartContainer,
} from './container-restart';
export { CONTAINER_METADATA_VARIABLE, containerIdentityEnv } from './ecs';
