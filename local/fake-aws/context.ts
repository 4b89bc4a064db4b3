/** What the service handlers of the fake endpoint share. */
import type { AgentSessionSpec } from '../agent-double/options';
import type { StackRegistry } from './cloudformation';
import type { FaultPlan, SessionOverrides } from './faults';
import type { JsonObject } from './input';
import type { S3Store } from './s3-store';
import type { StateMachineRegistry } from './sfn';
import type { FakeWorld } from './world';

type Awaitable<T> = T | Promise<T>;

export interface SessionHandle {
  readonly sessionId: string;
  readonly streamUrl: string;
  readonly tokenValue: string;
}

/** The part of the message-gateway double the endpoint drives. */
export interface GatewayPort {
  createSession(spec: AgentSessionSpec): Awaitable<SessionHandle>;
  resumeSession(sessionId: string): Awaitable<{ readonly tokenValue: string; readonly streamUrl: string }>;
  terminateSession(sessionId: string): Awaitable<unknown>;
  /** Whether a session created here has not ended yet (for per-container session limits). */
  isLive?(sessionId: string): boolean;
}

/** One ECS Exec session the endpoint created, with the spec the agent double got. */
export interface ExecSessionRecord {
  readonly sessionId: string;
  readonly cluster: string;
  readonly taskId: string;
  readonly container: string;
  readonly command: string;
  readonly spec: AgentSessionSpec;
}

export type TaskCallback =
  | { readonly kind: 'success'; readonly taskToken: string; readonly output: string; readonly at: Date }
  | {
      readonly kind: 'failure';
      readonly taskToken: string;
      readonly error?: string;
      readonly cause?: string;
      readonly at: Date;
    }
  | { readonly kind: 'heartbeat'; readonly taskToken: string; readonly at: Date };

export interface FakeContext {
  readonly world: FakeWorld;
  readonly gateway: GatewayPort;
  readonly faults: FaultPlan;
  readonly sessionDefaults?: SessionOverrides;
  readonly sessions: ExecSessionRecord[];
  readonly taskCallbacks: TaskCallback[];
  readonly s3: S3Store;
  /** State machines StartExecution can run, and their executions. */
  readonly stateMachines: StateMachineRegistry;
  /** CloudFormation stacks DescribeStacks answers with. */
  readonly stacks: StackRegistry;
  /** `http://127.0.0.1:<port>`, for S3 `Location`s. */
  readonly endpoint: () => string;
}

/** A JSON-protocol operation: decoded input in, output object out, or an AwsServiceError thrown. */
export type JsonOperation = (ctx: FakeContext, input: JsonObject) => Promise<Record<string, unknown>>;
