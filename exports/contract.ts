/**
 * `ecs-exec-runner/contract`: what callers of the state machines and the Lambda agree on — the
 * event, the result, the fan-out input, the doctor's event and report, and the error names to
 * Retry/Catch. No runtime dependency.
 */

export {
  EXEC_ERROR_NAMES,
  ExecErrorName,
  type ExecEvent,
  type ExecResult,
  FAILURE_CAUSE_LIMIT_CHARS,
  RETRYABLE_ERROR_NAMES,
  STATE_PAYLOAD_LIMIT_BYTES,
} from '../lambda/contract';
export type { DoctorEvent } from '../lambda/doctor/doctor-contract';
export type { DoctorReport, TaskReport } from '../lambda/doctor/report';
export type { DoctorTarget, Finding, FindingStatus } from '../lambda/doctor/types';
export { FanOutErrorName } from '../lambda/fan-out/fan-out-contract';
export type { FanOutInput } from '../lambda/fan-out/fan-out-input';
