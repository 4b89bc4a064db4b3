/**
 * The doctor action's event as callers write it (`aws lambda invoke`, a state machine's Task);
 * the handler validates it into a DoctorRequest (lambda/event.ts). Types only.
 */
export interface DoctorEvent {
  readonly action: 'doctor';
  /** @default the function's DEFAULT_CLUSTER */
  readonly cluster?: string;
  /** One of task or service (else the function's DEFAULT_SERVICE). */
  readonly task?: string;
  readonly service?: string;
  readonly container?: string;
  /** Also open a short exec session to each task. @default false */
  readonly probe?: boolean;
}
