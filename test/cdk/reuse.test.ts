/**
 * The construct in someone else's app: imported clusters and keys, any stack, several runners per
 * stack and per app, and no physical name that two of them could both claim.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EcsExecRunner } from '../../lib/ecs-exec-runner';
import type { CfnTemplate } from '../../lib/local/definition';
import type { ScheduleConfig } from '../../lib/schedules';
import { actionsOf, CLUSTER_A, CLUSTER_B, EXEC_KEY, fastApp, iamStatements, resourcesOf } from './helpers';

const SCHEDULES: readonly ScheduleConfig[] = [
  { name: 'nightly-flush', expression: 'cron(0 3 * * ? *)', event: { command: 'true', service: 'web' } },
];

/** Every physical name a template sets: resource type → names (none should repeat across an account). */
function physicalNames(templates: readonly CfnTemplate[]): Array<{ type: string; name: unknown }> {
  const nameProperties = [
    'StateMachineName',
    'FunctionName',
    'RoleName',
    'LogGroupName',
    'BucketName',
    'TableName',
    'QueueName',
    'Name',
  ];
  return templates.flatMap((template) =>
    Object.values(template.Resources).flatMap((resource) =>
      nameProperties
        .filter((property) => resource.Properties?.[property] !== undefined)
        .map((property) => ({
          type: resource.Type,
          // A schedule's name is unique within its group only.
          name:
            resource.Type === 'AWS::Scheduler::Schedule'
              ? JSON.stringify([resource.Properties?.GroupName, resource.Properties?.[property]])
              : JSON.stringify(resource.Properties?.[property]),
        })),
    ),
  );
}

function expectNoRepeatedNames(templates: readonly CfnTemplate[]): void {
  const names = physicalNames(templates).map(({ type, name }) => `${type} ${String(name)}`);
  expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
}

const json = (stack: Stack): CfnTemplate => Template.fromStack(stack).toJSON() as CfnTemplate;

describe('EcsExecRunner in a consumer app', () => {
  it('runs twice in one stack (same schedule names) and in two stacks with the same construct ids', () => {
    const app = fastApp();
    const first = new Stack(app, 'TeamA');
    const second = new Stack(app, 'TeamB');
    const runners = [
      [first, 'Runner'],
      [first, 'OtherRunner'],
      [second, 'Runner'],
    ] as const;
    for (const [stack, id] of runners) {
      new EcsExecRunner(stack, id, {
        clusters: [ecs.Cluster.fromClusterArn(stack, `${id}Cluster`, CLUSTER_A)],
        schedules: SCHEDULES,
      });
    }
    const templates = [json(first), json(second)];
    expect(
      templates.flatMap((t) =>
        Object.values(t.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine'),
      ),
    ).toHaveLength(6);
    expect(physicalNames(templates).filter(({ type }) => type === 'AWS::Scheduler::Schedule')).toHaveLength(
      3,
    );
    expectNoRepeatedNames(templates);
  });

  it('takes clusters imported by name (ARN unknown until deploy) and an existing KMS key', () => {
    const app = fastApp();
    const stack = new Stack(app, 'Imported', { env: { account: '111122223333', region: 'eu-west-1' } });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-12345678',
      availabilityZones: ['eu-west-1a'],
    });
    const byName = ecs.Cluster.fromClusterAttributes(stack, 'ByName', { clusterName: 'prod', vpc });
    const byArn = ecs.Cluster.fromClusterArn(stack, 'ByArn', CLUSTER_B);
    new EcsExecRunner(stack, 'Runner', {
      clusters: [byName, byArn],
      execKmsKey: kms.Key.fromKeyArn(stack, 'ExecKey', EXEC_KEY),
      defaultService: 'web',
    });
    const statements = iamStatements(json(stack)).map(({ statement }) => statement);
    const exec = statements.find((s) => actionsOf(s).includes('ecs:ExecuteCommand'));
    expect(JSON.stringify(resourcesOf(exec ?? { Effect: '', Action: [], Resource: [] }))).toContain(
      'cluster/prod',
    );
    expect(JSON.stringify(exec?.Resource)).toContain('task/batch/*');
    const kmsStatement = statements.find((s) => actionsOf(s).includes('kms:GenerateDataKey'));
    expect(kmsStatement?.Resource).toBe(EXEC_KEY);
    expect(actionsOf(kmsStatement ?? { Effect: '', Action: [], Resource: [] })).toEqual([
      'kms:GenerateDataKey',
    ]);
  });

  it('works in a stack other than the one that owns the cluster and the key', () => {
    const app = fastApp();
    const platform = new Stack(app, 'Platform');
    const vpc = new ec2.Vpc(platform, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [] });
    const cluster = new ecs.Cluster(platform, 'Cluster', { vpc });
    const key = new kms.Key(platform, 'ExecKey');
    const tools = new Stack(app, 'Tools');
    new EcsExecRunner(tools, 'Runner', { clusters: [cluster], execKmsKey: key, schedules: SCHEDULES });
    const template = json(tools);
    // Cross-stack references (cdk.json makes them weak: Fn::GetStackOutput).
    const crossStack = /Fn::ImportValue|Fn::GetStackOutput/;
    const kmsStatement = iamStatements(template)
      .map(({ statement }) => statement)
      .find((s) => actionsOf(s).includes('kms:GenerateDataKey'));
    expect(JSON.stringify(kmsStatement?.Resource)).toMatch(crossStack);
    expectNoRepeatedNames([template, json(platform)]);
  });
});
