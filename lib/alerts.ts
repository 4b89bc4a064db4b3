import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AlertsEnv } from '../lambda/alerts/alerts-env';
import { createRunnerFunction } from './runner-function';

/** The execution statuses that raise an alert. */
export const ALERT_STATUSES: readonly string[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';

/** The `alerts` prop of the runner. */
export interface RunnerAlertsProps {
  /**
   * Your topic. The alerts function may publish to it (and use its `masterKey`, if the topic
   * object knows it); CloudWatch alarms need a key policy that lets cloudwatch.amazonaws.com use it.
   * @default - a new topic, encrypted with a new customer managed key (rotated) that CloudWatch
   * alarms may use too (the AWS managed SNS key does not allow them), TLS only
   */
  readonly topic?: sns.ITopic;
  /**
   * Addresses subscribed to the topic (each confirms by email).
   * @default - none
   */
  readonly emails?: readonly string[];
}

export interface RunnerAlertsConstructProps extends RunnerAlertsProps {
  /** The state machines whose failed, timed-out or aborted executions are reported (and no other). */
  readonly stateMachines: readonly sfn.IStateMachine[];
  readonly retention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * EventBridge rule (Execution Status Change of the runner's state machines, FAILED / TIMED_OUT /
 * ABORTED) → formatter function (lambda/alerts: EventBridge input transformers cannot read the
 * JSON cause) → SNS topic.
 */
export class RunnerAlerts extends Construct {
  readonly topic: sns.ITopic;
  readonly rule: events.Rule;
  readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: RunnerAlertsConstructProps) {
    super(scope, id);
    this.topic = props.topic ?? this.createTopic(props.removalPolicy);
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    this.function = createRunnerFunction(this, 'Function', {
      code: 'alerts',
      description: 'Formats failed ECS Exec runner executions into readable alerts and publishes them',
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: { [AlertsEnv.TopicArn]: this.topic.topicArn },
      statements: publishStatements(this.topic),
      retention: props.retention,
      removalPolicy: props.removalPolicy,
    });
    this.rule = new events.Rule(this, 'FailedExecutions', {
      description: 'Failed, timed-out or aborted executions of the ECS Exec runner state machines',
      eventPattern: {
        source: ['aws.states'],
        detailType: [EXECUTION_STATUS_CHANGE],
        detail: {
          status: [...ALERT_STATUSES],
          stateMachineArn: props.stateMachines.map((machine) => machine.stateMachineArn),
        },
      },
      targets: [
        new eventTargets.LambdaFunction(this.function, {
          retryAttempts: 4,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }

  private createTopic(removalPolicy: RemovalPolicy): sns.Topic {
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the ecs-exec-runner alerts topic',
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch alarms publish to the topic too; AWS services need this grant on the key.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    return new sns.Topic(this, 'Topic', {
      displayName: 'ecs-exec-runner alerts',
      masterKey: key,
      enforceSSL: true,
    });
  }
}

/** sns:Publish on the topic, and the two KMS actions SNS needs on its key (no wildcard action). */
function publishStatements(topic: sns.ITopic): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({ sid: 'PublishAlerts', actions: ['sns:Publish'], resources: [topic.topicArn] }),
  ];
  if (topic.masterKey !== undefined) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'EncryptAlerts',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [topic.masterKey.keyArn],
      }),
    );
  }
  return statements;
}
