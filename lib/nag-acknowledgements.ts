import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A resource as cdk-nag names it in a finding id: Ref → `<LogicalId>`, GetAtt →
 * `<LogicalId.Attr>`, Join → concatenation, anything else → its JSON (cdk-nag's
 * flattenCfnReference). Resolved against the stack, so it follows logical-id changes.
 */
export function nagResourceName(scope: IConstruct, value: unknown): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      const record = node as Record<string, unknown>;
      const join = record['Fn::Join'];
      if (Array.isArray(join)) {
        const [delimiter, items] = join as [string, unknown[]];
        return items.map(visit).join(delimiter);
      }
      const getAtt = record['Fn::GetAtt'];
      if (Array.isArray(getAtt)) return `<${visit(getAtt[0])}.${visit(getAtt[1])}>`;
      if (record.Ref !== undefined) return `<${visit(record.Ref)}>`;
    }
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}

/** One wildcard resource of an IAM policy and why it is as narrow as it can be. */
export interface WildcardResource {
  readonly resource: string;
  readonly reason: string;
}

/** Acknowledges AwsSolutions-IAM5 for exactly these resources on `scope` (a role or policy). */
export function acknowledgeWildcardResources(
  scope: IConstruct,
  resources: readonly WildcardResource[],
): void {
  Validations.of(scope).acknowledge(
    ...resources.map(({ resource, reason }) => ({
      id: `AwsSolutions-IAM5[Resource::${nagResourceName(scope, resource)}]`,
      reason,
    })),
  );
}

/** Reasons used in more than one place. */
export const WildcardReason = {
  LambdaVersions:
    'CDK LambdaInvoke grants the function and its versions/aliases (<function ARN>:*); nothing else can be invoked.',
  VendedLogsAndXRay:
    'Step Functions log delivery (logs:*LogDelivery, DescribeLogGroups, DescribeResourcePolicies, PutResourcePolicy) and X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) do not support resource-level permissions.',
  ListTasksOnContainerInstances:
    'ecs:ListTasks is authorized on container-instance resources of the cluster; the ArnEquals ecs:cluster condition pins it to the configured cluster (IAM service authorization reference for ECS).',
  TasksOfCluster:
    'Task ids are only known at run time: ExecuteCommand/DescribeTasks reach the tasks of this one cluster, also pinned by the ArnEquals ecs:cluster condition.',
  EcsExecSessions:
    'Session ids are generated per ExecuteCommand call; the ecs-execute-command- prefix limits ResumeSession/TerminateSession to ECS Exec sessions of this account and region.',
} as const;
