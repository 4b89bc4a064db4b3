/**
 * The ECS reads of the doctor: the cluster and its exec configuration, the service, the tasks (a
 * service's RUNNING ones, paged and described in batches), task definitions, container instances.
 */
import {
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  paginateListTasks,
  type Task,
} from '@aws-sdk/client-ecs';
import { EXEC_AGENT_NAME } from '../aws/target';
import type {
  ClusterFacts,
  ContainerInstanceFacts,
  ServiceFacts,
  TaskDefinitionFacts,
  TaskFacts,
} from './types';

const SERVICE_GROUP_PREFIX = 'service:';

export async function fetchCluster(ecs: ECSClient, cluster: string): Promise<ClusterFacts | undefined> {
  const response = await ecs.send(
    new DescribeClustersCommand({ clusters: [cluster], include: ['CONFIGURATIONS'] }),
  );
  const found = response.clusters?.[0];
  if (found?.clusterArn === undefined) return undefined;
  const exec = found.configuration?.executeCommandConfiguration;
  const log = exec?.logConfiguration;
  return {
    arn: found.clusterArn,
    name: found.clusterName ?? cluster,
    status: found.status ?? 'UNKNOWN',
    ...(exec !== undefined
      ? {
          exec: {
            ...(exec.kmsKeyId ? { kmsKeyId: exec.kmsKeyId } : {}),
            ...(exec.logging ? { logging: exec.logging } : {}),
            ...(log !== undefined
              ? {
                  log: {
                    ...(log.s3BucketName ? { s3BucketName: log.s3BucketName } : {}),
                    ...(log.s3KeyPrefix ? { s3KeyPrefix: log.s3KeyPrefix } : {}),
                    ...(log.s3EncryptionEnabled !== undefined
                      ? { s3EncryptionEnabled: log.s3EncryptionEnabled }
                      : {}),
                    ...(log.cloudWatchLogGroupName
                      ? { cloudWatchLogGroupName: log.cloudWatchLogGroupName }
                      : {}),
                    ...(log.cloudWatchEncryptionEnabled !== undefined
                      ? { cloudWatchEncryptionEnabled: log.cloudWatchEncryptionEnabled }
                      : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}

export async function fetchService(
  ecs: ECSClient,
  cluster: string,
  service: string,
): Promise<ServiceFacts | undefined> {
  const response = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const found = response.services?.find((s) => s.status !== 'INACTIVE');
  if (found?.serviceArn === undefined) return undefined;
  return {
    arn: found.serviceArn,
    name: found.serviceName ?? service,
    enableExecuteCommand: found.enableExecuteCommand === true,
    status: found.status ?? 'UNKNOWN',
  };
}

/** DescribeTasks takes at most this many tasks per call. */
const DESCRIBE_TASKS_BATCH = 100;

export async function fetchTasks(
  ecs: ECSClient,
  cluster: string,
  refs: readonly string[],
): Promise<TaskFacts[]> {
  const tasks: TaskFacts[] = [];
  for (let i = 0; i < refs.length; i += DESCRIBE_TASKS_BATCH) {
    const response = await ecs.send(
      new DescribeTasksCommand({ cluster, tasks: refs.slice(i, i + DESCRIBE_TASKS_BATCH) }),
    );
    tasks.push(...(response.tasks ?? []).map(taskFacts));
  }
  return tasks;
}

export async function listServiceTasks(ecs: ECSClient, cluster: string, service: string): Promise<string[]> {
  const arns: string[] = [];
  const serviceName = service.split('/').pop() ?? service;
  for await (const page of paginateListTasks(
    { client: ecs },
    { cluster, serviceName, desiredStatus: 'RUNNING' },
  )) {
    arns.push(...(page.taskArns ?? []));
  }
  return arns;
}

function taskFacts(task: Task): TaskFacts {
  const arn = task.taskArn ?? '';
  const eni = task.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
  const detail = (name: string): string | undefined => eni?.details?.find((d) => d.name === name)?.value;
  const subnetId = detail('subnetId');
  const networkInterfaceId = detail('networkInterfaceId');
  const service = task.group?.startsWith(SERVICE_GROUP_PREFIX)
    ? task.group.slice(SERVICE_GROUP_PREFIX.length)
    : undefined;
  return {
    arn,
    id: arn.split('/').pop() ?? arn,
    lastStatus: task.lastStatus ?? 'UNKNOWN',
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    ...(task.launchType ? { launchType: task.launchType } : {}),
    ...(task.platformVersion ? { platformVersion: task.platformVersion } : {}),
    ...(task.platformFamily ? { platformFamily: task.platformFamily } : {}),
    enableExecuteCommand: task.enableExecuteCommand === true,
    ...(service ? { service } : {}),
    taskDefinitionArn: task.taskDefinitionArn ?? '',
    ...(task.containerInstanceArn ? { containerInstanceArn: task.containerInstanceArn } : {}),
    ...(task.overrides?.taskRoleArn ? { overrideTaskRoleArn: task.overrides.taskRoleArn } : {}),
    ...(subnetId ? { subnetId } : {}),
    ...(networkInterfaceId ? { networkInterfaceId } : {}),
    containers: (task.containers ?? []).map((c) => {
      const agent = c.managedAgents?.find((a) => a.name === EXEC_AGENT_NAME);
      return {
        name: c.name ?? '',
        ...(c.lastStatus ? { lastStatus: c.lastStatus } : {}),
        hasManagedAgents: c.managedAgents !== undefined,
        ...(agent !== undefined
          ? {
              execAgent: {
                name: EXEC_AGENT_NAME,
                ...(agent.lastStatus ? { lastStatus: agent.lastStatus } : {}),
                ...(agent.reason ? { reason: agent.reason } : {}),
              },
            }
          : {}),
      };
    }),
  };
}

export async function fetchTaskDefinition(ecs: ECSClient, arn: string): Promise<TaskDefinitionFacts> {
  const { taskDefinition: td } = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
  return {
    arn: td?.taskDefinitionArn ?? arn,
    familyRevision: `${td?.family ?? '?'}:${td?.revision ?? '?'}`,
    ...(td?.taskRoleArn ? { taskRoleArn: td.taskRoleArn } : {}),
    ...(td?.pidMode ? { pidMode: td.pidMode } : {}),
    ...(td?.networkMode ? { networkMode: td.networkMode } : {}),
    containers: (td?.containerDefinitions ?? []).map((c) => ({
      name: c.name ?? '',
      initProcessEnabled: c.linuxParameters?.initProcessEnabled === true,
      readonlyRootFilesystem: c.readonlyRootFilesystem === true,
      // Names only: the values may be secrets and never enter the report.
      environmentNames: [...(c.environment ?? []), ...(c.secrets ?? [])]
        .map((e) => e.name)
        .filter((n): n is string => n !== undefined),
    })),
  };
}

export async function fetchContainerInstance(
  ecs: ECSClient,
  cluster: string,
  arn: string,
): Promise<ContainerInstanceFacts> {
  const response = await ecs.send(
    new DescribeContainerInstancesCommand({ cluster, containerInstances: [arn] }),
  );
  const instance = response.containerInstances?.[0];
  const subnetId = instance?.attributes?.find((a) => a.name === 'ecs.subnet-id')?.value;
  return {
    ...(instance?.versionInfo?.agentVersion ? { agentVersion: instance.versionInfo.agentVersion } : {}),
    ...(instance?.ec2InstanceId ? { ec2InstanceId: instance.ec2InstanceId } : {}),
    ...(subnetId ? { subnetId } : {}),
  };
}
