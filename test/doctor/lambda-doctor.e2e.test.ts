/**
 * The exec Lambda's doctor action and the hints in its errors, through the real handler against
 * the fake AWS endpoint (with the doctor's broken targets).
 */
import type { Context } from 'aws-lambda';
import { ExecEnv } from '../../lambda/contract';
import type { DoctorReport } from '../../lambda/doctor';
import { fitReport } from '../../lambda/doctor/action';
import { withDoctorHint } from '../../lambda/doctor/hint';
import { SessionFailed, TargetNotFound } from '../../lambda/errors';
import { CAUSE_LIMIT_CHARS, failureMessage } from '../../lambda/result';
import {
  addTask,
  DEFAULT_WORLD_IDS,
  defaultWorld,
  FAST_SESSION_DEFAULTS,
  type FakeAws,
  startFakeAws,
} from '../../local/fake-aws';
import { addDoctorTargets, DOCTOR_TARGETS } from '../../local/fake-aws/doctor-targets';

let fake: FakeAws;
let restoreEnv: () => void;
/** Loaded in beforeAll: its logger reads POWERTOOLS_LOG_LEVEL when the module loads. */
let handler: HandlerModule['handler'];
type HandlerModule = typeof import('../../lambda/handler');
const PENDING_AGENT_TASK = 'a9e17000000000000000000000000001';

function context(remainingMs = 60_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    awsRequestId: 'doctor',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as Context;
}

async function failure(event: Record<string, unknown>): Promise<Error> {
  const error = await handler(event, context()).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

beforeAll(async () => {
  const world = addDoctorTargets(defaultWorld());
  addTask(world, DEFAULT_WORLD_IDS.cluster, {
    id: PENDING_AGENT_TASK,
    containers: [{ execAgentStatus: 'PENDING' }],
  });
  fake = await startFakeAws({ world, sessionDefaults: FAST_SESSION_DEFAULTS });
  restoreEnv = fake.applyEnv();
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  ({ handler } = require('../../lambda/handler') as HandlerModule);
});

afterAll(async () => {
  restoreEnv();
  delete process.env.POWERTOOLS_LOG_LEVEL;
  await fake.close();
});

describe('{"action": "doctor"}', () => {
  it('returns the report of a healthy service: every finding ok', async () => {
    const report = (await handler(
      { action: 'doctor', cluster: DEFAULT_WORLD_IDS.cluster, service: DEFAULT_WORLD_IDS.service },
      context(),
    )) as DoctorReport;
    expect(report.status).toBe('ok');
    expect(report.target).toEqual({ cluster: DEFAULT_WORLD_IDS.cluster, service: DEFAULT_WORLD_IDS.service });
    const findings = [...report.findings, ...report.tasks.flatMap((t) => t.findings)];
    expect(findings.length).toBeGreaterThan(15);
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
  });

  it('finds what is wrong with a broken task, with the fix', async () => {
    const report = (await handler(
      { action: 'doctor', cluster: DOCTOR_TARGETS.cluster, task: DOCTOR_TARGETS.tasks.noSsmmessages },
      context(),
    )) as DoctorReport;
    expect(report.status).toBe('fail');
    expect(report.tasks[0]?.findings.find((f) => f.id === 'task-role.ssmmessages')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('ssmmessages:OpenDataChannel'),
    });
  });

  it('runs the live probe when asked', async () => {
    const report = (await handler(
      { action: 'doctor', cluster: DEFAULT_WORLD_IDS.cluster, task: DEFAULT_WORLD_IDS.taskId, probe: true },
      context(),
    )) as DoctorReport;
    expect(report.tasks[0]?.findings.find((f) => f.id === 'probe')).toMatchObject({ status: 'ok' });
  });

  it.each([
    [
      { action: 'doctor', cluster: 'local', service: 'web', command: 'ls' },
      /unknown field "command" for the doctor action/,
    ],
    [{ action: 'doctor', cluster: 'local', task: 'not-a-task' }, /"task" must be a task id/],
    [{ action: 'doctor', cluster: 'local', service: 'web', probe: 'yes' }, /"probe" must be true or false/],
  ])('rejects %j with InvalidInput', async (event, message) => {
    const error = await failure(event);
    expect(error.name).toBe('InvalidInput');
    expect(error.message).toMatch(message);
  });

  it('keeps to the clusters the runner may use', async () => {
    process.env[ExecEnv.AllowedClusters] = DEFAULT_WORLD_IDS.kmsCluster;
    try {
      const error = await failure({ action: 'doctor', cluster: DOCTOR_TARGETS.cluster, service: 'legacy' });
      expect(error).toMatchObject({
        name: 'InvalidInput',
        message: expect.stringContaining('is not one this runner may use'),
      });
    } finally {
      delete process.env[ExecEnv.AllowedClusters];
    }
  });
});

describe('our errors name the likely cause and the doctor command for the target', () => {
  it('TargetNotFound (exec not enabled)', async () => {
    const error = await failure({
      command: 'true',
      cluster: DOCTOR_TARGETS.cluster,
      task: DOCTOR_TARGETS.tasks.execOff,
    });
    expect(error.name).toBe('TargetNotFound');
    expect(error.message).toContain('likely cause: a wrong cluster, task or container name');
    expect(error.message).toContain(
      `run: npx ecs-exec doctor --cluster ${DOCTOR_TARGETS.cluster} --task ${DOCTOR_TARGETS.tasks.execOff})`,
    );
  });

  it('AgentNotReady (agent PENDING), with the container', async () => {
    const error = await failure({
      command: 'true',
      cluster: DEFAULT_WORLD_IDS.cluster,
      task: PENDING_AGENT_TASK,
      container: 'app',
    });
    expect(error.name).toBe('AgentNotReady');
    expect(error.message).toContain(
      `run: npx ecs-exec doctor --cluster ${DEFAULT_WORLD_IDS.cluster} --task ${PENDING_AGENT_TASK} --container app`,
    );
  });

  it('ExecuteCommandDenied (KMS data key refused): the JSON message keeps its shape and gains the hint', async () => {
    fake.faults.kms.generateDataKey = { error: 'DisabledException', times: 1 };
    const error = await failure({
      command: 'true',
      cluster: DEFAULT_WORLD_IDS.kmsCluster,
      service: DEFAULT_WORLD_IDS.kmsService,
    });
    expect(error.name).toBe('ExecuteCommandDenied');
    const cause = JSON.parse(error.message) as Record<string, unknown>;
    expect(cause).toMatchObject({
      message: expect.stringContaining("KMS denied the session's data key"),
      cluster: DEFAULT_WORLD_IDS.kmsCluster,
      likelyCause: expect.stringContaining('kms:GenerateDataKey'),
      doctor: `run: npx ecs-exec doctor --cluster ${DEFAULT_WORLD_IDS.kmsCluster} --service ${DEFAULT_WORLD_IDS.kmsService}`,
    });
  });

  it('SessionFailed (ExecuteCommand answered 5xx)', async () => {
    fake.faults.executeCommand.push({ error: 'ServerException', times: 5 });
    const error = await failure({
      command: 'true',
      cluster: DEFAULT_WORLD_IDS.cluster,
      service: DEFAULT_WORLD_IDS.service,
    });
    expect(error.name).toBe('SessionFailed');
    expect(error.message).toContain(
      `run: npx ecs-exec doctor --cluster ${DEFAULT_WORLD_IDS.cluster} --service ${DEFAULT_WORLD_IDS.service}`,
    );
  });

  it('a JSON message with a long output tail stays within the cause limit', () => {
    const message = failureMessage('the session failed', { cluster: 'c' }, 'é'.repeat(40_000));
    const err = withDoctorHint(new SessionFailed(message), {
      cluster: 'c',
      target: { kind: 'task', task: '0123456789abcdef0123456789abcdef' },
    });
    const envelope = JSON.stringify({ errorType: err.name, errorMessage: err.message, trace: [] });
    expect(envelope.length).toBeLessThanOrEqual(CAUSE_LIMIT_CHARS);
    expect(JSON.parse(err.message)).toMatchObject({
      message: 'the session failed',
      likelyCause: expect.any(String),
    });
  });

  it('other errors are left alone', () => {
    const err = new TargetNotFound('x');
    expect(
      withDoctorHint(new Error('plain'), { cluster: 'c', target: { kind: 'service', service: 's' } }).message,
    ).toBe('plain');
    expect(withDoctorHint(err, { cluster: 'c', target: { kind: 'service', service: 's' } }).message).toMatch(
      /^x \(likely cause/,
    );
  });
});

describe('fitReport', () => {
  it('keeps a large service report within the state limit, failures first', () => {
    const finding = (i: number, status: 'ok' | 'fail') => ({
      id: `check-${i}`,
      status,
      summary: 'a check with a long summary '.repeat(4),
      found: 'found '.repeat(30),
      ...(status === 'fail' ? { fix: 'fix '.repeat(30) } : {}),
    });
    const tasks = Array.from({ length: 300 }, (_, i) => ({
      taskArn: `arn:aws:ecs:us-east-1:1:task/c/${String(i).padStart(32, '0')}`,
      status: i % 3 === 0 ? ('fail' as const) : ('ok' as const),
      findings: Array.from({ length: 20 }, (_, j) => finding(j, i % 3 === 0 && j === 0 ? 'fail' : 'ok')),
    }));
    const report: DoctorReport = {
      version: 1,
      target: { cluster: 'c', service: 's' },
      region: 'us-east-1',
      status: 'fail',
      summary: 'lots',
      findings: [],
      tasks,
    };
    const limit = 100_000;
    const fitted = fitReport(report, limit);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(limit);
    expect(fitted.tasks.every((t) => t.findings.every((f) => f.status !== 'ok'))).toBe(true);
    expect(fitted.summary).toContain('left out');
    expect(fitReport(fitted, 10_000_000)).toBe(fitted);
  });
});
