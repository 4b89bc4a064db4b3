import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEMO_SCHEDULES } from '../../config/schedules';
import { ExecEnv } from '../../lambda/contract';
import { clusterArnList, DemoContext, demoConfigFromContext } from '../../lib/demo-config';
import { EcsExecRunnerDemoStack } from '../../lib/ecs-exec-runner-demo-stack';
import type { CfnTemplate } from '../../lib/local/definition';
import {
  actionsOf,
  CLUSTER_A,
  CLUSTER_B,
  EXEC_KEY,
  fastApp,
  iamStatements,
  resourcesOf,
  statementsOf,
} from './helpers';

let demo: Template;
let demoJson: CfnTemplate;
let existing: Template;
let existingJson: CfnTemplate;

beforeAll(() => {
  const app = fastApp();
  demo = Template.fromStack(
    new EcsExecRunnerDemoStack(app, 'Demo', { config: demoConfigFromContext(app.node) }),
  );
  demoJson = demo.toJSON() as CfnTemplate;
  const existingApp = fastApp({
    context: {
      [DemoContext.ExistingClusterArns]: `${CLUSTER_A}, ${CLUSTER_B}`,
      [DemoContext.ExecKmsKeyArn]: EXEC_KEY,
      [DemoContext.DefaultService]: 'api',
    },
  });
  existing = Template.fromStack(
    new EcsExecRunnerDemoStack(existingApp, 'Existing', { config: demoConfigFromContext(existingApp.node) }),
  );
  existingJson = existing.toJSON() as CfnTemplate;
});

describe('demo stack: what a user needs to try it', () => {
  it('has a VPC with two public subnets and no NAT gateway, with flow logs', () => {
    demo.resourceCountIs('AWS::EC2::VPC', 1);
    demo.resourceCountIs('AWS::EC2::Subnet', 2);
    demo.resourceCountIs('AWS::EC2::NatGateway', 0);
    demo.resourceCountIs('AWS::EC2::EIP', 0);
    demo.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true });
    demo.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
  });

  it('encrypts ECS Exec sessions with a rotating KMS key and logs them to a log group encrypted with it', () => {
    demo.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    demo.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      Configuration: {
        ExecuteCommandConfiguration: {
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DemoExecKey'), 'Arn'] },
          Logging: 'OVERRIDE',
          LogConfiguration: {
            CloudWatchEncryptionEnabled: true,
            CloudWatchLogGroupName: { Ref: Match.stringLikeRegexp('^DemoExecSessionLogs') },
          },
        },
      },
    });
    demo.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/ecs-exec-runner/Demo/exec-sessions',
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DemoExecKey'), 'Arn'] },
    });
  });

  it('lets CloudWatch Logs use the key for the session log group only (no ECS-added wildcard statement)', () => {
    const key = Object.values(demoJson.Resources).find((r) => r.Type === 'AWS::KMS::Key');
    const policy = key?.Properties?.KeyPolicy as { Statement: Array<Record<string, unknown>> } | undefined;
    const statements = policy?.Statement ?? [];
    expect(statements).toHaveLength(2);
    // The standard first statement: the account administers the key through IAM.
    expect(statements[0]).toMatchObject({ Action: 'kms:*', Principal: { AWS: expect.anything() } });
    expect(statements[1]).toMatchObject({
      Sid: 'CloudWatchLogsEncryptsExecSessionLogs',
      Action: [
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
      ],
      Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
      Condition: {
        ArnEquals: {
          'kms:EncryptionContext:aws:logs:arn': {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':logs:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':log-group:/ecs-exec-runner/Demo/exec-sessions',
              ],
            ],
          },
        },
      },
    });
  });

  it('runs a small Fargate service with ECS Exec, an init process, a long-running public image and a circuit breaker', () => {
    demo.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      EnableExecuteCommand: true,
      DesiredCount: 1,
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
    demo.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'app',
          Image: Match.stringLikeRegexp('^public\\.ecr\\.aws/docker/library/busybox:'),
          Command: ['sh', '-c', Match.stringLikeRegexp('while true; do sleep')],
          LinuxParameters: { InitProcessEnabled: true },
          ReadonlyRootFilesystem: false,
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
  });

  it('gives the task role exactly the permissions ECS Exec needs', () => {
    expect(statementsOf(demoJson, 'DemoTaskRole')).toEqual([
      {
        Sid: 'EcsExecAgentChannels',
        Effect: 'Allow',
        Action: [
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
        ],
        Resource: '*',
      },
      {
        Sid: 'DecryptExecSessions',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DemoExecKey/), 'Arn'] },
      },
      { Sid: 'FindExecSessionLogGroup', Effect: 'Allow', Action: 'logs:DescribeLogGroups', Resource: '*' },
      {
        Sid: 'WriteExecSessionLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DemoExecSessionLogs/), 'Arn'] },
      },
    ]);
    // The service waits for that policy, so its first tasks can open exec channels.
    const service = Object.entries(demoJson.Resources).find(
      ([, r]) => r.Type === 'AWS::ECS::Service',
    )?.[1] as {
      DependsOn?: string[];
    };
    expect(service.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/^DemoTaskRoleEcsExecPolicy/)]),
    );
  });

  it('points the runner at the demo cluster and service, with the demo schedules', () => {
    demo.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('ECS Exec and returns'),
      Environment: {
        Variables: Match.objectLike({
          [ExecEnv.DefaultCluster]: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DemoCluster'), 'Arn'] },
          [ExecEnv.DefaultService]: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DemoService'), 'Name'] },
          [ExecEnv.DefaultContainer]: 'app',
        }),
      },
    });
    demo.resourceCountIs('AWS::Scheduler::Schedule', DEMO_SCHEDULES.length);
    // With a created cluster the grants name it by reference, still pinned by ecs:cluster.
    const exec = statementsOf(demoJson, 'RunnerFunctionRole').find(
      (s) => s.Sid === 'ExecIntoTasksOfConfiguredClusters',
    );
    expect(exec?.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': [{ 'Fn::GetAtt': [expect.stringMatching(/^DemoCluster/), 'Arn'] }] },
    });
  });

  it('outputs the state machine ARNs, the function, the bucket, the alerts topic, the cluster and the service', () => {
    expect(Object.keys(demoJson as unknown as { Outputs: object }).includes('Outputs')).toBe(true);
    const outputs = Object.keys((demoJson as unknown as { Outputs: Record<string, unknown> }).Outputs);
    expect(outputs.sort()).toEqual(
      [
        'AlertsTopicArn',
        'ClusterName',
        'FanOutStateMachineArn',
        'FunctionName',
        'OutputBucketName',
        'RunCommandStateMachineArn',
        'ServiceName',
      ].sort(),
    );
  });

  it('has no wildcard action in any IAM policy', () => {
    for (const { policy, statement } of iamStatements(demoJson)) {
      expect({ policy, wildcard: actionsOf(statement).filter((a) => a.includes('*')) }).toEqual({
        policy,
        wildcard: [],
      });
    }
  });
});

describe('demo stack with existing clusters (context)', () => {
  it('creates no VPC, cluster or service and imports the clusters by ARN (no lookups)', () => {
    for (const type of ['AWS::EC2::VPC', 'AWS::ECS::Cluster', 'AWS::ECS::Service']) {
      existing.resourceCountIs(type, 0);
    }
    // No exec key of its own: the only key is the alerts topic's.
    expect(Object.keys(existing.findResources('AWS::KMS::Key'))).toEqual([
      expect.stringMatching(/^RunnerAlertsTopicKey/),
    ]);
    existing.resourceCountIs('AWS::Scheduler::Schedule', 0);
  });

  it('aims the runner and its grants at those clusters and that key', () => {
    existing.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('ECS Exec and returns'),
      Environment: {
        Variables: Match.objectLike({
          [ExecEnv.DefaultCluster]: CLUSTER_A,
          [ExecEnv.AllowedClusters]: `${CLUSTER_A},${CLUSTER_B}`,
          [ExecEnv.DefaultService]: 'api',
        }),
      },
    });
    const kms = statementsOf(existingJson, 'RunnerFunctionRole').find(
      (s) => s.Sid === 'EcsExecSessionDataKey',
    );
    expect(kms).toMatchObject({ Action: 'kms:GenerateDataKey', Resource: EXEC_KEY });
    const exec = statementsOf(existingJson, 'RunnerFunctionRole').find(
      (s) => s.Sid === 'ExecIntoTasksOfConfiguredClusters',
    );
    expect(resourcesOf(exec as never)).toEqual(
      expect.arrayContaining([
        'arn:aws:ecs:eu-west-1:111122223333:task/prod/*',
        'arn:aws:ecs:eu-west-1:111122223333:task/batch/*',
      ]),
    );
  });
});

describe('demo context', () => {
  const configFor = (context: Record<string, unknown>) => demoConfigFromContext(fastApp({ context }).node);

  it('reads cluster ARNs as a comma-separated list, a JSON string or a JSON array', () => {
    expect(clusterArnList(`${CLUSTER_A},${CLUSTER_B}`)).toEqual([CLUSTER_A, CLUSTER_B]);
    expect(clusterArnList(JSON.stringify([CLUSTER_A]))).toEqual([CLUSTER_A]);
    expect(clusterArnList([CLUSTER_A, CLUSTER_A])).toEqual([CLUSTER_A]);
    expect(clusterArnList(undefined)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a cluster name instead of an ARN', { existingClusterArns: 'prod' }, /not cluster ARNs .*: prod/],
    ['broken JSON', { existingClusterArns: '["arn' }, /looks like JSON but does not parse/],
    [
      'a key alias',
      { existingClusterArns: CLUSTER_A, execKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/x' },
      /must be a KMS key ARN/,
    ],
    ['a key without clusters', { execKmsKeyArn: EXEC_KEY }, /only applies with "existingClusterArns"/],
    ['bad schedules', { schedules: '{"not":"an array"}' }, /must be a JSON array/],
    ['a bad default service', { defaultService: 'a b' }, /context "defaultService" must be a name/],
    [
      'a bad alert address',
      { alertEmails: 'ops@example.com, nobody' },
      /"alertEmails": not email addresses: nobody$/,
    ],
  ])('rejects %s', (_name, context, message) => {
    expect(() => configFor(context)).toThrow(message);
  });

  it('subscribes the alert addresses of the context to the alerts topic', () => {
    expect(configFor({ alertEmails: 'ops@example.com, dev@example.com' }).alertEmails).toEqual([
      'ops@example.com',
      'dev@example.com',
    ]);
    const app = fastApp({ context: { alertEmails: 'ops@example.com' } });
    const stack = new EcsExecRunnerDemoStack(app, 'Alerting', { config: demoConfigFromContext(app.node) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    template.hasOutput('AlertsTopicArn', {});
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('replaces the configured schedules with the context value', () => {
    const config = configFor({
      schedules: [{ name: 'x', expression: 'rate(1 day)', event: { command: 'ls' } }],
    });
    expect(config.schedules).toEqual([{ name: 'x', expression: 'rate(1 day)', event: { command: 'ls' } }]);
  });
});
