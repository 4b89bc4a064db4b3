/**
 * The detached path's wire contract between the state machine (lib/detached-workflow.ts), the
 * handler (steps.ts) and the CLI: field and step names only, no AWS SDK, so the construct and the
 * CLI can import it.
 */

/** The Lambda event field that carries a detached-job step. */
export const DETACHED_JOB_FIELD = 'detachedJob';
export const DetachedStep = { Start: 'start', Poll: 'poll', Cancel: 'cancel' } as const;
export type DetachedStep = (typeof DetachedStep)[keyof typeof DetachedStep];

/** Execution-input fields that enter the state machine's detached path with an existing job. */
export const DetachedInput = { ContinueJob: 'continueJob', CancelJob: 'cancelJob' } as const;

/**
 * Time an attached run keeps back from the Lambda's remaining time to stop and report; a
 * `timeoutSeconds` above the function's timeout minus this takes the detached path.
 */
export const LAMBDA_SAFETY_MARGIN_MS = 15_000;
