import type { Context } from 'aws-lambda';
import type { ExecResult } from './contract';
import type { ExecRequest } from './event';

/** How long a finished run's result answers repeats of its key. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** Loaded on first use: most runs have no key, and this keeps Powertools' JMESPath off the cold start. */
const loadIdempotency = () => import('@aws-lambda-powertools/idempotency');
/** A Powertools persistence layer, typed from the same (dynamically imported) build as makeIdempotent. */
export type PersistenceStore = Parameters<
  Awaited<ReturnType<typeof loadIdempotency>>['makeIdempotent']
>[1]['persistenceStore'];

export type ExecRunner = (request: ExecRequest) => Promise<ExecResult>;

/**
 * Runs `run` at most once per `idempotencyKey`: a repeat (client retry, Step Functions retry,
 * duplicate schedule delivery) gets the stored result. Reusing a key for a different command or
 * target is an error (payload validation), not a silent replay. Failed runs are not stored.
 */
export async function idempotentRunner(
  persistenceStore: PersistenceStore,
  run: ExecRunner,
): Promise<(request: ExecRequest, context: Context) => Promise<ExecResult>> {
  const { IdempotencyConfig, makeIdempotent } = await loadIdempotency();
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    payloadValidationJmesPath:
      '[command, cluster, target, container, stdin, environment, user, workingDirectory]',
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
    throwOnNoIdempotencyKey: true,
  });
  const once = makeIdempotent(run, { persistenceStore, config });
  return (request, context) => {
    // Lets a run that died with its Lambda be retried once its in-progress lock expires.
    config.registerLambdaContext(context);
    return once(request);
  };
}
