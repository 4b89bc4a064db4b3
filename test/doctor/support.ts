import type { FakeWorld } from '../../local/fake-aws';
import {
  CALLER_STATEMENTS,
  callerPrincipalArn,
  doctorState,
  type FakeStatement,
} from '../../local/fake-aws/doctor-world';

/** Runs `body` with `extra` statements added to the caller's policy, then restores it. */
export async function withCallerStatements<T>(
  world: FakeWorld,
  extra: readonly FakeStatement[],
  body: () => Promise<T>,
): Promise<T> {
  const principals = doctorState(world).principals;
  const caller = callerPrincipalArn(world);
  principals[caller] = [...CALLER_STATEMENTS, ...extra];
  try {
    return await body();
  } finally {
    principals[caller] = [...CALLER_STATEMENTS];
  }
}
