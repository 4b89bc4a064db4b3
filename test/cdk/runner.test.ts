import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { ExecEnv, ExecErrorName } from '../../lambda/contract';
import { DOCTOR_RESOURCE_STAR_ACTIONS } from '../../lib/doctor-permissions';
import { FanOutErrorName, FanOutStates } from '../../lib/fan-out-workflow';
import { RunCommandStates } from '../../lib/run-command-workflow';
import {
  type AslValidator,
  actionsOf,
  CLUSTER_A,
  CLUSTER_B,
  definitionOf,
  EXEC_KEY,
  iamStatements,
  type RunnerFixture,
  resourcesOf,
  runnerStack,
  statementsAllowing,
  statementsOf,
} from './helpers';

const aslValidator = require('asl-validator') as AslValidator;

const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
/** The only actions that may have Resource "*": none of them supports resource-level permissions. */
const RESOURCE_STAR_ACTIONS = new Set([
  ...DOCTOR_RESOURCE_STAR_ACTIONS,
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
]);

let fixture: RunnerFixture;
let noKey: RunnerFixture;

beforeAll(() => {
  fixture = runnerStack({
    clusterArns: [CLUSTER_A, CLUSTER_B],
    keyArn: EXEC_KEY,
    defaultService: 'web',
    defaultContainer: 'app',
    fanOutMaxConcurrency: 3,
    schedules: [
      {
        name: 'nightly-disk',
        expression: 'cron(0 3 * * ? *)',
        timeZone: 'Europe/Berlin',
        target: 'fan-out',
        event: { command: 'df -h', maxConcurrency: 2 },
      },
      { name: 'hourly-uptime', expression: 'rate(1 hour)', event: { command: 'uptime' }, retryAttempts: 5 },
    ],
  });
  noKey = runnerStack();
});

describe('exec Lambda', () => {
  it('runs on Node 24, arm64, with a 15-minute timeout and the event defaults in its environment', () => {
    fixture.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('ECS Exec'),
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 900,
      Environment: {
        Variables: {
          [ExecEnv.DefaultCluster]: CLUSTER_A,
          [ExecEnv.AllowedClusters]: `${CLUSTER_A},${CLUSTER_B}`,
          [ExecEnv.DefaultService]: 'web',
          [ExecEnv.DefaultContainer]: 'app',
          [ExecEnv.OutputBucket]: { Ref: Match.stringLikeRegexp('^RunnerOutputBucket') },
          [ExecEnv.OutputPrefix]: 'exec-output/',
          [ExecEnv.IdempotencyTable]: { Ref: Match.stringLikeRegexp('^RunnerIdempotencyTable') },
          POWERTOOLS_SERVICE_NAME: 'ecs-exec-runner',
        },
      },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^RunnerFunctionLogs') } },
    });
  });

  it('leaves optional defaults out of the environment when they are not configured', () => {
    const fn = Object.values(noKey.json.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Description).includes('ECS Exec'),
    );
    const variables =
      (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(Object.keys(variables)).not.toContain(ExecEnv.DefaultService);
    expect(Object.keys(variables)).not.toContain(ExecEnv.DefaultContainer);
  });

  it('has its own role: no managed policies, logs only to its own log group', () => {
    const role = Object.entries(fixture.json.Resources).find(([id]) => id.startsWith('RunnerFunctionRole'));
    expect(role?.[1].Properties?.ManagedPolicyArns).toBeUndefined();
    // The doctor's logs:DescribeLogGroups only reads (see the doctor test below).
    const logs = statementsOf(fixture.json, 'RunnerFunctionRole').filter((s) =>
      actionsOf(s).some((a) => a.startsWith('logs:') && a !== 'logs:DescribeLogGroups'),
    );
    expect(logs).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RunnerFunctionLogs/), 'Arn'] },
      },
    ]);
  });
});

describe('exec Lambda permissions (least privilege)', () => {
  const fnStatements = () => statementsOf(fixture.json, 'RunnerFunctionRole');
  const bySid = (sid: string) => fnStatements().find((s) => s.Sid === sid);

  it('may ExecuteCommand/DescribeTasks only on the configured clusters and their tasks, pinned by ecs:cluster', () => {
    expect(bySid('ExecIntoTasksOfConfiguredClusters')).toEqual({
      Sid: 'ExecIntoTasksOfConfiguredClusters',
      Effect: 'Allow',
      Action: ['ecs:DescribeTasks', 'ecs:ExecuteCommand'],
      Resource: [
        CLUSTER_B,
        CLUSTER_A,
        'arn:aws:ecs:eu-west-1:111122223333:task/batch/*',
        'arn:aws:ecs:eu-west-1:111122223333:task/prod/*',
      ],
      Condition: { ArnEquals: { 'ecs:cluster': [CLUSTER_A, CLUSTER_B] } },
    });
  });

  it('may ListTasks only on the container instances of the configured clusters, pinned by ecs:cluster', () => {
    expect(bySid('ListTasksOfConfiguredClusters')).toEqual({
      Sid: 'ListTasksOfConfiguredClusters',
      Effect: 'Allow',
      Action: 'ecs:ListTasks',
      Resource: [
        'arn:aws:ecs:eu-west-1:111122223333:container-instance/batch/*',
        'arn:aws:ecs:eu-west-1:111122223333:container-instance/prod/*',
      ],
      Condition: { ArnEquals: { 'ecs:cluster': [CLUSTER_A, CLUSTER_B] } },
    });
    expect(bySid('DescribeConfiguredClusters')).toMatchObject({
      Action: 'ecs:DescribeClusters',
      Resource: [CLUSTER_B, CLUSTER_A],
    });
  });

  it('may only GenerateDataKey (and, for the doctor, DescribeKey), only with the exec key', () => {
    // The alerts function's role has its own key, for its topic (alerts-monitoring.test.ts).
    const execKeyUsers = statementsAllowing(fixture.json, 'kms:GenerateDataKey').filter(
      (e) => !e.policy.startsWith('RunnerAlerts'),
    );
    expect(execKeyUsers.map((e) => e.statement)).toEqual([
      { Sid: 'EcsExecSessionDataKey', Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: EXEC_KEY },
    ]);
    expect(statementsAllowing(fixture.json, 'kms:DescribeKey').map((e) => e.statement)).toEqual([
      { Sid: 'DoctorDescribeExecKey', Effect: 'Allow', Action: 'kms:DescribeKey', Resource: EXEC_KEY },
    ]);
    const kmsActions = fnStatements().flatMap((statement) =>
      actionsOf(statement).filter((a) => a.startsWith('kms:')),
    );
    expect(kmsActions.sort()).toEqual(['kms:DescribeKey', 'kms:GenerateDataKey']);
  });

  it('gets no KMS permission when no exec key is given', () => {
    const kmsActions = statementsOf(noKey.json, 'RunnerFunctionRole').flatMap((statement) =>
      actionsOf(statement).filter((a) => a.startsWith('kms:')),
    );
    expect(kmsActions).toEqual([]);
  });

  it('may resume and terminate only ECS Exec sessions', () => {
    expect(bySid('ResumeAndEndEcsExecSessions')).toEqual({
      Sid: 'ResumeAndEndEcsExecSessions',
      Effect: 'Allow',
      Action: ['ssm:ResumeSession', 'ssm:TerminateSession'],
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':ssm:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':session/ecs-execute-command-*',
          ],
        ],
      },
    });
    const ssmActions = iamStatements(fixture.json).flatMap(({ statement }) =>
      actionsOf(statement).filter((a) => a.startsWith('ssm:')),
    );
    expect(ssmActions.sort()).toEqual(['ssm:ResumeSession', 'ssm:TerminateSession']);
  });

  it('may write and read S3 objects only under the output prefix, and never delete', () => {
    expect(bySid('WriteFullOutputUnderPrefix')).toEqual({
      Sid: 'WriteFullOutputUnderPrefix',
      Effect: 'Allow',
      Action: ['s3:AbortMultipartUpload', 's3:PutObject'],
      Resource: {
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [expect.stringMatching(/^RunnerOutputBucket/), 'Arn'] }, '/exec-output/*'],
        ],
      },
    });
    // Detached jobs read their output chunks back to join them.
    expect(bySid('ReadDetachedJobChunksUnderPrefix')).toMatchObject({
      Action: 's3:GetObject',
      Resource: bySid('WriteFullOutputUnderPrefix')?.Resource,
    });
    // ListBucket on the output bucket only (never another bucket): with it S3 reports a missing
    // detached-job object as NoSuchKey rather than AccessDenied.
    expect(bySid('TellMissingOutputObjectsFromDenials')).toEqual({
      Sid: 'TellMissingOutputObjectsFromDenials',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RunnerOutputBucket/), 'Arn'] },
    });
    const s3Actions = fnStatements().flatMap((s) => actionsOf(s).filter((a) => a.startsWith('s3:')));
    // s3:GetEncryptionConfiguration is the doctor's: a bucket setting, no object. GetObject: detached
    // jobs read their output chunks back.
    expect(s3Actions.sort()).toEqual([
      's3:AbortMultipartUpload',
      's3:GetEncryptionConfiguration',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
  });

  it('may use only the idempotency records of its own table', () => {
    expect(bySid('IdempotencyRecords')).toEqual({
      Sid: 'IdempotencyRecords',
      Effect: 'Allow',
      Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^RunnerIdempotencyTable/), 'Arn'] },
    });
  });

  it('has exactly these statements', () => {
    expect(fnStatements().map((s) => s.Sid ?? actionsOf(s).join(','))).toEqual([
      'logs:CreateLogStream,logs:PutLogEvents',
      'ExecIntoTasksOfConfiguredClusters',
      'ListTasksOfConfiguredClusters',
      'DescribeConfiguredClusters',
      'ResumeAndEndEcsExecSessions',
      'WriteFullOutputUnderPrefix',
      'TellMissingOutputObjectsFromDenials',
      'ReadDetachedJobChunksUnderPrefix',
      'IdempotencyRecords',
      'EcsExecSessionDataKey',
      'DoctorDescribeServicesAndInstancesOfConfiguredClusters',
      'DoctorReadTaskDefinitionsAndNetwork',
      'DoctorSimulateRoles',
      'DoctorReadInstanceProfiles',
      'DoctorReadExecLogGroups',
      'DoctorReadExecLogBucketEncryption',
      'DoctorDescribeExecKey',
    ]);
  });

  it('gives the doctor action read-only permissions, scoped where IAM allows', () => {
    const doctor = fnStatements().filter((s) => String(s.Sid).startsWith('Doctor'));
    const actions = doctor.flatMap(actionsOf);
    expect(actions.every((a) => /^(ecs|ec2|iam|logs|s3|kms):(Describe|Get|Simulate)/.test(a))).toBe(true);
    expect(bySid('DoctorDescribeServicesAndInstancesOfConfiguredClusters')?.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': [CLUSTER_A, CLUSTER_B] },
    });
    expect(bySid('DoctorReadTaskDefinitionsAndNetwork')?.Resource).toBe('*');
    expect(JSON.stringify(bySid('DoctorSimulateRoles')?.Resource)).toContain(':role/*');
  });
});

describe('no over-broad statements anywhere', () => {
  it.each([
    ['with a key and two clusters', () => fixture],
    ['without a key', () => noKey],
  ])(
    '%s: no wildcard actions, Resource "*" only for actions without resource-level permissions',
    (_n, get) => {
      const { json } = get();
      const statements = iamStatements(json);
      expect(statements.length).toBeGreaterThan(10);
      for (const { policy, statement } of statements) {
        expect({ policy, actions: actionsOf(statement).filter((a) => a.includes('*')) }).toEqual({
          policy,
          actions: [],
        });
        expect(statement.Effect).toBe('Allow');
        if (resourcesOf(statement).includes('*')) {
          expect({
            policy,
            actions: actionsOf(statement).filter((a) => !RESOURCE_STAR_ACTIONS.has(a)),
          }).toEqual({
            policy,
            actions: [],
          });
        }
      }
    },
  );

  it('lets no statement reach ECS tasks without the ecs:cluster condition', () => {
    for (const action of ['ecs:ExecuteCommand', 'ecs:DescribeTasks', 'ecs:ListTasks']) {
      const found = statementsAllowing(fixture.json, action);
      expect(found.length).toBeGreaterThan(0);
      for (const { statement } of found) {
        expect(statement.Condition).toEqual({ ArnEquals: { 'ecs:cluster': [CLUSTER_A, CLUSTER_B] } });
      }
    }
  });
});

describe('output bucket and idempotency table', () => {
  it('encrypts the bucket, blocks public access and expires objects', () => {
    fixture.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            ExpirationInDays: 30,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ],
      },
    });
  });

  it('denies every request that is not TLS', () => {
    fixture.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('keeps idempotency records on demand with the Powertools key and TTL attribute', () => {
    fixture.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('retains data by default', () => {
    fixture.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    fixture.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });
});

describe('"run one command" state machine', () => {
  const definition = () => definitionOf(fixture.json, 'RunnerRunCommandStateMachine');

  it('is valid ASL', () => {
    const result = aslValidator(definition());
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('adds the execution name to the input and passes it as the Lambda event', () => {
    const { StartAt, States } = definition();
    expect(StartAt).toBe(RunCommandStates.AddExecutionName);
    expect(States[RunCommandStates.AddExecutionName]).toMatchObject({
      Type: 'Pass',
      Parameters: { 'event.$': '$', context: { 'executionName.$': '$$.Execution.Name' } },
      Next: RunCommandStates.Route,
    });
    expect(States[RunCommandStates.RunCommand]).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: expect.stringMatching(/:function:RunnerFunction[0-9A-F]{8}$/),
        'Payload.$': 'States.JsonMerge($.event, $.context, false)',
      },
      OutputPath: '$.Payload',
      TimeoutSeconds: 960,
      End: true,
    });
  });

  it('retries Lambda service errors and AgentNotReady with jittered back-off, and nothing else', () => {
    const task = definition().States[RunCommandStates.RunCommand] as { Retry: unknown[] };
    expect(task.Retry).toEqual([
      {
        ErrorEquals: LAMBDA_SERVICE_ERRORS,
        IntervalSeconds: 2,
        MaxAttempts: 6,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      },
      {
        ErrorEquals: [ExecErrorName.AgentNotReady],
        IntervalSeconds: 10,
        MaxAttempts: 4,
        BackoffRate: 2,
        MaxDelaySeconds: 60,
        JitterStrategy: 'FULL',
      },
    ]);
  });

  it('catches everything else into a Fail state that keeps the error name and cause', () => {
    const { States } = definition();
    expect(States[RunCommandStates.RunCommand]?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], Next: RunCommandStates.CommandFailed },
    ]);
    expect(States[RunCommandStates.CommandFailed]).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.Error',
      CausePath: '$.Cause',
    });
  });

  it('has an execution timeout, logs everything and traces', () => {
    expect(definition().TimeoutSeconds).toBe(8 * 24 * 3600);
    fixture.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
  });
});

describe('fan-out state machine', () => {
  const definition = () => definitionOf(fixture.json, 'RunnerFanOutStateMachine');
  const state = (name: string) => definition().States[name] as Record<string, unknown>;

  it('is valid ASL', () => {
    const result = aslValidator(definition());
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('lists the RUNNING tasks with the listing function, which writes them to S3', () => {
    expect(definition().StartAt).toBe(FanOutStates.ListServiceTasks);
    expect(state(FanOutStates.ListServiceTasks)).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: expect.stringMatching(/:function:RunnerListTasksFunction/),
        Payload: { 'input.$': '$', 'executionName.$': '$$.Execution.Name' },
      },
      ResultPath: '$.listing',
      Next: FanOutStates.RunOnEachTask,
      Catch: [{ ErrorEquals: ['States.ALL'], Next: FanOutStates.FanOutFailed }],
    });
  });

  it('runs a Distributed Map over the S3 task list with the configured concurrency, tolerating failures', () => {
    const map = state(FanOutStates.RunOnEachTask);
    expect(map).toMatchObject({
      Type: 'Map',
      Label: FanOutStates.RunOnEachTask,
      MaxConcurrencyPath: '$.listing.maxConcurrency',
      ToleratedFailurePercentage: 100,
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: expect.stringMatching(/^RunnerOutputBucket/), 'Key.$': '$.listing.key' },
      },
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: {
          Bucket: expect.stringMatching(/^RunnerOutputBucket/),
          Prefix: 'exec-output/fan-out/results',
        },
      },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ResultPath: '$.map',
    });
    const child = (map.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States[
      FanOutStates.RunOnTask
    ];
    expect(child).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: expect.stringMatching(/:function:RunnerFunction/), 'Payload.$': '$' },
      OutputPath: '$.Payload',
      TimeoutSeconds: 960,
    });
    expect(((child?.Retry ?? []) as Array<{ ErrorEquals: string[] }>).map((r) => r.ErrorEquals)).toEqual([
      LAMBDA_SERVICE_ERRORS,
      [ExecErrorName.AgentNotReady],
    ]);
  });

  it('passes the default MaxConcurrency to the listing function', () => {
    fixture.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('fan-out'),
      Environment: { Variables: Match.objectLike({ FAN_OUT_MAX_CONCURRENCY: '3' }) },
    });
  });

  it('counts the results, and fails with TasksFailed naming a bounded list of failed tasks', () => {
    expect(state(FanOutStates.CountResults)).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:sfn:describeMapRun',
      Parameters: { 'MapRunArn.$': '$.map.MapRunArn' },
    });
    expect(state(FanOutStates.AnyTaskFailed)).toMatchObject({
      Type: 'Choice',
      Choices: [{ Next: FanOutStates.ListFailedTasks }],
      Default: FanOutStates.AllTasksSucceeded,
    });
    expect(state(FanOutStates.ListFailedTasks)).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:sfn:listExecutions',
      Parameters: { StatusFilter: 'FAILED', MaxResults: 20 },
    });
    expect(state(FanOutStates.DescribeFailedTasks)).toMatchObject({ Type: 'Map', MaxConcurrency: 5 });
    expect(state(FanOutStates.TasksFailed)).toEqual(
      expect.objectContaining({ Type: 'Fail', Error: FanOutErrorName.TasksFailed, CausePath: '$.cause' }),
    );
    expect(state(FanOutStates.AllTasksSucceeded)).toMatchObject({ Type: 'Succeed', OutputPath: '$.summary' });
  });

  it('grants the state machine only its own map runs and child executions, and S3 only its two folders', () => {
    const own = statementsOf(fixture.json, 'RunnerFanOutStateMachineRoleDefaultPolicy');
    const states = own.filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    expect(JSON.stringify(states)).toContain(':mapRun:RunnerTestRunner');
    expect(JSON.stringify(states)).toContain('FanOut/RunOnEachTask:*');
    const s3 = own.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect(s3.map((s) => (s.Resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][1])).toEqual([
      '/exec-output/fan-out/results/*',
      '/exec-output/fan-out/tasks/*',
    ]);
  });

  it('lets the listing function write only task lists and list only the configured clusters', () => {
    const statements = statementsOf(fixture.json, 'RunnerListTasksFunctionRole');
    expect(statements.map((s) => actionsOf(s).join(','))).toEqual([
      'logs:CreateLogStream,logs:PutLogEvents',
      'ecs:ListTasks',
      's3:PutObject',
    ]);
    expect(statements[2]?.Resource).toEqual({
      'Fn::Join': [
        '',
        [
          { 'Fn::GetAtt': [expect.stringMatching(/^RunnerOutputBucket/), 'Arn'] },
          '/exec-output/fan-out/tasks/*',
        ],
      ],
    });
  });
});

describe('schedules', () => {
  it('start the configured state machine with the event, in its time zone, with retries and a DLQ', () => {
    fixture.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'nightly-disk',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { Ref: Match.stringLikeRegexp('^RunnerFanOutStateMachine') },
        // The schedule's name rides along for the logs and the alerts.
        Input: JSON.stringify({ command: 'df -h', maxConcurrency: 2, scheduleName: 'nightly-disk' }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RunnerScheduleDeadLetterQueue'), 'Arn'] },
        },
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RunnerSchedulerRole'), 'Arn'] },
      },
    });
    fixture.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'hourly-uptime',
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('^RunnerRunCommandStateMachine') },
        RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
      }),
    });
  });

  it('never target the Lambda directly', () => {
    for (const schedule of Object.values(fixture.json.Resources).filter(
      (r) => r.Type === 'AWS::Scheduler::Schedule',
    )) {
      expect(JSON.stringify(schedule.Properties?.Target)).not.toMatch(/RunnerFunction|lambda/i);
    }
  });

  it('may only start the two state machines and send to the DLQ', () => {
    const statements = statementsOf(fixture.json, 'RunnerSchedulerRole');
    expect(statements.map((s) => [actionsOf(s), resourcesOf(s).length])).toEqual([
      [['states:StartExecution'], 2],
      [['sqs:SendMessage'], 1],
    ]);
  });

  it('use an encrypted, TLS-only dead-letter queue', () => {
    fixture.template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    fixture.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
  });

  it('are absent, with no queue or group, when none are configured', () => {
    noKey.template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    noKey.template.resourceCountIs('AWS::SQS::Queue', 0);
    noKey.template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 0);
  });
});

describe('in an app without cdk.json feature flags', () => {
  it('still writes the fan-out results to S3 (never into the state payload)', () => {
    // CDK warns that the first-generation ResultWriter is deprecated; that is the point here.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const bare = runnerStack({
      app: new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } }),
    });
    const map = definitionOf(bare.json, 'RunnerFanOutStateMachine').States[FanOutStates.RunOnEachTask];
    expect(map?.ResultWriter).toEqual({
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: {
        Bucket: expect.stringMatching(/^RunnerOutputBucket/),
        Prefix: 'exec-output/fan-out/results',
      },
    });
    const s3Resources = statementsOf(bare.json, 'RunnerFanOutStateMachineRole').flatMap((s) =>
      actionsOf(s).some((a) => a.startsWith('s3:')) ? resourcesOf(s) : [],
    );
    expect(JSON.stringify(s3Resources)).not.toMatch(/"\/\*"|"\*"/);
    warn.mockRestore();
  });
});
