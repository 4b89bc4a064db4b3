import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AlertsEnv } from '../../lambda/alerts/handler';
import { ALERT_STATUSES, EXECUTION_STATUS_CHANGE } from '../../lib/alerts';
import { fastApp, type RunnerFixture, runnerStack, statementsOf } from './helpers';

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:team-alerts';
let fixture: RunnerFixture;
let optedOut: RunnerFixture;

beforeAll(() => {
  fixture = runnerStack({ alerts: { emails: ['oncall@example.com'] } });
  optedOut = runnerStack({ alerts: false, monitoring: false, metrics: false });
});

const alarmsOf = (f: RunnerFixture) => Object.values(f.template.findResources('AWS::CloudWatch::Alarm'));

describe('failed-execution alerts', () => {
  it('listen only to the runner state machines, and only for FAILED, TIMED_OUT and ABORTED', () => {
    fixture.template.resourceCountIs('AWS::Events::Rule', 1);
    fixture.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': [EXECUTION_STATUS_CHANGE],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: [
            { Ref: Match.stringLikeRegexp('^RunnerRunCommandStateMachine') },
            { Ref: Match.stringLikeRegexp('^RunnerFanOutStateMachine') },
          ],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RunnerAlertsFunction'), 'Arn'] },
          RetryPolicy: Match.anyValue(),
        }),
      ],
    });
    expect(ALERT_STATUSES).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
  });

  it('go to a topic encrypted with its own rotated key, TLS only, which CloudWatch alarms may use', () => {
    fixture.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RunnerAlertsTopicKey'), 'Arn'] },
    });
    fixture.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
        ]),
      },
    });
    fixture.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    fixture.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  it('are published by a function that may publish to that topic with its key, and nothing else', () => {
    const statements = statementsOf(fixture.json, 'RunnerAlertsFunctionRole');
    expect(statements.map((s) => [s.Sid, s.Action])).toEqual([
      [undefined, ['logs:CreateLogStream', 'logs:PutLogEvents']],
      ['PublishAlerts', 'sns:Publish'],
      ['EncryptAlerts', ['kms:Decrypt', 'kms:GenerateDataKey']],
    ]);
    fixture.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [AlertsEnv.TopicArn]: { Ref: Match.stringLikeRegexp('^RunnerAlertsTopic') },
        }),
      },
    });
  });

  it('can go to a topic of yours instead', () => {
    const app = fastApp();
    const mine = runnerStack({
      app,
      alerts: { topic: sns.Topic.fromTopicArn(new Stack(app, 'Topics'), 'Team', TOPIC) },
    });
    mine.template.resourceCountIs('AWS::SNS::Topic', 0);
    mine.template.resourceCountIs('AWS::KMS::Key', 0);
    expect(statementsOf(mine.json, 'RunnerAlertsFunctionRole')[1]).toMatchObject({
      Action: 'sns:Publish',
      Resource: TOPIC,
    });
  });
});

describe('alarms and dashboard', () => {
  it('alarm on the first failed, timed-out or aborted execution of each state machine, to the alerts topic', () => {
    const alarms = alarmsOf(fixture);
    const watched = alarms.map((a) => [
      a.Properties.Namespace,
      a.Properties.MetricName,
      JSON.stringify(a.Properties.Dimensions),
    ]);
    for (const machine of ['RunnerRunCommandStateMachine', 'RunnerFanOutStateMachine']) {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
        expect(watched).toContainEqual([
          'AWS/States',
          metric,
          expect.stringMatching(new RegExp(`"Name":"StateMachineArn","Value":\\{"Ref":"${machine}`)),
        ]);
      }
    }
    for (const fn of ['RunnerFunction', 'RunnerListTasksFunction', 'RunnerAlertsFunction']) {
      expect(watched).toContainEqual([
        'AWS/Lambda',
        'Errors',
        expect.stringMatching(new RegExp(`"Name":"FunctionName","Value":\\{"Ref":"${fn}[0-9A-F]{8}"`)),
      ]);
    }
    expect(alarms).toHaveLength(9);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        AlarmActions: [{ Ref: expect.stringMatching(/^RunnerAlertsTopic/) }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('build one dashboard, the run metrics (EMF) and the alarms included', () => {
    const dashboards = Object.values(fixture.template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    expect(body).toContain('SEARCH(');
    expect(body).toContain('EcsExecRunner');
    expect(body).toContain('MetricName=\\\\\\"SessionStartMs');
    expect(body).toContain('Commands: runs, failures, non-zero exit codes');
    expect(body).toContain('Run one command: executions');
    expect(body).toContain('alarm');
  });

  it('can leave out the dashboard and keep the alarms, or the other way round', () => {
    const noDashboard = runnerStack({ monitoring: { dashboard: false } });
    noDashboard.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(alarmsOf(noDashboard)).toHaveLength(alarmsOf(fixture).length);
    const noAlarms = runnerStack({ monitoring: { alarms: false } });
    noAlarms.template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    noAlarms.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('opting out', () => {
  it('alerts: false, monitoring: false, metrics: false leave no topic, rule, alarm or dashboard, and no EMF', () => {
    for (const type of [
      'AWS::SNS::Topic',
      'AWS::Events::Rule',
      'AWS::KMS::Key',
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::Dashboard',
    ]) {
      optedOut.template.resourceCountIs(type, 0);
    }
    optedOut.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_DISABLED: 'true' }) },
    });
  });

  it('alarms without an alerts topic have no actions', () => {
    const silent = runnerStack({ alerts: false });
    expect(alarmsOf(silent).length).toBeGreaterThan(0);
    for (const alarm of alarmsOf(silent)) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });
});
