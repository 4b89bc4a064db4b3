import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { DEMO_SCHEDULES } from '../config/schedules';
import { DEMO_CONTAINER_NAME, ExecDemoCluster } from './demo/exec-demo-cluster';
import type { DemoConfig } from './demo-config';
import { EcsExecRunner } from './ecs-exec-runner';
import type { ScheduleConfig } from './schedules';

export interface EcsExecRunnerDemoStackProps extends StackProps {
  /**
   * Where the runner points; see `demoConfigFromContext`.
   * @default - a demo cluster and service, with the schedules of config/schedules.ts
   */
  readonly config?: DemoConfig;
}

/**
 * The runner plus, unless existing clusters are given, a demo cluster to try it on.
 * Env-agnostic on purpose: no lookups, so `cdk synth` works offline without an account.
 */
export class EcsExecRunnerDemoStack extends Stack {
  readonly runner: EcsExecRunner;
  readonly demo?: ExecDemoCluster;

  constructor(scope: Construct, id: string, props: EcsExecRunnerDemoStackProps = {}) {
    super(scope, id, {
      description: 'ecs-exec-runner: run commands in running ECS tasks from Step Functions (demo)',
      ...props,
    });
    const config = props.config ?? { existingClusterArns: [] };

    let clusters: ecs.ICluster[];
    let execKmsKey: kms.IKey | undefined;
    let defaultService = config.defaultService;
    let defaultContainer = config.defaultContainer;
    let schedules: readonly ScheduleConfig[];
    if (config.existingClusterArns.length > 0) {
      clusters = config.existingClusterArns.map((arn, i) =>
        ecs.Cluster.fromClusterArn(this, `ExistingCluster${i + 1}`, arn),
      );
      execKmsKey = config.execKmsKeyArn
        ? kms.Key.fromKeyArn(this, 'ExistingExecKey', config.execKmsKeyArn)
        : undefined;
      // The demo schedules aim at the demo service; with existing clusters only configured ones run.
      schedules = config.schedules ?? [];
    } else {
      const demo = new ExecDemoCluster(this, 'Demo');
      this.demo = demo;
      clusters = [demo.cluster];
      execKmsKey = demo.execKey;
      defaultService ??= demo.service.serviceName;
      defaultContainer ??= DEMO_CONTAINER_NAME;
      schedules = config.schedules ?? DEMO_SCHEDULES;
      new CfnOutput(this, 'ClusterName', { value: demo.cluster.clusterName });
      new CfnOutput(this, 'ServiceName', { value: demo.service.serviceName });
    }

    this.runner = new EcsExecRunner(this, 'Runner', {
      clusters,
      ...(execKmsKey ? { execKmsKey } : {}),
      ...(defaultService ? { defaultService } : {}),
      ...(defaultContainer ? { defaultContainer } : {}),
      schedules,
      // Everything that tells about failures, on: alerts (to these addresses), alarms, dashboard, metrics.
      alerts: { emails: config.alertEmails ?? [] },
      monitoring: { alarms: true, dashboard: true },
      metrics: true,
    });

    new CfnOutput(this, 'RunCommandStateMachineArn', {
      value: this.runner.runCommandStateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'FanOutStateMachineArn', { value: this.runner.fanOutStateMachine.stateMachineArn });
    new CfnOutput(this, 'FunctionName', { value: this.runner.function.functionName });
    new CfnOutput(this, 'OutputBucketName', { value: this.runner.outputBucket.bucketName });
    if (this.runner.alerts) {
      new CfnOutput(this, 'AlertsTopicArn', { value: this.runner.alerts.topic.topicArn });
    }
  }
}
