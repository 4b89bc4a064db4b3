import type { Decision, Decisions, Fetched, Finding, FindingStatus } from '../types';

/** The finding for a fact the doctor could not read: a warning, never a crash. */
export function notChecked(id: string, summary: string, fetched: Fetched<unknown>): Finding {
  if (fetched.ok) throw new Error(`notChecked called for ${id} with a fact that was read`);
  return {
    id,
    status: 'warn',
    summary,
    found: fetched.denied
      ? `could not check ${summary}: the caller lacks ${fetched.action}`
      : `could not check ${summary}: ${fetched.action} failed: ${fetched.message}`,
    fix: fetched.denied
      ? `allow ${fetched.action} to the identity running the doctor (see "Permissions the doctor needs" in the README)`
      : 'retry; if it persists, check the endpoint, region and credentials',
  };
}

export function finding(
  id: string,
  status: FindingStatus,
  summary: string,
  found: string,
  fix?: string,
): Finding {
  return { id, status, summary, found, ...(fix !== undefined && status !== 'ok' ? { fix } : {}) };
}

export const isAllowed = (decision: Decision | undefined): boolean => decision === 'allowed';

/** Actions of `actions` that the decisions do not allow, with their decision. */
export function notAllowed(decisions: Decisions, actions: readonly string[]): string[] {
  return actions
    .filter((action) => !isAllowed(decisions[action]))
    .map((action) => `${action} (${decisions[action] ?? 'not evaluated'})`);
}

/** A JSON policy statement to paste, one line. */
export function statementJson(actions: readonly string[], resources: readonly string[]): string {
  return JSON.stringify({
    Effect: 'Allow',
    Action: actions.length === 1 ? actions[0] : actions,
    Resource: resources.length === 1 ? resources[0] : resources,
  });
}

/** Compares dotted numeric versions; non-numeric parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): number[] =>
    v
      .replace(/^v/i, '')
      .split('.')
      .map((p) => Number.parseInt(p, 10) || 0);
  const left = parse(a);
  const right = parse(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

/** The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`). */
export function partitionOf(arn: string): string {
  return arn.split(':')[1] || 'aws';
}

/** The worst of some statuses. */
export function worst(statuses: Iterable<FindingStatus>): FindingStatus {
  let result: FindingStatus = 'ok';
  for (const status of statuses) {
    if (status === 'fail') return 'fail';
    if (status === 'warn') result = 'warn';
  }
  return result;
}
