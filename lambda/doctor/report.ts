/** Facts → the report: runs every check that applies and summarises per task and overall. */
import {
  checkCallerExecuteCommand,
  checkCallerGenerateDataKey,
  checkCallerIdentity,
  checkCallerStartSession,
} from './checks/caller';
import {
  checkClusterExists,
  checkExecLogging,
  checkKmsKey,
  checkLogBucket,
  checkLogGroup,
  checkServiceExec,
} from './checks/cluster';
import { finding, notChecked, partitionOf, worst } from './checks/common';
import { checkReachability, checkSubnet, requiredServices } from './checks/network';
import { checkAgentRole, checkAgentRolePermissions } from './checks/role';
import {
  checkCredentialEnvironment,
  checkExecAgents,
  checkExecEnabled,
  checkInitProcess,
  checkPidMode,
  checkPlatform,
  checkReadonlyRoot,
  checkTaskStatus,
} from './checks/task';
import type {
  ClusterFacts,
  DoctorFacts,
  DoctorTarget,
  Finding,
  FindingStatus,
  TaskReportFacts,
} from './types';

export const DOCTOR_REPORT_VERSION = 1;

export interface TaskReport {
  readonly taskArn: string;
  readonly status: FindingStatus;
  readonly findings: readonly Finding[];
}

export interface DoctorReport {
  readonly version: typeof DOCTOR_REPORT_VERSION;
  readonly target: DoctorTarget;
  readonly region: string;
  /** The worst status of every finding: `fail` makes the CLI exit 1. */
  readonly status: FindingStatus;
  /** One line: how many checks passed, warned, failed (and for a service, how many tasks are ready). */
  readonly summary: string;
  /** Caller, cluster and service findings. */
  readonly findings: readonly Finding[];
  readonly tasks: readonly TaskReport[];
  /** Tasks left out of `tasks` to fit a Step Functions state (the Lambda action only). */
  readonly omittedTasks?: number;
}

export function buildReport(facts: DoctorFacts): DoctorReport {
  const findings: Finding[] = [checkCallerIdentity(facts.caller)];
  const cluster = facts.cluster.ok ? facts.cluster.value : undefined;
  findings.push(checkClusterExists(facts.cluster, facts.target.cluster));
  if (cluster !== undefined) findings.push(...clusterFindings(facts, cluster));
  const clusterMissing = facts.cluster.ok && facts.cluster.value === undefined;
  const awsUnreachable = !facts.caller.ok && !facts.caller.denied;
  if (clusterMissing || awsUnreachable) return assemble(facts, findings, []);
  const taskFacts = facts.tasks.ok ? facts.tasks.value : [];
  if (facts.target.service !== undefined && facts.service !== undefined) {
    findings.push(
      checkServiceExec(
        facts.service,
        facts.target.service,
        taskFacts.map((t) => t.task),
        cluster?.name ?? facts.target.cluster,
      ),
    );
  }
  if (!facts.tasks.ok) {
    findings.push(notChecked('task.lookup', 'the tasks', facts.tasks));
  } else if (taskFacts.length === 0) {
    findings.push(
      finding(
        'task.lookup',
        'fail',
        facts.target.task !== undefined ? 'task exists' : 'service has RUNNING tasks',
        facts.target.task !== undefined
          ? `task ${facts.target.task} not found in ${facts.target.cluster} (stopped tasks disappear after about an hour)`
          : `service ${facts.target.service} has no RUNNING task`,
        'check --task/--service and --cluster; start a task with ECS Exec enabled',
      ),
    );
  }
  return assemble(
    facts,
    findings,
    taskFacts.map((t) => taskReport(facts, cluster, t)),
  );
}

function assemble(
  facts: DoctorFacts,
  findings: readonly Finding[],
  tasks: readonly TaskReport[],
): DoctorReport {
  const all = [...findings, ...tasks.flatMap((t) => t.findings)];
  const status = worst(all.map((f) => f.status));
  return {
    version: DOCTOR_REPORT_VERSION,
    target: facts.target,
    region: facts.region,
    status,
    summary: summarise(all, tasks),
    findings,
    tasks,
  };
}

function clusterFindings(facts: DoctorFacts, cluster: ClusterFacts): Finding[] {
  const findings: Finding[] = [checkExecLogging(cluster)];
  const exec = cluster.exec;
  if (exec?.kmsKeyId && facts.kmsKey) findings.push(checkKmsKey(exec.kmsKeyId, facts.kmsKey));
  const log = exec?.log;
  if (log?.s3BucketName && facts.bucket) {
    findings.push(checkLogBucket(log.s3BucketName, log.s3EncryptionEnabled === true, facts.bucket));
  }
  if (log?.cloudWatchLogGroupName && facts.logGroup) {
    findings.push(
      checkLogGroup(log.cloudWatchLogGroupName, log.cloudWatchEncryptionEnabled === true, facts.logGroup),
    );
  }
  return findings;
}

/** The exec key as an ARN when the doctor could resolve it; the configured id otherwise. */
export function execKeyArn(
  facts: Pick<DoctorFacts, 'kmsKey'>,
  cluster: ClusterFacts | undefined,
): string | undefined {
  const keyId = cluster?.exec?.kmsKeyId;
  if (!keyId) return undefined;
  return facts.kmsKey?.ok && facts.kmsKey.value !== undefined ? facts.kmsKey.value.arn : keyId;
}

function taskReport(facts: DoctorFacts, cluster: ClusterFacts | undefined, t: TaskReportFacts): TaskReport {
  const { task } = t;
  const container = facts.target.container;
  const clusterName = cluster?.name ?? facts.target.cluster;
  const keyArn = execKeyArn(facts, cluster);
  const findings: Finding[] = [];
  const decisions = facts.callerDecisions[task.arn];
  if (decisions !== undefined) {
    findings.push(checkCallerExecuteCommand(facts.caller, decisions, task.arn));
    findings.push(checkCallerStartSession(facts.caller, decisions));
    if (keyArn !== undefined) findings.push(checkCallerGenerateDataKey(facts.caller, decisions, keyArn));
  }
  findings.push(
    checkTaskStatus(task),
    checkPlatform(task, t.containerInstance, clusterName),
    checkExecEnabled(task, clusterName),
    checkExecAgents(task, container),
  );
  if (t.definition.ok) {
    const definition = t.definition.value;
    findings.push(
      checkInitProcess(definition, container),
      checkReadonlyRoot(definition, container),
      checkPidMode(definition),
      checkCredentialEnvironment(definition, container),
    );
  } else {
    findings.push(notChecked('taskdef', 'the task definition', t.definition));
  }
  findings.push(checkAgentRole(t.agentRole, task.launchType));
  const log = cluster?.exec?.log;
  if (t.agentRole.ok && t.agentRole.value !== undefined && t.agentRoleDecisions !== undefined) {
    const account = task.arn.split(':')[4] ?? '';
    findings.push(
      ...checkAgentRolePermissions(
        t.agentRole.value,
        t.agentRoleDecisions,
        { partition: partitionOf(task.arn), region: facts.region, account },
        { ...(keyArn !== undefined ? { kmsKeyArn: keyArn } : {}), ...(log !== undefined ? { log } : {}) },
      ),
    );
  }
  const account = facts.caller.ok ? facts.caller.value.account : undefined;
  findings.push(checkSubnet(t.network, account));
  findings.push(
    checkReachability(
      t.network,
      facts.region,
      account,
      requiredServices({
        kms: keyArn !== undefined,
        logs: Boolean(log?.cloudWatchLogGroupName),
        s3: Boolean(log?.s3BucketName),
      }),
    ),
  );
  if (t.probe !== undefined) {
    findings.push(
      finding(
        'probe',
        t.probe.ok ? 'ok' : 'fail',
        'live probe: run `true` through ECS Exec',
        t.probe.detail,
        'the checks above may all pass while exec still fails: read the error, and the agent log in the container (/var/log/amazon/ssm/amazon-ssm-agent.log)',
      ),
    );
  }
  return { taskArn: task.arn, status: worst(findings.map((f) => f.status)), findings };
}

function summarise(all: readonly Finding[], tasks: readonly TaskReport[]): string {
  const count = (status: FindingStatus): number => all.filter((f) => f.status === status).length;
  const checks = `${count('ok')} ok, ${count('warn')} warning${count('warn') === 1 ? '' : 's'}, ${count('fail')} failed`;
  if (tasks.length <= 1) return checks;
  const ready = tasks.filter((t) => t.status !== 'fail').length;
  return `${checks}; ${ready} of ${tasks.length} tasks without failures`;
}
