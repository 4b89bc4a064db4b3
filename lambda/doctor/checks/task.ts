/** The task itself and its task definition: status, platform, exec flag, agents, container settings. */
import type { ContainerInstanceFacts, Fetched, Finding, TaskDefinitionFacts, TaskFacts } from '../types';
import { compareVersions, finding, notChecked } from './common';

export const MIN_FARGATE_LINUX_PLATFORM = '1.4.0';
export const MIN_FARGATE_WINDOWS_PLATFORM = '1.0.0';
export const MIN_EC2_AGENT_VERSION = '1.50.2';
/** Environment variables that replace the task role's credentials for the exec agent too. */
export const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY'] as const;
const PENDING_STATUSES: ReadonlySet<string> = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

export function checkTaskStatus(task: TaskFacts): Finding {
  const id = 'task.status';
  const summary = 'task is RUNNING';
  if (task.lastStatus === 'RUNNING') return finding(id, 'ok', summary, 'RUNNING');
  if (PENDING_STATUSES.has(task.lastStatus)) {
    return finding(
      id,
      'warn',
      summary,
      `${task.lastStatus}: not started yet`,
      'wait until it is RUNNING and try again',
    );
  }
  return finding(
    id,
    'fail',
    summary,
    `${task.lastStatus}${task.stoppedReason ? ` (${task.stoppedReason})` : ''}`,
    'exec into a RUNNING task: pick another (ecs-exec doctor --service <service> lists them) or start a new one',
  );
}

export function checkPlatform(
  task: TaskFacts,
  instance: Fetched<ContainerInstanceFacts> | undefined,
  clusterName: string,
): Finding {
  const id = 'task.platform';
  if (task.launchType === 'FARGATE') {
    const windows = (task.platformFamily ?? '').toUpperCase().includes('WINDOWS');
    const required = windows ? MIN_FARGATE_WINDOWS_PLATFORM : MIN_FARGATE_LINUX_PLATFORM;
    const summary = `Fargate platform version >= ${required}`;
    const version = task.platformVersion ?? 'unknown';
    if (version === 'LATEST' || (version !== 'unknown' && compareVersions(version, required) >= 0)) {
      return finding(id, 'ok', summary, `FARGATE ${version}${windows ? ' (Windows)' : ''}`);
    }
    return finding(
      id,
      'fail',
      summary,
      `FARGATE ${version}: ECS Exec needs ${required} or later`,
      `run the task (or update the service) with --platform-version LATEST (CDK: platformVersion: FargatePlatformVersion.LATEST)`,
    );
  }
  if (task.launchType === 'EC2') {
    const summary = `ECS container agent >= ${MIN_EC2_AGENT_VERSION}`;
    if (instance === undefined) return finding(id, 'warn', summary, 'the task names no container instance');
    if (!instance.ok) return notChecked(id, summary, instance);
    const version = instance.value.agentVersion;
    if (version !== undefined && compareVersions(version, MIN_EC2_AGENT_VERSION) >= 0) {
      return finding(id, 'ok', summary, `EC2, agent ${version}`);
    }
    return finding(
      id,
      'fail',
      summary,
      `EC2, agent ${version ?? 'unknown'}: ECS Exec needs ${MIN_EC2_AGENT_VERSION} or later`,
      `aws ecs update-container-agent --cluster ${clusterName} --container-instance ${task.containerInstanceArn ?? instance.value.ec2InstanceId}, or replace the instance with a current ECS-optimized AMI`,
    );
  }
  return finding(
    id,
    'warn',
    'launch type supports ECS Exec',
    `${task.launchType ?? 'unknown'} launch type: not checked`,
  );
}

export function checkExecEnabled(task: TaskFacts, clusterName: string): Finding {
  const id = 'task.exec-enabled';
  const summary = 'task was started with enableExecuteCommand';
  if (task.enableExecuteCommand) return finding(id, 'ok', summary, 'enabled');
  return finding(
    id,
    'fail',
    summary,
    'disabled: the flag is set when a task starts and cannot be turned on for a running task',
    task.service !== undefined
      ? `aws ecs update-service --cluster ${clusterName} --service ${task.service} --enable-execute-command --force-new-deployment (CDK: enableExecuteCommand: true on the service)`
      : 'start the task again with aws ecs run-task --enable-execute-command … (CDK: enableExecuteCommand: true)',
  );
}

/** Every container's ExecuteCommandAgent (or only `container`'s): the checker looks at the first only. */
export function checkExecAgents(task: TaskFacts, container?: string): Finding {
  const id = 'task.exec-agent';
  const summary = 'ExecuteCommandAgent RUNNING in every container';
  if (!task.enableExecuteCommand) {
    return finding(
      id,
      'fail',
      summary,
      'no agent: the task was started without ECS Exec',
      'enable ECS Exec and start a new task (see "task was started with enableExecuteCommand")',
    );
  }
  const containers = task.containers.filter((c) => container === undefined || c.name === container);
  if (containers.length === 0) {
    return finding(
      id,
      'fail',
      summary,
      `no container "${container}" (the task has ${task.containers.map((c) => c.name).join(', ')})`,
      'pass one of those names as --container',
    );
  }
  const stopped: string[] = [];
  const pending: string[] = [];
  const running: string[] = [];
  for (const c of containers) {
    const status = c.execAgent?.lastStatus ?? (c.hasManagedAgents ? 'MISSING' : 'MISSING');
    if (status === 'RUNNING') running.push(c.name);
    else if (status === 'PENDING') pending.push(c.name);
    else stopped.push(`${c.name}: ${status}${c.execAgent?.reason ? ` (${c.execAgent.reason})` : ''}`);
  }
  if (stopped.length > 0) {
    return finding(
      id,
      'fail',
      summary,
      `agent not running in ${stopped.join('; ')}`,
      'the agent stops when it cannot reach ssmmessages, lacks the task role permissions, or cannot write its files (read-only root filesystem): fix the failures below, then start a new task',
    );
  }
  if (pending.length > 0) {
    return finding(
      id,
      'warn',
      summary,
      `PENDING in ${pending.join(', ')}`,
      'the agent is starting: wait a few seconds',
    );
  }
  return finding(id, 'ok', summary, `RUNNING in ${running.join(', ')}`);
}

function definitionContainers(definition: TaskDefinitionFacts, container?: string) {
  return definition.containers.filter((c) => container === undefined || c.name === container);
}

export function checkInitProcess(definition: TaskDefinitionFacts, container?: string): Finding {
  const id = 'taskdef.init-process';
  const summary = 'initProcessEnabled (reaps the processes exec sessions leave behind)';
  const without = definitionContainers(definition, container).filter((c) => !c.initProcessEnabled);
  if (without.length === 0) return finding(id, 'ok', summary, `enabled (${definition.familyRevision})`);
  return finding(
    id,
    'warn',
    summary,
    `disabled in ${without.map((c) => c.name).join(', ')} (${definition.familyRevision}): orphaned session processes become zombies`,
    'set "linuxParameters": {"initProcessEnabled": true} on the container (CDK: linuxParameters: new LinuxParameters(this, id, { initProcessEnabled: true }))',
  );
}

export function checkReadonlyRoot(definition: TaskDefinitionFacts, container?: string): Finding {
  const id = 'taskdef.readonly-root';
  const summary = 'root filesystem writable (the agent writes under /var/lib/amazon/ssm)';
  const readonly = definitionContainers(definition, container).filter((c) => c.readonlyRootFilesystem);
  if (readonly.length === 0) return finding(id, 'ok', summary, `writable (${definition.familyRevision})`);
  return finding(
    id,
    'fail',
    summary,
    `readonlyRootFilesystem is true in ${readonly.map((c) => c.name).join(', ')} (${definition.familyRevision}): the exec agent cannot start`,
    'set "readonlyRootFilesystem": false on the container, or mount writable volumes at /var/lib/amazon and /var/log/amazon (CDK: readonlyRootFilesystem: false)',
  );
}

export function checkPidMode(definition: TaskDefinitionFacts): Finding {
  const id = 'taskdef.pid-mode';
  const summary = 'pidMode';
  if (definition.pidMode !== 'task') return finding(id, 'ok', summary, definition.pidMode ?? 'not set');
  return finding(
    id,
    'warn',
    summary,
    '"task": the containers share one PID namespace, and ECS Exec allows one session per namespace at a time',
    'remove "pidMode" from the task definition unless the containers must see each other\'s processes; run sessions one at a time',
  );
}

export function checkCredentialEnvironment(definition: TaskDefinitionFacts, container?: string): Finding {
  const id = 'taskdef.aws-credentials-env';
  const summary = 'no AWS credentials in the container environment';
  const offenders = definitionContainers(definition, container).flatMap((c) =>
    c.environmentNames
      .filter((name) => (CREDENTIAL_VARIABLES as readonly string[]).includes(name))
      .map((name) => `${c.name}: ${name}`),
  );
  if (offenders.length === 0) return finding(id, 'ok', summary, 'none set');
  return finding(
    id,
    'warn',
    summary,
    `${offenders.join(', ')} (${definition.familyRevision}): the agent uses these instead of the task role, and they usually lack ssmmessages`,
    'remove them and give the task role the permissions instead (the values were not read)',
  );
}
