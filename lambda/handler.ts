import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { type AwsClients, createAwsClients } from './aws/clients';
import { type CallbackReport, runWithTaskToken } from './callback';
import { accountOfFunctionArn } from './cluster-allowlist';
import { conciseError } from './concise-error';
import { ExecEnv, type ExecResult } from './contract';
import { type DetachedStepOutput, isDetachedStepEvent, runDetachedStep } from './detach/steps';
import { runDoctorAction } from './doctor/action';
import { withDoctorHint } from './doctor/hint';
import type { DoctorReport } from './doctor/report';
import { InvalidInput, inVocabulary } from './errors';
import {
  defaultsFromEnv,
  type EventDefaults,
  type ExecRequest,
  isDoctorEvent,
  parseDoctorEvent,
  parseExecEvent,
} from './event';
import { idempotentRunner } from './idempotency';
import { publishRunMetrics, type RunObservation } from './metrics';
import { LAMBDA_SAFETY_MARGIN_MS, runExec } from './service';
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
): Promise<ExecResult | CallbackReport | DoctorReport | DetachedStepOutput> {
  // Some local harnesses pass a partial context; the remaining time then defaults to Lambda's maximum.
  if (context !== undefined && context !== null) logger.addContext(context);
  if (isDoctorEvent(event)) return doctor(event, context);
  if (isDetachedStepEvent(event)) return detachedStep(event, context);
  const taskToken = readTaskToken(event);
  const startedMs = Date.now();
  const observation: RunObservation = {};
  let errorName: string | undefined;
  try {
    let work: () => Promise<ExecResult>;
    try {
      const request = parseExecEvent(event, eventDefaults(context));
      if (request.executionName) logger.appendKeys({ executionName: request.executionName });
      if (request.scheduleName) logger.appendKeys({ scheduleName: request.scheduleName });
      work = () =>
        execute(request, context, observation).catch((err: unknown) => {
          throw withDoctorHint(inVocabulary(err), request);
        });
    } catch (invalid) {
      // Reported like any other failure: through the task token when there is one.
      work = () => Promise.reject(invalid);
    }
    if (taskToken === undefined) return await work();
    const report = await runWithTaskToken(awsClients().sfn, taskToken, work, sessionLogger);
    errorName = report.error;
    return report;
  } catch (err) {
    const error = conciseError(inVocabulary(err));
    errorName = error.name;
    throw error;
  } finally {
    publishRunMetrics(
      observation,
      { durationMs: Date.now() - startedMs, ...(errorName ? { errorName } : {}) },
      undefined,
      (err) =>
        logger.warn('could not emit the run metrics', {
          reason: err instanceof Error ? err.message : String(err),
        }),
    );
    logger.removeKeys(['executionName', 'scheduleName']);
  }
}

/** A step of a detached job (start, poll, cancel), called by the state machine's detached path. */
async function detachedStep(event: Record<string, unknown>, context: Context): Promise<DetachedStepOutput> {
  try {
    return await runDetachedStep(event, {
      clients: awsClients(),
      logger: sessionLogger,
      defaults: defaultsFromEnv(),
      ...outputConfig(),
      remainingMs: () => remainingMs(context) - LAMBDA_SAFETY_MARGIN_MS,
      publishMetrics: (observation, outcome) =>
        publishRunMetrics(observation, outcome, undefined, (err) =>
          logger.warn('could not emit the job metrics', {
            reason: err instanceof Error ? err.message : String(err),
          }),
        ),
    });
  } catch (err) {
    throw conciseError(inVocabulary(err));
  }
}

function outputConfig(): { outputBucket?: string; outputPrefix?: string } {
  return {
    ...(process.env[ExecEnv.OutputBucket] ? { outputBucket: process.env[ExecEnv.OutputBucket] } : {}),
    ...(process.env[ExecEnv.OutputPrefix] ? { outputPrefix: process.env[ExecEnv.OutputPrefix] } : {}),
  };
}

async function execute(
  request: ExecRequest,
  context: Context,
  observation: RunObservation,
): Promise<ExecResult> {
  if (request.detach !== undefined) {
    throw new InvalidInput(
      '"detach": true runs through the run-one state machine, which starts the job and polls it; invoke that instead of the function',
    );
  }
  const deps = {
    clients: awsClients(),
    logger: sessionLogger,
    config: outputConfig(),
  };
  const run = (req: ExecRequest): Promise<ExecResult> =>
    runExec(req, deps, { remainingMs: () => remainingMs(context) }, observation);
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

/** The environment's defaults, and the function's own account (where a bare cluster name points). */
function eventDefaults(context: Context | undefined): EventDefaults {
  const defaults = defaultsFromEnv();
  const account = accountOfFunctionArn(context?.invokedFunctionArn);
  return account === undefined ? defaults : { ...defaults, home: { ...defaults.home, account } };
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
