import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ExecDemoClusterProps {
  /**
   * Image of the demo container; it must have `/bin/sh` (and `script` and `cat` for session logs).
   * @default 'public.ecr.aws/docker/library/busybox:1.37'
   */
  readonly image?: string;
  /** @default 1 */
  readonly desiredCount?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the KMS key and the log groups. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/** Name of the demo container: events may name it as `container`. */
export const DEMO_CONTAINER_NAME = 'app';

/**
 * What a user needs to try ECS Exec: a VPC without NAT gateways, a cluster whose ECS Exec sessions
 * are KMS-encrypted and logged to a KMS-encrypted log group, and a small Fargate service with
 * ECS Exec enabled running a long-lived container.
 */
export class ExecDemoCluster extends Construct {
  readonly vpc: ec2.Vpc;
  /** Encrypts ECS Exec sessions and their log group. */
  readonly execKey: kms.Key;
  readonly execLogGroup: logs.LogGroup;
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly taskRole: iam.Role;

  constructor(scope: Construct, id: string, props: ExecDemoClusterProps = {}) {
    super(scope, id);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    // Public subnets only: the task reaches ECR Public, ECS, SSM and KMS over its public IP.
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      flowLogs: {
        RejectedTraffic: {
          trafficType: ec2.FlowLogTrafficType.REJECT,
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', { retention, removalPolicy }),
          ),
        },
      },
    });

    this.execKey = new kms.Key(this, 'ExecKey', {
      description: 'Encrypts ECS Exec sessions and their CloudWatch log group',
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(7),
    });
    // A fixed name, so the key policy can name the log group without depending on it.
    const execLogGroupName = `/ecs-exec-runner/${Stack.of(this).stackName}/exec-sessions`;
    this.execKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsExecSessionLogs',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        // CloudWatch Logs' documented key policy, spelled out (no wildcard actions).
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${execLogGroupName}`,
          },
        },
      }),
    );
    this.execLogGroup = new logs.LogGroup(this, 'ExecSessionLogs', {
      logGroupName: execLogGroupName,
      encryptionKey: this.execKey,
      retention,
      removalPolicy,
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      executeCommandConfiguration: {
        // Referenced, not owned: the service would otherwise widen the key policy (any log group in
        // the account, wildcard actions); the statement above is the only one CloudWatch Logs needs.
        kmsKey: kms.Key.fromKeyArn(this, 'ExecKeyReference', this.execKey.keyArn),
        logging: ecs.ExecuteCommandLogging.OVERRIDE,
        logConfiguration: { cloudWatchLogGroup: this.execLogGroup, cloudWatchEncryptionEnabled: true },
      },
    });

    // ECS Exec's needs, and nothing else: the agent's message channels, the session key, the session log.
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Demo task role: ECS Exec (ssmmessages, session KMS key, session logs) only',
    });
    const execPolicy = new iam.Policy(this, 'TaskRoleEcsExecPolicy', {
      roles: [this.taskRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'EcsExecAgentChannels',
          actions: [
            'ssmmessages:CreateControlChannel',
            'ssmmessages:CreateDataChannel',
            'ssmmessages:OpenControlChannel',
            'ssmmessages:OpenDataChannel',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptExecSessions',
          actions: ['kms:Decrypt'],
          resources: [this.execKey.keyArn],
        }),
        new iam.PolicyStatement({
          sid: 'FindExecSessionLogGroup',
          actions: ['logs:DescribeLogGroups'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'WriteExecSessionLogs',
          actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
          // The log group's ARN attribute ends in ":*", covering its streams.
          resources: [this.execLogGroup.logGroupArn],
        }),
      ],
    });
    Validations.of(execPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ssmmessages:Create/Open Control/Data Channel (the ECS Exec agent) and logs:DescribeLogGroups (the agent finding its session log group) do not support resource-level permissions.',
    });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: 256,
      memoryLimitMiB: 512,
      // Immutable here: the grants CDK would add for ECS Exec (e.g. kms:GenerateDataKey, which the
      // agent never calls) are dropped; the policy above is the complete list.
      taskRole: this.taskRole.withoutPolicyUpdates(),
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    taskDefinition.addContainer(DEMO_CONTAINER_NAME, {
      image: ecs.ContainerImage.fromRegistry(props.image ?? 'public.ecr.aws/docker/library/busybox:1.37'),
      // Runs until stopped; the trap makes the task stop at once on SIGTERM.
      command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 3600 & wait $!; done'],
      essential: true,
      // ECS Exec writes its agent and session files into the container.
      readonlyRootFilesystem: false,
      // An init process reaps the SSM agent's child processes (ECS Exec recommendation).
      linuxParameters: new ecs.LinuxParameters(this, 'LinuxParameters', { initProcessEnabled: true }),
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'demo',
        logGroup: new logs.LogGroup(this, 'ContainerLogs', { retention, removalPolicy }),
      }),
    });

    const securityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc: this.vpc,
      description: 'Demo service: no inbound traffic; outbound HTTPS to ECR, ECS, SSM and KMS',
      allowAllOutbound: true,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition,
      desiredCount: props.desiredCount ?? 1,
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [securityGroup],
      enableExecuteCommand: true,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
    });
    // Tasks must not start before their role can open ECS Exec channels.
    this.service.node.addDependency(execPolicy);
  }
}
