import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { type AwsClients, createAwsClients } from './aws/clients';
import { type CallbackReport, runWithTaskToken } from './callback';
import { ExecEnv, type ExecResult } from './contract';
import { runDoctorAction } from './doctor/action';
import { withDoctorHint } from './doctor/hint';
import type { DoctorReport } from './doctor/report';
import { ExecError, InvalidInput, SessionFailed } from './errors';
import { defaultsFromEnv, type ExecRequest, isDoctorEvent, parseDoctorEvent, parseExecEvent } from './event';
import { idempotentRunner } from './idempotency';
import { runExec } from './service';
import type { SessionLogger } from './ssm/types';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'ecs-exec-runner' });
/** Powertools' Logger takes attributes as a rest argument; the session layer passes one object. */
const sessionLogger: SessionLogger = {
  debug: (message, attributes) => logger.debug(message, attributes ?? {}),
  info: (message, attributes) => logger.info(message, attributes ?? {}),
  warn: (message, attributes) => logger.warn(message, attributes ?? {}),
};
/** Created on first use, so that the SDK picks up the endpoint settings of the environment it runs in. */
let clients: AwsClients | undefined;

/**
 * Entry point for Step Functions, EventBridge Scheduler (through a state machine) and
 * `aws lambda invoke`: validate, run, return the result or throw a named error.
 */
export async function handler(
  event: unknown,
  context: Context,
): Promise<ExecResult | CallbackReport | DoctorReport> {
  // Some local harnesses pass a partial context; the remaining time then defaults to Lambda's maximum.
  if (context !== undefined && context !== null) logger.addContext(context);
  if (isDoctorEvent(event)) return doctor(event, context);
  const taskToken = readTaskToken(event);
  try {
    const request = parseExecEvent(event, defaultsFromEnv());
    if (request.executionName) logger.appendKeys({ executionName: request.executionName });
    const work = (): Promise<ExecResult> =>
      execute(request, context).catch((err: unknown) => {
        throw withDoctorHint(inVocabulary(err), request);
      });
    if (taskToken !== undefined)
      return await runWithTaskToken(awsClients().sfn, taskToken, work, sessionLogger);
    return await work();
  } catch (err) {
    if (taskToken !== undefined && err instanceof InvalidInput) {
      return runWithTaskToken(awsClients().sfn, taskToken, () => Promise.reject(err), sessionLogger);
    }
    throw conciseError(inVocabulary(err));
  } finally {
    logger.removeKeys(['executionName']);
  }
}

async function execute(request: ExecRequest, context: Context): Promise<ExecResult> {
  const deps = {
    clients: awsClients(),
    logger: sessionLogger,
    config: {
      ...(process.env[ExecEnv.OutputBucket] ? { outputBucket: process.env[ExecEnv.OutputBucket] } : {}),
      ...(process.env[ExecEnv.OutputPrefix] ? { outputPrefix: process.env[ExecEnv.OutputPrefix] } : {}),
    },
  };
  const run = (req: ExecRequest): Promise<ExecResult> =>
    runExec(req, deps, { remainingMs: () => remainingMs(context) });
  if (request.idempotencyKey === undefined) return run(request);
  const tableName = process.env[ExecEnv.IdempotencyTable];
  if (!tableName) {
    throw new InvalidInput(
      '"idempotencyKey" was given but this function has no idempotency table configured',
    );
  }
  // Loaded on first use: most runs have no key, and this keeps Powertools' JMESPath off the cold start.
  const [{ DynamoDBPersistenceLayer }, dynamodb] = await Promise.all([
    import('@aws-lambda-powertools/idempotency/dynamodb'),
    deps.clients.dynamodb(),
  ]);
  const store = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamodb });
  return (await idempotentRunner(store, run))(request, context);
}

/** `{"action": "doctor", …}`: the doctor's report as the result (lambda/doctor). */
async function doctor(event: unknown, context: Context): Promise<DoctorReport> {
  try {
    const request = parseDoctorEvent(event, defaultsFromEnv());
    return await runDoctorAction(request, {
      clients: awsClients(),
      logger: sessionLogger,
      remainingMs: () => remainingMs(context),
    });
  } catch (err) {
    throw conciseError(inVocabulary(err));
  }
}

const LAMBDA_MAX_RUNTIME_MS = 900_000;

function remainingMs(context: Context | undefined): number {
  return typeof context?.getRemainingTimeInMillis === 'function'
    ? context.getRemainingTimeInMillis()
    : LAMBDA_MAX_RUNTIME_MS;
}

/**
 * Step Functions matches error names: anything that is not one of ours (an SDK error from a
 * dependency, an idempotency conflict) becomes SessionFailed, with its own name in the message.
 */
function inVocabulary(err: unknown): unknown {
  if (err instanceof ExecError) return err;
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  return new SessionFailed(JSON.stringify({ message: `${name}: ${message}` }), {}, { cause: err });
}

function awsClients(): AwsClients {
  clients ??= createAwsClients();
  return clients;
}

function readTaskToken(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object') return undefined;
  const token = (event as Record<string, unknown>).taskToken;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/**
 * The runtime puts the stack into the Step Functions cause next to the message; a one-line stack
 * keeps the cause within its 32,768-character limit and tells the reader nothing less.
 */
function conciseError(err: unknown): unknown {
  if (err instanceof Error) err.stack = `${err.name}: see errorMessage`;
  return err;
}
