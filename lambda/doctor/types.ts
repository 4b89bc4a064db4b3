/**
 * The doctor's data model: the facts the fetch layer gathers (facts.ts) and the findings the pure
 * checks (checks/*.ts) derive from them. Facts are plain data, so a check is a function of its
 * input alone and its tests are tables.
 */

export type FindingStatus = 'ok' | 'warn' | 'fail';

export interface Finding {
  /** Stable, dotted: `task.exec-agent`, `task-role.ssmmessages`… */
  readonly id: string;
  readonly status: FindingStatus;
  /** What was checked, in a few words. */
  readonly summary: string;
  /** What was found. */
  readonly found: string;
  /** The exact remedy (setting, IAM statement, CLI or CDK snippet); absent when nothing is wrong. */
  readonly fix?: string;
}

/**
 * A fact the caller may or may not have been allowed to read. `denied` carries the action the
 * caller lacks, so the finding can say "could not check X: the caller lacks Y".
 */
export type Fetched<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly denied: true; readonly action: string; readonly message: string }
  | { readonly ok: false; readonly denied: false; readonly action: string; readonly message: string };

/** `allowed`, `explicitDeny` or `implicitDeny`, as iam:SimulatePrincipalPolicy reports them. */
export type Decision = 'allowed' | 'explicitDeny' | 'implicitDeny' | string;

/** Decisions of one principal, by action. */
export type Decisions = Readonly<Record<string, Decision>>;

export interface CallerFacts {
  readonly account: string;
  /** As STS reports it (an assumed-role session ARN for a role). */
  readonly arn: string;
  /** The IAM principal to simulate: the role behind an assumed-role session. */
  readonly principalArn: string;
}

export interface ExecLogConfiguration {
  readonly s3BucketName?: string;
  readonly s3KeyPrefix?: string;
  readonly s3EncryptionEnabled?: boolean;
  readonly cloudWatchLogGroupName?: string;
  readonly cloudWatchEncryptionEnabled?: boolean;
}

export interface ClusterFacts {
  readonly arn: string;
  readonly name: string;
  readonly status: string;
  /** `executeCommandConfiguration`; absent when the cluster has none. */
  readonly exec?: {
    readonly kmsKeyId?: string;
    readonly logging?: string;
    readonly log?: ExecLogConfiguration;
  };
}

export interface KmsKeyFacts {
  readonly arn: string;
  readonly enabled: boolean;
  readonly keyState: string;
}

export interface LogGroupFacts {
  readonly exists: boolean;
  readonly kmsKeyId?: string;
}

export interface BucketFacts {
  readonly exists: boolean;
  /** Default encryption algorithms (`AES256`, `aws:kms`…); empty when none is configured. */
  readonly encryption: readonly string[];
}

export interface ManagedAgentFacts {
  readonly name: string;
  readonly lastStatus?: string;
  readonly reason?: string;
}

export interface ContainerFacts {
  readonly name: string;
  readonly lastStatus?: string;
  readonly execAgent?: ManagedAgentFacts;
  /** The container has a `managedAgents` list at all (tasks started without exec have none). */
  readonly hasManagedAgents: boolean;
}

export interface TaskFacts {
  readonly arn: string;
  readonly id: string;
  readonly lastStatus: string;
  readonly stoppedReason?: string;
  readonly launchType?: string;
  readonly platformVersion?: string;
  readonly platformFamily?: string;
  readonly enableExecuteCommand: boolean;
  /** The service that started it (from `group: service:<name>`). */
  readonly service?: string;
  readonly taskDefinitionArn: string;
  readonly containerInstanceArn?: string;
  /** `overrides.taskRoleArn`. */
  readonly overrideTaskRoleArn?: string;
  /** awsvpc only: the task's ENI and subnet. */
  readonly subnetId?: string;
  readonly networkInterfaceId?: string;
  readonly containers: readonly ContainerFacts[];
}

export interface ContainerDefinitionFacts {
  readonly name: string;
  readonly initProcessEnabled: boolean;
  readonly readonlyRootFilesystem: boolean;
  /** Names only (values are never read into the report): environment and secrets. */
  readonly environmentNames: readonly string[];
}

export interface TaskDefinitionFacts {
  readonly arn: string;
  readonly familyRevision: string;
  readonly taskRoleArn?: string;
  readonly pidMode?: string;
  readonly networkMode?: string;
  readonly containers: readonly ContainerDefinitionFacts[];
}

export interface ContainerInstanceFacts {
  readonly agentVersion?: string;
  readonly ec2InstanceId?: string;
  readonly subnetId?: string;
}

/** The role the exec agent runs with: the task role, or on EC2 without one, the instance's role. */
export interface AgentRoleFacts {
  readonly arn: string;
  readonly source: 'override' | 'task-definition' | 'instance-profile';
}

export interface Route {
  readonly destination: string;
  /** `nat-…`, `igw-…`, `tgw-…`, `eni-…`, `pcx-…`, `vgw-…`, `local`. */
  readonly target: string;
  readonly state?: string;
}

export interface NetworkFacts {
  readonly subnetId: string;
  readonly vpcId: string;
  readonly subnetOwnerId: string;
  /** Service names of the VPC's endpoints (`com.amazonaws.<region>.ssmmessages`). */
  readonly endpointServices: Fetched<readonly string[]>;
  readonly routes: Fetched<readonly Route[]>;
  readonly publicIp: Fetched<string | undefined>;
}

export interface ServiceFacts {
  readonly arn: string;
  readonly name: string;
  readonly enableExecuteCommand: boolean;
  readonly status: string;
}

/** Everything the checks of one task need. */
export interface TaskReportFacts {
  readonly task: TaskFacts;
  readonly definition: Fetched<TaskDefinitionFacts>;
  readonly containerInstance?: Fetched<ContainerInstanceFacts>;
  readonly agentRole: Fetched<AgentRoleFacts | undefined>;
  /** Simulated decisions of the agent role, by action; absent without a role. */
  readonly agentRoleDecisions?: Fetched<Decisions>;
  /** Absent for bridge/host networking on a host the doctor could not place. */
  readonly network?: Fetched<NetworkFacts>;
  /** `true` when the probe ran `true` through ECS Exec; the error text otherwise. */
  readonly probe?: { readonly ok: boolean; readonly detail: string };
}

/** What the user pointed the doctor at. */
export interface DoctorTarget {
  readonly cluster: string;
  readonly task?: string;
  readonly service?: string;
  readonly container?: string;
}

/** Everything the caller- and cluster-level checks need. */
export interface DoctorFacts {
  readonly region: string;
  readonly target: DoctorTarget;
  readonly caller: Fetched<CallerFacts>;
  readonly cluster: Fetched<ClusterFacts | undefined>;
  readonly kmsKey?: Fetched<KmsKeyFacts | undefined>;
  readonly logGroup?: Fetched<LogGroupFacts>;
  readonly bucket?: Fetched<BucketFacts>;
  readonly service?: Fetched<ServiceFacts | undefined>;
  /** Decisions of the caller per task ARN (ecs:ExecuteCommand, ssm:StartSession, kms:GenerateDataKey). */
  readonly callerDecisions: Readonly<Record<string, Fetched<Decisions>>>;
  /** The tasks examined (one for --task, the RUNNING ones of a service); a lookup failure otherwise. */
  readonly tasks: Fetched<readonly TaskReportFacts[]>;
}
