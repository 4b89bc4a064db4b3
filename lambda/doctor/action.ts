/**
 * The Lambda's `{"action": "doctor", …}`: the report as the function's result, so a state machine
 * can check a target before a risky command and a user can run the doctor with the runner's own
 * identity (`aws lambda invoke`). The report is shrunk to fit a Step Functions state if need be.
 */
import type { AwsClients } from '../aws/clients';
import type { DoctorRequest } from '../event';
import { RESULT_LIMIT_BYTES } from '../result';
import type { SessionLogger } from '../ssm/types';
import { createDoctorClients } from './clients';
import { runDoctor } from './index';
import { execProbe } from './probe';
import type { DoctorReport, TaskReport } from './report';
import type { DoctorTarget } from './types';

export interface DoctorActionDeps {
  readonly clients: AwsClients;
  readonly logger: SessionLogger;
  readonly remainingMs: () => number;
}

export function doctorTarget(request: DoctorRequest): DoctorTarget {
  return {
    cluster: request.cluster,
    ...(request.task !== undefined ? { task: request.task } : {}),
    ...(request.service !== undefined ? { service: request.service } : {}),
    ...(request.container !== undefined ? { container: request.container } : {}),
  };
}

export async function runDoctorAction(request: DoctorRequest, deps: DoctorActionDeps): Promise<DoctorReport> {
  const target = doctorTarget(request);
  // The exec path's ECS client is reused; the doctor's other clients load only now.
  const clients = createDoctorClients({ ecs: deps.clients.ecs });
  try {
    const report = await runDoctor(clients, target, {
      ...(request.probe
        ? {
            probe: execProbe(deps.clients, {
              cluster: request.cluster,
              ...(request.container !== undefined ? { container: request.container } : {}),
              remainingMs: deps.remainingMs,
              logger: deps.logger,
            }),
          }
        : {}),
    });
    deps.logger.info('doctor finished', { status: report.status, summary: report.summary });
    return fitReport(report);
  } finally {
    await clients.destroy();
  }
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * Keeps the report under Step Functions' state limit: first the passing findings of the tasks go
 * (their count stays in `summary`), then tasks without failures, then the tail of the task list.
 */
export function fitReport(report: DoctorReport, limitBytes = RESULT_LIMIT_BYTES): DoctorReport {
  if (jsonBytes(report) <= limitBytes) return report;
  const onlyProblems = (task: TaskReport): TaskReport => ({
    ...task,
    findings: task.findings.filter((f) => f.status !== 'ok'),
  });
  let tasks = report.tasks.map(onlyProblems);
  let omitted = 0;
  const shrunk = (): DoctorReport => ({
    ...report,
    tasks,
    ...(omitted > 0 ? { omittedTasks: omitted } : {}),
    summary: `${report.summary} (passing checks left out to fit the state limit${omitted > 0 ? `; ${omitted} tasks left out` : ''})`,
  });
  if (jsonBytes(shrunk()) <= limitBytes) return shrunk();
  const failing = tasks.filter((t) => t.status === 'fail');
  omitted += tasks.length - failing.length;
  tasks = failing;
  while (tasks.length > 0 && jsonBytes(shrunk()) > limitBytes) {
    tasks = tasks.slice(0, -1);
    omitted += 1;
  }
  return shrunk();
}
