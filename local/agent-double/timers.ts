/** Cancellable waits for the double's long-running loops; an aborted wait resolves, never rejects. */
import { performance } from 'node:perf_hooks';

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Like Go's time.Sleep: at least `ms` of wall time. A Node timer counts from the event loop's
 * cached clock, so on its own `setTimeout(…, 1)` can fire after less than 1 ms.
 */
export async function sleepAtLeast(ms: number, signal: AbortSignal): Promise<boolean> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) {
    if (!(await sleep(Math.ceil(left), signal))) return false;
  }
  return true;
}

/** Resolves true when `promise` settles first, false when `signal` aborts first. */
export function unlessAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
    );
  });
}

/** Lets other I/O (the client, acks) run between bursts of synchronous work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
