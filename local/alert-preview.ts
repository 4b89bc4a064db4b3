/**
 * What the alerts function would publish for a failed local state-machine run: the same
 * formatter (lambda/alerts/format.ts), fed the event EventBridge would deliver.
 */
import { formatAlert } from '../lambda/alerts/format';

export const ALERT_PREVIEW_LABEL = 'alert (SNS, as the alerts function would publish it):';

export interface FailedLocalRun {
  readonly stateMachineArn: string;
  readonly executionName: string;
  readonly input: unknown;
  readonly error: string;
  readonly cause: string;
  readonly startedMs: number;
}

export function alertPreview(run: FailedLocalRun): string {
  const { subject, message } = formatAlert({
    detail: {
      executionArn: `${run.stateMachineArn.replace(':stateMachine:', ':execution:')}:${run.executionName}`,
      stateMachineArn: run.stateMachineArn,
      name: run.executionName,
      status: 'FAILED',
      startDate: run.startedMs,
      stopDate: Date.now(),
      input: JSON.stringify(run.input),
      error: run.error,
      cause: run.cause,
    },
  });
  return `${ALERT_PREVIEW_LABEL}\nSubject: ${subject}\n\n${message}`;
}
