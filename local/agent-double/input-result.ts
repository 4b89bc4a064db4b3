/**
 * What processing one client stream message came to, in the terms of the agent's receive loop
 * (ssm-protocol.md §5.3): only `ok` is acked and consumed.
 */
export type ProcessResult =
  | { readonly kind: 'ok' }
  /** ErrHandlerNotReady: the pty does not exist yet; not acked, not consumed. */
  | { readonly kind: 'not-ready' }
  /** Any other processing error: not acked, and it fails again on every retransmission. */
  | { readonly kind: 'error'; readonly message: string }
  /** The agent's reader goroutine panics or blocks for good: nothing more is read or acked. */
  | { readonly kind: 'reader-stopped'; readonly reason: string };

export const OK: ProcessResult = { kind: 'ok' };
export const NOT_READY: ProcessResult = { kind: 'not-ready' };

export function processingError(message: string): ProcessResult {
  return { kind: 'error', message };
}

export function readerStopped(reason: string): ProcessResult {
  return { kind: 'reader-stopped', reason };
}
