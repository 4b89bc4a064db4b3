/** The doctor's pure checks: facts in, one finding out; tables of cases. */
import {
  checkCallerExecuteCommand,
  checkCallerIdentity,
  checkCallerStartSession,
} from '../../lambda/doctor/checks/caller';
import {
  checkExecLogging,
  checkKmsKey,
  checkLogBucket,
  checkLogGroup,
  checkServiceExec,
} from '../../lambda/doctor/checks/cluster';
import { compareVersions, notChecked } from '../../lambda/doctor/checks/common';
import { checkReachability, checkSubnet, internetPath } from '../../lambda/doctor/checks/network';
import { checkAgentRole, checkAgentRolePermissions } from '../../lambda/doctor/checks/role';
import {
  checkCredentialEnvironment,
  checkExecAgents,
  checkExecEnabled,
  checkPidMode,
  checkPlatform,
  checkReadonlyRoot,
  checkTaskStatus,
} from '../../lambda/doctor/checks/task';
import type {
  CallerFacts,
  ContainerFacts,
  Decisions,
  Fetched,
  NetworkFacts,
  TaskDefinitionFacts,
  TaskFacts,
} from '../../lambda/doctor/types';

const ok = <T>(value: T): Fetched<T> => ({ ok: true, value });
const denied = (action: string): Fetched<never> => ({
  ok: false,
  denied: true,
  action,
  message: 'AccessDenied: no',
});
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef';
const running = (name: string): ContainerFacts => ({
  name,
  hasManagedAgents: true,
  execAgent: { name: 'ExecuteCommandAgent', lastStatus: 'RUNNING' },
});
const task = (extra: Partial<TaskFacts> = {}): TaskFacts => ({
  arn: TASK_ARN,
  id: '0123456789abcdef0123456789abcdef',
  lastStatus: 'RUNNING',
  launchType: 'FARGATE',
  platformVersion: '1.4.0',
  enableExecuteCommand: true,
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:3',
  containers: [running('app')],
  ...extra,
});
const definition = (
  containers: Partial<TaskDefinitionFacts['containers'][number]>[],
  extra: Partial<TaskDefinitionFacts> = {},
): TaskDefinitionFacts => ({
  arn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:3',
  familyRevision: 'app:3',
  containers: containers.map((c) => ({
    name: 'app',
    initProcessEnabled: true,
    readonlyRootFilesystem: false,
    environmentNames: [],
    ...c,
  })),
  ...extra,
});

describe('compareVersions', () => {
  it.each([
    ['1.4.0', '1.4.0', 0],
    ['1.10.0', '1.4.0', 1],
    ['1.3.9', '1.4', -1],
    ['v1.50.2', '1.50.2', 0],
    ['1.50.10', '1.50.2', 1],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });
});

describe('task checks', () => {
  it.each([
    ['RUNNING', undefined, 'ok'],
    ['PENDING', undefined, 'warn'],
    ['ACTIVATING', undefined, 'warn'],
    ['STOPPING', undefined, 'fail'],
    ['STOPPED', 'Task failed ELB health checks', 'fail'],
  ] as const)('status %s → %s', (lastStatus, stoppedReason, status) => {
    const finding = checkTaskStatus(task({ lastStatus, ...(stoppedReason ? { stoppedReason } : {}) }));
    expect(finding.status).toBe(status);
    if (stoppedReason) expect(finding.found).toContain(stoppedReason);
  });

  it.each([
    [{ platformVersion: '1.4.0' }, 'ok'],
    [{ platformVersion: 'LATEST' }, 'ok'],
    [{ platformVersion: '1.3.0' }, 'fail'],
    [{ platformVersion: '1.0.0', platformFamily: 'WINDOWS_SERVER_2019_CORE' }, 'ok'],
    [{ platformVersion: '1.0.0', platformFamily: 'Linux' }, 'fail'],
  ] as const)('Fargate %j → %s', (extra, status) => {
    expect(checkPlatform(task(extra), undefined, 'c').status).toBe(status);
  });

  it.each([
    [ok({ agentVersion: '1.50.2' }), 'ok'],
    [ok({ agentVersion: '1.51.0' }), 'ok'],
    [ok({ agentVersion: '1.50.1' }), 'fail'],
    [ok({}), 'fail'],
    [denied('ecs:DescribeContainerInstances'), 'warn'],
  ] as const)('EC2 agent %j → %s', (instance, status) => {
    const ec2 = task({
      launchType: 'EC2',
      containerInstanceArn: 'arn:aws:ecs:us-east-1:1:container-instance/c/x',
    });
    expect(checkPlatform(ec2, instance, 'c').status).toBe(status);
  });

  it('exec disabled names the service in the fix', () => {
    const finding = checkExecEnabled(task({ enableExecuteCommand: false, service: 'api' }), 'prod');
    expect(finding).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(
        'aws ecs update-service --cluster prod --service api --enable-execute-command --force-new-deployment',
      ),
    });
  });

  it.each([
    ['every agent RUNNING', [running('app'), running('sidecar')], undefined, 'ok'],
    [
      'the second container is STOPPED (the checker looks at the first only)',
      [
        running('app'),
        {
          name: 'sidecar',
          hasManagedAgents: true,
          execAgent: { name: 'ExecuteCommandAgent', lastStatus: 'STOPPED', reason: 'boom' },
        },
      ],
      undefined,
      'fail',
    ],
    [
      'only the chosen container counts',
      [
        running('app'),
        {
          name: 'sidecar',
          hasManagedAgents: true,
          execAgent: { name: 'ExecuteCommandAgent', lastStatus: 'STOPPED' },
        },
      ],
      'app',
      'ok',
    ],
    [
      'PENDING',
      [
        {
          name: 'app',
          hasManagedAgents: true,
          execAgent: { name: 'ExecuteCommandAgent', lastStatus: 'PENDING' },
        },
      ],
      undefined,
      'warn',
    ],
    ['no agent listed', [{ name: 'app', hasManagedAgents: false }], undefined, 'fail'],
    ['unknown container', [running('app')], 'nope', 'fail'],
  ] as const)('agents: %s → %s', (_name, containers, container, status) => {
    expect(checkExecAgents(task({ containers: [...containers] }), container).status).toBe(status);
  });

  it.each([
    [[{ readonlyRootFilesystem: true }], 'fail'],
    [[{ readonlyRootFilesystem: false }], 'ok'],
  ] as const)('readonly root %j → %s', (containers, status) => {
    expect(checkReadonlyRoot(definition([...containers])).status).toBe(status);
  });

  it.each([
    [{ pidMode: 'task' }, 'warn'],
    [{ pidMode: 'host' }, 'ok'],
    [{}, 'ok'],
  ] as const)('pidMode %j → %s', (extra, status) => {
    expect(checkPidMode(definition([{}], extra)).status).toBe(status);
  });

  it.each([
    [['AWS_ACCESS_KEY_ID', 'PATH'], 'warn'],
    [['AWS_SECRET_ACCESS_KEY'], 'warn'],
    [['AWS_ACCESS_KEY'], 'warn'],
    [['AWS_REGION', 'AWS_DEFAULT_REGION'], 'ok'],
  ] as const)('environment %j → %s', (environmentNames, status) => {
    expect(checkCredentialEnvironment(definition([{ environmentNames: [...environmentNames] }])).status).toBe(
      status,
    );
  });
});

describe('caller checks', () => {
  const caller: Fetched<CallerFacts> = ok({
    account: '123456789012',
    arn: 'arn:aws:sts::123456789012:assumed-role/dev/me',
    principalArn: 'arn:aws:iam::123456789012:role/dev',
  });
  it.each([
    [{ 'ecs:ExecuteCommand': 'allowed' }, 'ok'],
    [{ 'ecs:ExecuteCommand': 'implicitDeny' }, 'fail'],
    [{ 'ecs:ExecuteCommand': 'explicitDeny' }, 'fail'],
  ] as const)('ExecuteCommand %j → %s', (decisions, status) => {
    const finding = checkCallerExecuteCommand(caller, ok<Decisions>(decisions), TASK_ARN);
    expect(finding.status).toBe(status);
    if (status === 'fail') expect(finding.fix).toContain(`"Resource":"${TASK_ARN}"`);
  });

  it.each([
    [{ 'ssm:StartSession': 'allowed' }, 'warn'],
    [{ 'ssm:StartSession': 'implicitDeny' }, 'ok'],
  ] as const)('StartSession %j → %s', (decisions, status) => {
    expect(checkCallerStartSession(caller, ok<Decisions>(decisions)).status).toBe(status);
  });

  it('a denied simulation is a warning naming the missing action', () => {
    expect(checkCallerExecuteCommand(caller, denied('iam:SimulatePrincipalPolicy'), TASK_ARN)).toMatchObject({
      status: 'warn',
      found: 'could not check ecs:ExecuteCommand on the task: the caller lacks iam:SimulatePrincipalPolicy',
    });
  });

  it('notChecked refuses a fact that was read', () => {
    expect(() => notChecked('x', 'x', ok(1))).toThrow();
  });
});

describe('cluster checks', () => {
  it.each([
    [ok({ arn: 'arn:k', enabled: true, keyState: 'Enabled' }), 'ok'],
    [ok({ arn: 'arn:k', enabled: false, keyState: 'Disabled' }), 'fail'],
    [ok({ arn: 'arn:k', enabled: false, keyState: 'PendingDeletion' }), 'fail'],
    [ok(undefined), 'fail'],
    [denied('kms:DescribeKey'), 'warn'],
  ] as const)('KMS key %j → %s', (key, status) => {
    expect(checkKmsKey('k', key).status).toBe(status);
  });

  it.each([
    [true, ok({ exists: true, encryption: ['aws:kms'] }), 'ok'],
    [true, ok({ exists: true, encryption: [] }), 'fail'],
    [false, ok({ exists: true, encryption: [] }), 'ok'],
    [false, ok({ exists: false, encryption: [] }), 'fail'],
    [false, denied('s3:GetEncryptionConfiguration'), 'warn'],
  ] as const)('log bucket (encryption required %s) %j → %s', (required, bucket, status) => {
    expect(checkLogBucket('b', required, bucket).status).toBe(status);
  });

  it.each([
    [true, ok({ exists: true, kmsKeyId: 'arn:k' }), 'ok'],
    [true, ok({ exists: true }), 'fail'],
    [false, ok({ exists: true }), 'ok'],
    [false, ok({ exists: false }), 'fail'],
  ] as const)('log group (encryption required %s) %j → %s', (required, group, status) => {
    expect(checkLogGroup('g', required, group).status).toBe(status);
  });

  it.each([
    [undefined, 'ok'],
    [{ logging: 'DEFAULT' }, 'ok'],
    [{ logging: 'NONE' }, 'warn'],
    [{ logging: 'OVERRIDE' }, 'warn'],
    [{ logging: 'OVERRIDE', log: { cloudWatchLogGroupName: 'g' } }, 'ok'],
  ] as const)('logging %j → %s', (exec, status) => {
    expect(
      checkExecLogging({ arn: 'a', name: 'c', status: 'ACTIVE', ...(exec ? { exec } : {}) }).status,
    ).toBe(status);
  });

  it.each([
    [true, [task()], 'ok'],
    [false, [task({ enableExecuteCommand: false })], 'fail'],
    [true, [task(), task({ enableExecuteCommand: false })], 'warn'],
  ] as const)('service exec %s with tasks → %s', (enabled, tasks, status) => {
    const service = ok({ arn: 'arn:s', name: 'api', enableExecuteCommand: enabled, status: 'ACTIVE' });
    expect(checkServiceExec(service, 'api', tasks, 'prod').status).toBe(status);
  });
});

describe('agent role checks', () => {
  const role = { arn: 'arn:aws:iam::1:role/task', source: 'task-definition' as const };
  const where = { partition: 'aws', region: 'us-east-1', account: '1' };
  const ssm = {
    'ssmmessages:CreateControlChannel': 'allowed',
    'ssmmessages:CreateDataChannel': 'allowed',
    'ssmmessages:OpenControlChannel': 'allowed',
    'ssmmessages:OpenDataChannel': 'allowed',
  };

  it('no role on Fargate fails', () => {
    expect(checkAgentRole(ok(undefined), 'FARGATE').status).toBe('fail');
  });

  it('one finding per permission group; the fix names only what is missing, on the narrowest resource', () => {
    const findings = checkAgentRolePermissions(
      role,
      ok<Decisions>({
        ...ssm,
        'kms:Decrypt': 'implicitDeny',
        's3:PutObject': 'allowed',
        's3:GetEncryptionConfiguration': 'implicitDeny',
        'logs:DescribeLogGroups': 'allowed',
        'logs:CreateLogStream': 'allowed',
        'logs:DescribeLogStreams': 'allowed',
        'logs:PutLogEvents': 'allowed',
      }),
      where,
      {
        kmsKeyArn: 'arn:aws:kms:us-east-1:1:key/k',
        log: {
          s3BucketName: 'logs',
          s3KeyPrefix: 'exec/',
          s3EncryptionEnabled: true,
          cloudWatchLogGroupName: '/ecs/exec',
        },
      },
    );
    expect(findings.map((f) => [f.id, f.status])).toEqual([
      ['task-role.ssmmessages', 'ok'],
      ['task-role.kms-decrypt', 'fail'],
      ['task-role.s3-logging', 'fail'],
      ['task-role.cloudwatch-logging', 'ok'],
    ]);
    expect(findings[1]?.fix).toContain(
      '{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:1:key/k"}',
    );
    expect(findings[2]?.fix).toContain(
      '{"Effect":"Allow","Action":"s3:GetEncryptionConfiguration","Resource":"arn:aws:s3:::logs"}',
    );
  });
});

describe('network checks', () => {
  const network = (extra: Partial<NetworkFacts> = {}): Fetched<NetworkFacts> =>
    ok({
      subnetId: 'subnet-1',
      vpcId: 'vpc-1',
      subnetOwnerId: '1',
      endpointServices: ok([]),
      routes: ok([{ destination: '0.0.0.0/0', target: 'nat-1' }]),
      publicIp: ok(undefined),
      ...extra,
    });
  const endpoints = (...services: string[]) => ok(services.map((s) => `com.amazonaws.us-east-1.${s}`));

  it.each([
    ['NAT route', network(), ['ssmmessages'], 'ok'],
    [
      'no route, ssmmessages endpoint',
      network({ routes: ok([]), endpointServices: endpoints('ssmmessages') }),
      ['ssmmessages'],
      'ok',
    ],
    [
      'no route, ssmmessages but no kms endpoint',
      network({ routes: ok([]), endpointServices: endpoints('ssmmessages') }),
      ['ssmmessages', 'kms'],
      'fail',
    ],
    [
      'endpoints for some, NAT for the rest',
      network({ endpointServices: endpoints('ssmmessages') }),
      ['ssmmessages', 'kms', 'logs'],
      'ok',
    ],
    [
      'IGW with a public IP',
      network({ routes: ok([{ destination: '0.0.0.0/0', target: 'igw-1' }]), publicIp: ok('3.3.3.3') }),
      ['ssmmessages'],
      'ok',
    ],
    [
      'IGW without a public IP',
      network({ routes: ok([{ destination: '0.0.0.0/0', target: 'igw-1' }]) }),
      ['ssmmessages'],
      'fail',
    ],
    [
      'blackholed default route',
      network({ routes: ok([{ destination: '0.0.0.0/0', target: 'nat-1', state: 'blackhole' }]) }),
      ['ssmmessages'],
      'fail',
    ],
    [
      'endpoints not readable',
      network({ endpointServices: denied('ec2:DescribeVpcEndpoints') }),
      ['ssmmessages'],
      'warn',
    ],
    ['subnet not readable', denied('ec2:DescribeSubnets'), ['ssmmessages'], 'warn'],
    ['shared subnet', network({ subnetOwnerId: '2', routes: ok([]) }), ['ssmmessages'], 'warn'],
  ] as const)('%s → %s', (_name, facts, services, status) => {
    expect(checkReachability(facts, 'us-east-1', '1', services).status).toBe(status);
  });

  it('internetPath names the route it found', () => {
    expect(internetPath([{ destination: '0.0.0.0/0', target: 'tgw-1' }], undefined)).toEqual({
      ok: true,
      found: '0.0.0.0/0 → tgw-1',
    });
  });

  it('a RAM-shared subnet is a warning naming the owner', () => {
    expect(checkSubnet(network({ subnetOwnerId: '2' }), '1')).toMatchObject({
      status: 'warn',
      found: expect.stringContaining('shared'),
    });
    expect(checkSubnet(undefined, '1').status).toBe('warn');
  });
});

describe('caller identity', () => {
  it.each([
    [
      {
        ok: false,
        denied: false,
        action: 'sts:GetCallerIdentity',
        message: 'CredentialsProviderError: no credentials',
      },
      'fail',
    ],
    [denied('sts:GetCallerIdentity'), 'warn'],
    [ok({ account: '1', arn: 'arn:aws:iam::1:user/me', principalArn: 'arn:aws:iam::1:user/me' }), 'ok'],
  ] as const)('%j → %s', (caller, status) => {
    expect(checkCallerIdentity(caller).status).toBe(status);
  });
});
