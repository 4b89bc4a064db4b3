/**
 * ECS reads only the doctor makes: DescribeTaskDefinition and DescribeContainerInstances, and the
 * members of DescribeTasks it looks at (ENI attachment, overrides, stoppedReason).
 */
import type { JsonOperation } from './context';
import { authorizeCaller, DOCTOR_WORLD_IDS, defaultTaskRoleArn, doctorState } from './doctor-world';
import { AwsServiceError } from './errors';
import { InputReader } from './input';
import {
  containerInstanceArn,
  DEFAULT_CLUSTER_NAME,
  type FakeTask,
  type FakeWorld,
  familyOf,
  findCluster,
  taskDefinitionArn,
} from './world';

const ECS_VALIDATION_ERROR = 'InvalidParameterException';
const ECS_ACCESS_DENIED = 'AccessDeniedException';
const TASK_DEFINITION_REVISION = 1;

/** The task's awsvpc subnet (Fargate always; EC2 only when given one). */
function subnetOf(task: FakeTask): string | undefined {
  if (task.subnetId !== undefined) return task.subnetId;
  return task.launchType === 'EC2' ? undefined : DOCTOR_WORLD_IDS.subnet;
}

/** The fixed ENI id of a task (`eni-` + the first 17 hex digits of its id). */
export function eniIdOf(task: FakeTask): string {
  return `eni-${task.id.slice(0, 17)}`;
}

export function taskDoctorJson(_world: FakeWorld, task: FakeTask): Record<string, unknown> {
  const subnetId = subnetOf(task);
  return {
    ...(subnetId !== undefined
      ? {
          attachments: [
            {
              id: `${task.id.slice(0, 8)}-0000-4000-8000-${task.id.slice(20, 32)}`,
              type: 'ElasticNetworkInterface',
              status: task.lastStatus === 'RUNNING' ? 'ATTACHED' : 'DELETED',
              details: [
                { name: 'subnetId', value: subnetId },
                { name: 'networkInterfaceId', value: eniIdOf(task) },
                { name: 'privateIPv4Address', value: '10.0.1.23' },
              ],
            },
          ],
        }
      : {}),
    overrides: {
      containerOverrides: [],
      ...(task.overrideTaskRoleArn !== undefined ? { taskRoleArn: task.overrideTaskRoleArn } : {}),
    },
    ...(task.stoppedReason !== undefined ? { stoppedReason: task.stoppedReason } : {}),
    ...(task.lastStatus === 'STOPPED' ? { stopCode: 'EssentialContainerExited' } : {}),
  };
}

/** Every task of the world, with its cluster name. */
function allTasks(world: FakeWorld): { cluster: string; task: FakeTask }[] {
  return world.clusters.flatMap((cluster) => cluster.tasks.map((task) => ({ cluster: cluster.name, task })));
}

function taskDefinitionJson(world: FakeWorld, task: FakeTask) {
  const roleArn = task.taskRoleArn === undefined ? defaultTaskRoleArn(world) : task.taskRoleArn;
  const awsvpc = subnetOf(task) !== undefined;
  return {
    taskDefinitionArn: taskDefinitionArn(world, task),
    family: familyOf(task),
    revision: TASK_DEFINITION_REVISION,
    status: 'ACTIVE',
    networkMode: awsvpc ? 'awsvpc' : 'bridge',
    requiresCompatibilities: [task.launchType === 'EC2' ? 'EC2' : 'FARGATE'],
    ...(roleArn !== null ? { taskRoleArn: roleArn } : {}),
    ...(task.pidMode !== undefined ? { pidMode: task.pidMode } : {}),
    containerDefinitions: task.containers.map((container) => ({
      name: container.name,
      image: container.image,
      essential: true,
      readonlyRootFilesystem: container.readonlyRootFilesystem ?? false,
      linuxParameters: { initProcessEnabled: container.initProcessEnabled ?? true },
      environment: Object.entries(container.env ?? {}).map(([name, value]) => ({ name, value })),
    })),
  };
}

const describeTaskDefinition: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, ECS_VALIDATION_ERROR);
  const ref = reader.string('taskDefinition');
  authorizeCaller(ctx.world, 'ecs:DescribeTaskDefinition', ECS_ACCESS_DENIED);
  const found = allTasks(ctx.world).find(
    ({ task }) =>
      taskDefinitionArn(ctx.world, task) === ref ||
      `${familyOf(task)}:${TASK_DEFINITION_REVISION}` === ref ||
      familyOf(task) === ref,
  );
  if (found === undefined) {
    throw new AwsServiceError('ClientException', 'Unable to describe task definition.');
  }
  return { taskDefinition: taskDefinitionJson(ctx.world, found.task) };
};

const describeContainerInstances: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, ECS_VALIDATION_ERROR);
  const clusterRef = reader.optString('cluster') ?? DEFAULT_CLUSTER_NAME;
  const refs = reader.optStringList('containerInstances') ?? [];
  authorizeCaller(ctx.world, 'ecs:DescribeContainerInstances', ECS_ACCESS_DENIED);
  const cluster = findCluster(ctx.world, clusterRef);
  if (cluster === undefined) throw new AwsServiceError('ClusterNotFoundException', 'Cluster not found.');
  const instances = doctorState(ctx.world).containerInstances;
  const containerInstances: Record<string, unknown>[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const ref of refs) {
    const id = ref.split('/').pop() ?? ref;
    const instance = instances[id];
    const arn = containerInstanceArn(ctx.world, cluster.name, id);
    if (instance === undefined) {
      failures.push({ arn, reason: 'MISSING' });
      continue;
    }
    containerInstances.push({
      containerInstanceArn: arn,
      ec2InstanceId: instance.ec2InstanceId,
      status: 'ACTIVE',
      agentConnected: true,
      versionInfo: { agentVersion: instance.agentVersion },
      attributes: [{ name: 'ecs.subnet-id', value: instance.subnetId }],
      runningTasksCount: cluster.tasks.filter((t) => t.containerInstanceId === id).length,
    });
  }
  return { containerInstances, failures };
};

export const ECS_DOCTOR_OPERATIONS: Readonly<Record<string, JsonOperation>> = {
  DescribeTaskDefinition: describeTaskDefinition,
  DescribeContainerInstances: describeContainerInstances,
};
