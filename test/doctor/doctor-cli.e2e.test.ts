/**
 * `ecs-exec doctor` (cli/main.ts, in this process) against the fake AWS endpoint with the doctor's
 * broken targets: each failure is found with the right fix, a healthy target is all ✔, warnings do
 * not fail, and a caller who may not read something gets ⚠, never a crash.
 */
import { main } from '../../cli/main';
import type { DoctorReport, Finding } from '../../lambda/doctor';
import {
  DEFAULT_WORLD_IDS,
  defaultWorld,
  FAST_SESSION_DEFAULTS,
  type FakeAws,
  startFakeAws,
} from '../../local/fake-aws';
import { addDoctorTargets, DOCTOR_TARGETS } from '../../local/fake-aws/doctor-targets';
import { withCallerStatements } from './support';

let fake: FakeAws;
let restoreEnv: () => void;

beforeAll(async () => {
  fake = await startFakeAws({
    world: addDoctorTargets(defaultWorld()),
    sessionDefaults: FAST_SESSION_DEFAULTS,
  });
  restoreEnv = fake.applyEnv();
});

afterAll(async () => {
  restoreEnv();
  await fake.close();
});

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(['doctor', ...args], {
    io: {
      stdout: {
        write: (chunk: string) => {
          stdout += chunk;
          return true;
        },
      },
      stderr: {
        write: (chunk: string) => {
          stderr += chunk;
          return true;
        },
      },
    },
  });
  return { code, stdout, stderr };
}

async function report(args: readonly string[]): Promise<{ code: number; report: DoctorReport }> {
  const run = await cli([...args, '--json']);
  expect(run.stderr).toBe('');
  return { code: run.code, report: JSON.parse(run.stdout) as DoctorReport };
}

const allFindings = (r: DoctorReport): Finding[] => [...r.findings, ...r.tasks.flatMap((t) => t.findings)];
const byStatus = (r: DoctorReport, status: Finding['status']): string[] =>
  allFindings(r)
    .filter((f) => f.status === status)
    .map((f) => f.id);
const findingOf = (r: DoctorReport, id: string): Finding | undefined =>
  allFindings(r).find((f) => f.id === id);

const t = DOCTOR_TARGETS;
const LOCAL_TASK = ['--cluster', DEFAULT_WORLD_IDS.cluster, '--task', DEFAULT_WORLD_IDS.taskId];
const LOCAL_SERVICE = ['--cluster', DEFAULT_WORLD_IDS.cluster, '--service', DEFAULT_WORLD_IDS.service];
const KMS_TASK = ['--cluster', DEFAULT_WORLD_IDS.kmsCluster, '--task', DEFAULT_WORLD_IDS.kmsTaskId];

describe('healthy targets', () => {
  it.each([
    ['local task', LOCAL_TASK],
    [
      'local-kms service',
      ['--cluster', DEFAULT_WORLD_IDS.kmsCluster, '--service', DEFAULT_WORLD_IDS.kmsService],
    ],
  ])('%s: every check ✔, exit 0', async (_name, args) => {
    const run = await cli(args);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n').filter((line) => /^ {2}[✔⚠✘] /.test(line));
    expect(lines.length).toBeGreaterThan(15);
    expect(lines.every((line) => line.startsWith('  ✔ '))).toBe(true);
    expect(run.stdout).not.toMatch(/fix:/);
    expect(run.stdout).toMatch(/^✔ \d+ ok, 0 warnings, 0 failed$/m);
  });

  it('the KMS target is checked for the key, the caller data key, the role decrypt and the kms route', async () => {
    const { report: r } = await report(KMS_TASK);
    for (const id of [
      'cluster.kms-key',
      'caller.kms-generate-data-key',
      'task-role.kms-decrypt',
      'network.reachability',
    ]) {
      expect(findingOf(r, id)?.status).toBe('ok');
    }
    expect(findingOf(r, 'network.reachability')?.summary).toContain('kms');
  });
});

describe('broken targets: each failure is found with its fix', () => {
  it.each([
    [
      'exec not enabled',
      t.cluster,
      t.tasks.execOff,
      'task.exec-enabled',
      /--service legacy --enable-execute-command --force-new-deployment/,
    ],
    ['agent stopped', t.cluster, t.tasks.agentStopped, 'task.exec-agent', /start a new task/],
    [
      'read-only root filesystem',
      t.cluster,
      t.tasks.readonlyRoot,
      'taskdef.readonly-root',
      /"readonlyRootFilesystem": false/,
    ],
    [
      'task role without ssmmessages',
      t.cluster,
      t.tasks.noSsmmessages,
      'task-role.ssmmessages',
      /"ssmmessages:CreateControlChannel".*"Resource":"\*"/,
    ],
    [
      'no route and no endpoint',
      t.cluster,
      t.tasks.noRoute,
      'network.reachability',
      /create-vpc-endpoint .*com\.amazonaws\.us-east-1\.ssmmessages/,
    ],
    ['old platform version', t.cluster, t.tasks.oldPlatform, 'task.platform', /--platform-version LATEST/],
    ['stopped task', t.cluster, t.tasks.stopped, 'task.status', /RUNNING task/],
    [
      'old EC2 agent',
      t.cluster,
      t.tasks.ec2OldAgent,
      'task.platform',
      /update-container-agent --cluster doctor/,
    ],
    ['no task role', t.cluster, t.tasks.noTaskRole, 'task-role.present', /taskRoleArn/],
    [
      'IGW route without a public IP',
      t.cluster,
      t.tasks.noPublicIp,
      'network.reachability',
      /assignPublicIp ENABLED/,
    ],
    [
      'KMS key disabled',
      `${t.kmsCluster}-disabled`,
      t.tasks.kmsDisabled,
      'cluster.kms-key',
      /aws kms enable-key --key-id arn:aws:kms:/,
    ],
    [
      'task role cannot decrypt',
      t.kmsCluster,
      t.tasks.kmsNoDecrypt,
      'task-role.kms-decrypt',
      /"Action":"kms:Decrypt","Resource":"arn:aws:kms:/,
    ],
    [
      'no KMS endpoint in an endpoint-only VPC',
      t.kmsCluster,
      t.tasks.kmsNoEndpoint,
      'network.reachability',
      /service-name com\.amazonaws\.us-east-1\.kms /,
    ],
    [
      'log bucket missing',
      t.loggingCluster,
      t.tasks.logging,
      'cluster.log-bucket',
      /aws s3 mb s3:\/\/doctor-missing-bucket/,
    ],
    [
      'log group not encrypted',
      t.loggingCluster,
      t.tasks.logging,
      'cluster.log-group',
      /associate-kms-key --log-group-name \/ecs\/doctor-unencrypted/,
    ],
  ])('%s → %s ✘ (exit 1)', async (_name, cluster, task, id, fix) => {
    const { code, report: r } = await report(['--cluster', cluster, '--task', task]);
    expect(code).toBe(1);
    expect(r.status).toBe('fail');
    const found = findingOf(r, id);
    expect(found?.status).toBe('fail');
    expect(found?.fix).toMatch(fix);
  });

  it('the stopped task reports its stoppedReason', async () => {
    const { report: r } = await report(['--cluster', t.cluster, '--task', t.tasks.stopped]);
    expect(findingOf(r, 'task.status')?.found).toBe('STOPPED (Essential container in task exited)');
  });

  it('an EC2 task without a task role is checked with its instance profile role', async () => {
    const { report: r } = await report(['--cluster', t.cluster, '--task', t.tasks.ec2OldAgent]);
    expect(findingOf(r, 'task-role.present')).toMatchObject({
      status: 'ok',
      found: expect.stringContaining('instance profile'),
    });
    expect(findingOf(r, 'task-role.ssmmessages')?.status).toBe('ok');
  });

  it('a shared (RAM) subnet is reported as a warning, not failed', async () => {
    const { report: r } = await report(['--cluster', t.cluster, '--task', t.tasks.sharedSubnet]);
    expect(findingOf(r, 'network.subnet')).toMatchObject({
      status: 'warn',
      found: expect.stringContaining(t.otherAccount),
    });
    expect(findingOf(r, 'network.reachability')?.status).toBe('warn');
    expect(r.status).toBe('warn');
  });
});

describe('warnings do not fail', () => {
  it('pidMode task, init process off and credentials in the environment: ⚠ each, exit 0, no value printed', async () => {
    const run = await cli(['--cluster', t.cluster, '--task', t.tasks.warnings]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/⚠ pidMode: "task"/);
    expect(run.stdout).toMatch(/⚠ initProcessEnabled .*disabled in app/);
    expect(run.stdout).toMatch(/⚠ no AWS credentials .*app: AWS_ACCESS_KEY_ID, app: AWS_SECRET_ACCESS_KEY/);
    expect(run.stdout).not.toContain('AKIAEXAMPLEDOCTOR000');
    expect(run.stdout).not.toContain('doctor-example-secret-value');
  });

  it('ssm:StartSession allowed to the caller is a warning', async () => {
    await withCallerStatements(
      fake.world,
      [{ effect: 'Allow', actions: ['ssm:StartSession'], resources: ['*'] }],
      async () => {
        const { code, report: r } = await report(LOCAL_TASK);
        expect(code).toBe(0);
        expect(findingOf(r, 'caller.ssm-start-session')).toMatchObject({
          status: 'warn',
          fix: expect.stringContaining('Deny'),
        });
      },
    );
  });
});

describe('services', () => {
  it('a service with exec off fails at the service level and on its task', async () => {
    const { code, report: r } = await report(['--cluster', t.cluster, '--service', t.execOffService]);
    expect(code).toBe(1);
    expect(r.findings.find((f) => f.id === 'service.exec-enabled')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('--service legacy --enable-execute-command --force-new-deployment'),
    });
    expect(r.tasks).toHaveLength(1);
  });

  it('a service switched on after its tasks started needs a new deployment', async () => {
    const { report: r } = await report(['--cluster', t.cluster, '--service', t.rolloutService]);
    expect(r.findings.find((f) => f.id === 'service.exec-enabled')).toMatchObject({
      status: 'warn',
      fix: 'aws ecs update-service --cluster doctor --service rollout --force-new-deployment',
    });
  });

  it('checks every RUNNING task of a service and summarises', async () => {
    const { report: r } = await report(['--cluster', t.cluster, '--service', t.rolloutService]);
    expect(r.summary).toMatch(/^\d+ ok, 1 warning, 2 failed$/);
  });
});

describe('a caller without permission to run a check gets ⚠, never a crash', () => {
  it.each([
    ['ec2:DescribeVpcEndpoints', 'network.reachability'],
    ['iam:SimulatePrincipalPolicy', 'caller.execute-command'],
    ['ecs:DescribeTaskDefinition', 'taskdef'],
    ['kms:DescribeKey', 'cluster.kms-key'],
    ['ec2:DescribeSubnets', 'network.subnet'],
  ])('without %s: %s is ⚠ naming the action', async (action, id) => {
    await withCallerStatements(
      fake.world,
      [{ effect: 'Deny', actions: [action], resources: ['*'] }],
      async () => {
        const { code, report: r } = await report(KMS_TASK);
        expect(code).toBe(0);
        expect(findingOf(r, id)).toMatchObject({
          status: 'warn',
          found: expect.stringContaining(`the caller lacks ${action}`),
        });
        expect(byStatus(r, 'fail')).toEqual([]);
      },
    );
  });
});

describe('targets by ARN and throttling', () => {
  it('gives the same healthy report for a cluster and task passed as ARNs (simulated on the real task ARN)', async () => {
    const account = fake.world.account;
    const region = fake.world.region;
    const clusterArn = `arn:aws:ecs:${region}:${account}:cluster/${DEFAULT_WORLD_IDS.cluster}`;
    const taskArn = `arn:aws:ecs:${region}:${account}:task/${DEFAULT_WORLD_IDS.cluster}/${DEFAULT_WORLD_IDS.taskId}`;
    const before = fake.calls.length;
    const { code, report: r } = await report(['--cluster', clusterArn, '--task', taskArn]);
    expect(code).toBe(0);
    expect(byStatus(r, 'fail')).toEqual([]);
    const simulated = fake.calls
      .slice(before)
      .filter((c) => c.operation === 'SimulatePrincipalPolicy')
      .map((c) => (c.input as Record<string, string>)['ResourceArns.member.1']);
    expect(simulated).toContain(taskArn);
    expect(simulated.filter((arn) => arn?.includes('arn:aws:ecs') && arn !== taskArn)).toEqual([]);
  });

  it('retries throttled reads through the SDK', async () => {
    fake.faults.operations['iam.SimulatePrincipalPolicy'] = [{ error: 'Throttling', times: 2 }];
    fake.faults.operations['ec2.DescribeSubnets'] = [{ error: 'RequestLimitExceeded', times: 1 }];
    const { code, report: r } = await report(LOCAL_TASK);
    expect(code).toBe(0);
    expect(byStatus(r, 'warn')).toEqual([]);
    delete fake.faults.operations['iam.SimulatePrincipalPolicy'];
    delete fake.faults.operations['ec2.DescribeSubnets'];
  });
});

describe('usage and output', () => {
  it('a cluster that does not exist is one clear failure', async () => {
    const { code, report: r } = await report(['--cluster', 'nope', '--service', 'web']);
    expect(code).toBe(1);
    expect(allFindings(r).map((f) => `${f.id}:${f.status}`)).toEqual([
      'caller.identity:ok',
      'cluster.exists:fail',
    ]);
  });

  it('without credentials: one clear failure, exit 1, no cascade of warnings', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const savedFiles = {
      config: process.env.AWS_CONFIG_FILE,
      credentials: process.env.AWS_SHARED_CREDENTIALS_FILE,
    };
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    try {
      const { code, report: r } = await report(LOCAL_SERVICE);
      expect(code).toBe(1);
      expect(findingOf(r, 'caller.identity')).toMatchObject({
        status: 'fail',
        found: expect.stringContaining('cannot call AWS'),
      });
      expect(r.tasks).toEqual([]);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (savedFiles.config === undefined) delete process.env.AWS_CONFIG_FILE;
      else process.env.AWS_CONFIG_FILE = savedFiles.config;
      if (savedFiles.credentials === undefined) delete process.env.AWS_SHARED_CREDENTIALS_FILE;
      else process.env.AWS_SHARED_CREDENTIALS_FILE = savedFiles.credentials;
    }
  });

  it.each([
    [['--task', DEFAULT_WORLD_IDS.taskId], '--cluster is required'],
    [['--cluster', 'local'], 'give exactly one of --task and --service'],
    [['--cluster', 'local', '--task', 'a', '--service', 'b'], 'give exactly one of --task and --service'],
  ])('%j: usage error (64)', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain(message);
  });

  it('--help prints the usage', async () => {
    const run = await cli(['--help']);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('ecs-exec doctor --cluster') });
  });
});

describe('--probe runs `true` through our own client', () => {
  it('passes on a healthy task', async () => {
    const { code, report: r } = await report([...LOCAL_TASK, '--probe']);
    expect(code).toBe(0);
    expect(findingOf(r, 'probe')).toMatchObject({
      status: 'ok',
      found: expect.stringMatching(/ran `true` in app: exit 0/),
    });
  });

  it('reports the real error on a task exec cannot reach', async () => {
    const { code, report: r } = await report([
      '--cluster',
      t.cluster,
      '--task',
      t.tasks.agentStopped,
      '--probe',
    ]);
    expect(code).toBe(1);
    expect(findingOf(r, 'probe')).toMatchObject({
      status: 'fail',
      found: expect.stringContaining('TargetNotFound'),
    });
  });
});
