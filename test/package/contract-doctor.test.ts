/**
 * The doctor's event and report types travel in `ecs-exec-runner/contract` (types only: the entry
 * point's import graph stays empty, entry-points.test.ts). A missing export fails `tsc -p .`; the
 * runtime checks here keep the event type and the handler's validation in step.
 */
import type { DoctorEvent, DoctorReport, Finding, FindingStatus, TaskReport } from '../../exports/contract';
import { parseDoctorEvent } from '../../lambda/event';

describe('the doctor in ecs-exec-runner/contract', () => {
  it('DoctorEvent names every field the doctor action accepts, and the handler accepts it', () => {
    const event: DoctorEvent = {
      action: 'doctor',
      cluster: 'prod',
      service: 'web',
      container: 'app',
      probe: true,
    };
    expect(parseDoctorEvent(event)).toEqual({
      cluster: 'prod',
      service: 'web',
      container: 'app',
      probe: true,
    });
    const byTask: DoctorEvent = { action: 'doctor', task: '0123456789abcdef0123456789abcdef', probe: false };
    expect(parseDoctorEvent(byTask, { cluster: 'prod' })).toEqual({
      cluster: 'prod',
      task: '0123456789abcdef0123456789abcdef',
      probe: false,
    });
  });

  it('DoctorReport describes the report a caller reads (status, findings per task)', () => {
    const status: FindingStatus = 'fail';
    const finding: Finding = { id: 'task.exec-agent', status, summary: 'exec agent', found: 'STOPPED' };
    const task: TaskReport = {
      taskArn: 'arn:aws:ecs:eu-west-1:1:task/prod/abc',
      status,
      findings: [finding],
    };
    const report: DoctorReport = {
      version: 1,
      target: { cluster: 'prod', service: 'web' },
      region: 'eu-west-1',
      status,
      summary: '0 ok, 0 warn, 1 fail',
      findings: [],
      tasks: [task],
    };
    const failing = report.tasks.flatMap((t) => t.findings).filter((f) => f.status === 'fail');
    expect(failing.map((f) => f.id)).toEqual(['task.exec-agent']);
  });
});
