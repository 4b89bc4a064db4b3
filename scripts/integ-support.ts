/**
 * The parts of `npm run integ` (scripts/integ.ts) that decide, kept apart from the processes it
 * runs so they are tested offline: is there an account to deploy to, and did the assertions pass.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

/** Exit code when the script refuses to start (no usable credentials): nothing was deployed. */
export const EXIT_NO_CREDENTIALS = 2;
/** Exit code when the deploy, an assertion or the clean-up failed. */
export const EXIT_FAILED = 1;

export const DEFAULT_STS_TIMEOUT_MS = 10_000;
/** Overrides the STS check's timeout (tests use a short one). */
export const STS_TIMEOUT_ENV = 'ECS_EXEC_INTEG_STS_TIMEOUT_MS';

/** Prefix of the outputs the assertion stack writes, one per `expect` (integ-tests-alpha's convention). */
const ASSERTION_OUTPUT_PREFIX = 'AssertionResults';

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly region: string;
}

export class NoUsableCredentials extends Error {
  override readonly name = 'NoUsableCredentials';
}

export function stsTimeoutMs(env: NodeJS.ProcessEnv): number {
  const configured = Number(env[STS_TIMEOUT_ENV]);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_STS_TIMEOUT_MS;
}

/** Who we would deploy as, or NoUsableCredentials with the reason, within `timeoutMs`. */
export async function callerIdentity(timeoutMs: number): Promise<CallerIdentity> {
  const sts = new STSClient({
    maxAttempts: 1,
    requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
  });
  let timer: NodeJS.Timeout | undefined;
  // Credential resolution (profiles, SSO, instance metadata) happens before the request: bound all of it.
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new NoUsableCredentials(`STS GetCallerIdentity did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const identity = await Promise.race([sts.send(new GetCallerIdentityCommand({})), timedOut]);
    const region = await sts.config.region();
    if (!identity.Account || !identity.Arn) throw new NoUsableCredentials('STS answered without an account');
    return { account: identity.Account, arn: identity.Arn, region };
  } catch (err) {
    if (err instanceof NoUsableCredentials) throw err;
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new NoUsableCredentials(reason, { cause: err });
  } finally {
    clearTimeout(timer);
    sts.destroy();
  }
}

/** `cdk deploy --outputs-file` content: stack name → output name → value. */
export type StackOutputs = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface AssertionVerdict {
  readonly passed: number;
  /** One line per failed (or unreadable) assertion result. */
  readonly failures: readonly string[];
}

/**
 * Reads the assertion results the way integ-runner does: assertions behind a waiter fail the deploy
 * themselves, the others only report here. No result at all is a failure: nothing was checked.
 */
export function assertionVerdict(outputs: StackOutputs): AssertionVerdict {
  let passed = 0;
  const failures: string[] = [];
  for (const [stack, stackOutputs] of Object.entries(outputs)) {
    for (const [name, value] of Object.entries(stackOutputs)) {
      if (!name.startsWith(ASSERTION_OUTPUT_PREFIX)) continue;
      let result: { status?: unknown; message?: unknown };
      try {
        result = JSON.parse(value) as { status?: unknown; message?: unknown };
      } catch {
        failures.push(`${stack}.${name}: unreadable result ${JSON.stringify(value)}`);
        continue;
      }
      if (result.status === 'success') passed += 1;
      else failures.push(`${stack}.${name}: ${String(result.message ?? value)}`);
    }
  }
  if (passed === 0 && failures.length === 0) failures.push('no assertion results in the stack outputs');
  return { passed, failures };
}
