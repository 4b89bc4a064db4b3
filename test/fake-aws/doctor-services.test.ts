/**
 * The fake endpoint's answers to the doctor's reads, through the real SDK clients: the tiny IAM
 * policy model, paging, the EC2 and S3 error shapes, and the caller's own permissions.
 */
import { CloudWatchLogsClient, paginateDescribeLogGroups } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, paginateSimulatePrincipalPolicy } from '@aws-sdk/client-iam';
import { GetBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { defaultWorld, type FakeAws, startFakeAws } from '../../local/fake-aws';
import { addDoctorTargets, DOCTOR_TARGETS } from '../../local/fake-aws/doctor-targets';
import {
  DOCTOR_WORLD_IDS,
  defaultTaskRoleArn,
  doctorState,
  evaluatePolicy,
  type FakeStatement,
} from '../../local/fake-aws/doctor-world';
import { withCallerStatements } from '../doctor/support';

let fake: FakeAws;
let restoreEnv: () => void;

beforeAll(async () => {
  fake = await startFakeAws({ world: addDoctorTargets(defaultWorld()) });
  restoreEnv = fake.applyEnv();
});

afterAll(async () => {
  restoreEnv();
  await fake.close();
});

describe('the policy model', () => {
  const statements: FakeStatement[] = [
    { effect: 'Allow', actions: ['ecs:*', 'ssm:StartSession'], resources: ['*'] },
    { effect: 'Allow', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::logs/exec/*'] },
    { effect: 'Deny', actions: ['ssm:StartSession'], resources: ['arn:aws:ecs:*:*:task/*'] },
  ];
  it.each([
    ['ECS:ExecuteCommand', '*', 'allowed'],
    ['ssm:StartSession', 'arn:aws:ecs:us-east-1:1:task/c/x', 'explicitDeny'],
    ['ssm:StartSession', 'arn:aws:ec2:us-east-1:1:instance/i-1', 'allowed'],
    ['s3:PutObject', 'arn:aws:s3:::logs/exec/*', 'allowed'],
    ['s3:PutObject', 'arn:aws:s3:::logs/other', 'implicitDeny'],
    ['s3:PutObject', '*', 'implicitDeny'],
    ['kms:Decrypt', '*', 'implicitDeny'],
  ])('%s on %s → %s', (action, resource, decision) => {
    expect(evaluatePolicy(statements, action, resource)).toBe(decision);
  });
});

describe('STS and IAM', () => {
  it('GetCallerIdentity answers the assumed-role session', async () => {
    const sts = new STSClient({});
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({
      Account: fake.world.account,
      Arn: doctorState(fake.world).callerArn,
      UserId: expect.stringMatching(/^AROA[0-9A-F]+:doctor$/),
    });
    sts.destroy();
  });

  it('SimulatePrincipalPolicy pages with Marker and evaluates each action', async () => {
    const iam = new IAMClient({});
    const actions = [
      'ssmmessages:CreateControlChannel',
      'ssmmessages:CreateDataChannel',
      'ssmmessages:OpenControlChannel',
      'ssmmessages:OpenDataChannel',
      'ecs:ExecuteCommand',
    ];
    const pages = [];
    for await (const page of paginateSimulatePrincipalPolicy(
      { client: iam, pageSize: 2 },
      { PolicySourceArn: defaultTaskRoleArn(fake.world), ActionNames: actions },
    )) {
      pages.push(page.EvaluationResults?.map((r) => [r.EvalActionName, r.EvalDecision]));
    }
    expect(pages).toEqual([
      [
        ['ssmmessages:CreateControlChannel', 'allowed'],
        ['ssmmessages:CreateDataChannel', 'allowed'],
      ],
      [
        ['ssmmessages:OpenControlChannel', 'allowed'],
        ['ssmmessages:OpenDataChannel', 'allowed'],
      ],
      [['ecs:ExecuteCommand', 'implicitDeny']],
    ]);
    iam.destroy();
  });
});

describe('EC2, Logs and S3', () => {
  it('an unknown subnet is the EC2 error the SDK names; a denied caller gets UnauthorizedOperation', async () => {
    const ec2 = new EC2Client({});
    await expect(ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-nope'] }))).rejects.toMatchObject({
      name: 'InvalidSubnetID.NotFound',
    });
    const subnets = await ec2.send(
      new DescribeSubnetsCommand({ SubnetIds: [DOCTOR_TARGETS.subnets.shared] }),
    );
    expect(subnets.Subnets?.[0]).toMatchObject({ VpcId: 'vpc-05a4ed', OwnerId: DOCTOR_TARGETS.otherAccount });
    try {
      await withCallerStatements(
        fake.world,
        [{ effect: 'Deny', actions: ['ec2:DescribeSubnets'], resources: ['*'] }],
        () =>
          expect(
            ec2.send(new DescribeSubnetsCommand({ SubnetIds: [DOCTOR_WORLD_IDS.subnet] })),
          ).rejects.toMatchObject({
            name: 'UnauthorizedOperation',
          }),
      );
    } finally {
      ec2.destroy();
    }
  });

  it('DescribeLogGroups pages by prefix', async () => {
    const groups = doctorState(fake.world).logGroups;
    groups['/ecs/a'] = {};
    groups['/ecs/b'] = { kmsKeyId: 'arn:aws:kms:us-east-1:1:key/k' };
    const logs = new CloudWatchLogsClient({});
    const names: string[][] = [];
    for await (const page of paginateDescribeLogGroups(
      { client: logs, pageSize: 2 },
      { logGroupNamePrefix: '/ecs/' },
    )) {
      names.push((page.logGroups ?? []).map((g) => `${g.logGroupName}${g.kmsKeyId ? ' (kms)' : ''}`));
    }
    expect(names).toEqual([['/ecs/a', '/ecs/b (kms)'], [DOCTOR_TARGETS.logGroup]]);
    logs.destroy();
  });

  it('GetBucketEncryption: AES256 by default, NoSuchBucket, and no configuration', async () => {
    doctorState(fake.world).bucketEncryption['plain-bucket'] = [];
    const s3 = new S3Client({});
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'any-bucket' }));
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: 'AES256',
    });
    await expect(
      s3.send(new GetBucketEncryptionCommand({ Bucket: DOCTOR_TARGETS.bucket })),
    ).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
    await expect(s3.send(new GetBucketEncryptionCommand({ Bucket: 'plain-bucket' }))).rejects.toMatchObject({
      name: 'ServerSideEncryptionConfigurationNotFoundError',
    });
    s3.destroy();
  });
});
