/**
 * The fake AWS endpoint: one local HTTP server that answers the ECS, KMS, SSM, Step Functions and
 * S3 calls of the exec Lambda, and the CloudFormation DescribeStacks of the CLI. The SDK reaches it
 * only through its standard endpoint settings (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`),
 * so the code under test never knows.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  CLOUDFORMATION_API_VERSION,
  handleCloudFormation,
  newRequestId,
  queryErrorDocument,
  queryInput,
  StackRegistry,
} from './cloudformation';
import type { ExecSessionRecord, FakeContext, GatewayPort, JsonOperation, TaskCallback } from './context';
import { EC2_SERVICE } from './ec2';
import { ECS_OPERATIONS, ECS_TARGET_PREFIX } from './ecs';
import { ECS_DOCTOR_OPERATIONS } from './ecs-doctor';
import { AwsServiceError, HttpStatus, unknownOperation } from './errors';
import { emptyFaultPlan, type FaultPlan, type SessionOverrides, takeFault } from './faults';
import { IAM_SERVICE, STS_SERVICE } from './iam-sts';
import { isJsonObject, type JsonObject } from './input';
import { KMS_OPERATIONS, KMS_TARGET_PREFIX } from './kms';
import { KMS_DOCTOR_OPERATIONS } from './kms-describe';
import { LOGS_OPERATIONS, LOGS_TARGET_PREFIX } from './logs';
import { handleQueryService, type QueryService, queryServiceErrorDocument } from './query';
import {
  handleS3,
  type S3Request,
  type S3Response,
  s3ErrorDocument,
  s3Operation,
  s3RecordedInput,
} from './s3';
import { handleS3Bucket, s3BucketOperation } from './s3-bucket';
import { S3Store } from './s3-store';
import { SFN_OPERATIONS, SFN_TARGET_PREFIX, StateMachineRegistry } from './sfn';
import { SSM_OPERATIONS, SSM_TARGET_PREFIX } from './ssm';
import { defaultWorld, type FakeWorld } from './world';

export const LOCALHOST = '127.0.0.1';
/** Dummy credentials: the fake checks no signature, but the SDK must find some to sign with. */
export const FAKE_ACCESS_KEY_ID = 'AKIAFAKEAWSLOCAL0000';
export const FAKE_SECRET_ACCESS_KEY = 'fake-aws-local-secret-access-key-not-a-secret';
export const REDACTED = '<redacted>';
/** Members never kept in clear in `calls`: session tokens and data-key plaintext. */
const REDACTED_MEMBERS: ReadonlySet<string> = new Set(['tokenValue', 'TokenValue', 'Plaintext']);

/** `serviceId`s whose `AWS_ENDPOINT_URL_<ID>` the fake sets, so a stray one cannot win. */
const SERVICE_ENDPOINT_IDS = [
  'ECS',
  'KMS',
  'SSM',
  'SFN',
  'S3',
  'CLOUDFORMATION',
  'STS',
  'IAM',
  'EC2',
  'CLOUDWATCH_LOGS',
] as const;
/**
 * Unset by applyEnv (and to be dropped from a child process's environment): with AWS_PROFILE set,
 * the SDK skips the env credentials and would sign with the developer's real profile; a real
 * session token would be sent along with the dummy keys.
 */
export const UNSET_ENV: readonly string[] = ['AWS_PROFILE', 'AWS_SESSION_TOKEN'];

export type FakeService =
  | 'ecs'
  | 'kms'
  | 'ssm'
  | 'sfn'
  | 's3'
  | 'cloudformation'
  | 'sts'
  | 'iam'
  | 'ec2'
  | 'logs';

/** Form-encoded bodies are the query protocol's (CloudFormation); S3 never posts one to `/`. */
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

interface JsonService {
  readonly service: FakeService;
  /** `application/x-amz-json-<version>`. */
  readonly jsonVersion: '1.0' | '1.1';
  readonly operations: Readonly<Record<string, JsonOperation>>;
}

const JSON_SERVICES: Readonly<Record<string, JsonService>> = {
  [ECS_TARGET_PREFIX]: {
    service: 'ecs',
    jsonVersion: '1.1',
    operations: { ...ECS_OPERATIONS, ...ECS_DOCTOR_OPERATIONS },
  },
  [KMS_TARGET_PREFIX]: {
    service: 'kms',
    jsonVersion: '1.1',
    operations: { ...KMS_OPERATIONS, ...KMS_DOCTOR_OPERATIONS },
  },
  [LOGS_TARGET_PREFIX]: { service: 'logs', jsonVersion: '1.1', operations: LOGS_OPERATIONS },
  [SSM_TARGET_PREFIX]: { service: 'ssm', jsonVersion: '1.1', operations: SSM_OPERATIONS },
  [SFN_TARGET_PREFIX]: { service: 'sfn', jsonVersion: '1.0', operations: SFN_OPERATIONS },
};

/** Query-protocol services by the `Version` their requests carry. */
const QUERY_SERVICES: ReadonlyMap<string, QueryService> = new Map(
  [STS_SERVICE, IAM_SERVICE, EC2_SERVICE].map((service) => [service.version, service]),
);

export interface RecordedCall {
  readonly service: FakeService | string;
  readonly operation: string;
  /** The decoded request (S3: bucket, key, ids and body size, never the bytes). Tokens redacted. */
  readonly input: unknown;
  /** The response object (JSON services), tokens and key plaintext redacted. */
  readonly output?: unknown;
  /** The error code and message the call was answered with. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface FakeAwsOptionsOf<G extends GatewayPort> {
  /** @default defaultWorld() */
  readonly world?: FakeWorld;
  /** A gateway to create sessions on; the fake starts (and closes) its own when absent. */
  readonly gateway?: G;
  /** Overrides the world's region. @default the world's, 'us-east-1' */
  readonly region?: string;
  /**
   * Applied to every session ExecuteCommand creates, before `faults.session`. The double keeps the
   * real agent's timings otherwise; tests pass `FAST_SESSION_DEFAULTS`.
   */
  readonly sessionDefaults?: SessionOverrides;
  /** @default 0 (any free port) */
  readonly port?: number;
}

export interface FakeAwsOf<G extends GatewayPort> {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /**
   * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_{ECS,KMS,SSM,SFN,S3}, AWS_REGION, AWS_DEFAULT_REGION,
   * dummy AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_EC2_METADATA_DISABLED,
   * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false. For a child process also drop `UNSET_ENV`.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Puts `env` into process.env and unsets `UNSET_ENV`; returns the undo. Apply before the SDK's first call. */
  applyEnv(): () => void;
  readonly gateway: G;
  readonly world: FakeWorld;
  readonly calls: RecordedCall[];
  readonly faults: FaultPlan;
  /** S3 objects, keyed `bucket/key`. */
  readonly objects: Map<string, Buffer>;
  /** Step Functions task-token callbacks, in arrival order. */
  readonly taskCallbacks: TaskCallback[];
  /** The ECS Exec sessions ExecuteCommand created, with the spec the agent double got. */
  readonly sessions: ExecSessionRecord[];
  /** Step Functions: `register(arn, executor)` makes StartExecution run `executor`; executions are kept here. */
  readonly stateMachines: StateMachineRegistry;
  /** CloudFormation: `put({ stackName, outputs })` makes DescribeStacks answer for the stack. */
  readonly stacks: StackRegistry;
  close(): Promise<void>;
}

export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (!isJsonObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(value)) {
    copy[name] = REDACTED_MEMBERS.has(name) && member !== undefined ? REDACTED : redact(member);
  }
  return copy;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function errorDetails(err: unknown): AwsServiceError {
  if (err instanceof AwsServiceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AwsServiceError(
    'InternalFailure',
    `The fake AWS endpoint failed: ${message}`,
    HttpStatus.InternalServerError,
  );
}

/** Throws the next injected fault of `faults.operations[key]`, if any. */
function throwInjected(faults: FaultPlan, key: string): void {
  const fault = takeFault(faults.operations[key]);
  if (fault !== undefined)
    throw new AwsServiceError(fault.error, fault.message ?? `Injected ${fault.error}.`);
}

/** Starts the endpoint on 127.0.0.1. */
export async function startFakeAwsServer<G extends GatewayPort>(
  options: FakeAwsOptionsOf<G> & { readonly gateway: G },
  onClose: () => Promise<void>,
): Promise<FakeAwsOf<G>> {
  const world = options.world ?? defaultWorld(options.region !== undefined ? { region: options.region } : {});
  if (options.region !== undefined) world.region = options.region;
  const calls: RecordedCall[] = [];
  const faults = emptyFaultPlan();
  const s3 = new S3Store();
  const taskCallbacks: TaskCallback[] = [];
  const sessions: ExecSessionRecord[] = [];
  const stateMachines = new StateMachineRegistry();
  const stacks = new StackRegistry(() => world);
  let endpoint = '';
  const ctx: FakeContext = {
    world,
    gateway: options.gateway,
    faults,
    ...(options.sessionDefaults !== undefined ? { sessionDefaults: options.sessionDefaults } : {}),
    sessions,
    taskCallbacks,
    s3,
    stateMachines,
    stacks,
    endpoint: () => endpoint,
  };

  const record = (call: RecordedCall): void => {
    calls.push({
      ...call,
      input: redact(call.input),
      ...(call.output !== undefined ? { output: redact(call.output) } : {}),
    });
  };

  const sendJson = (
    res: ServerResponse,
    version: string,
    status: number,
    body: unknown,
    extra: Record<string, string> = {},
  ): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': `application/x-amz-json-${version}`,
      'content-length': String(Buffer.byteLength(text, 'utf8')),
      'x-amzn-requestid': randomUUID(),
      ...extra,
    });
    res.end(text);
  };

  const sendJsonError = (res: ServerResponse, version: string, err: AwsServiceError): void => {
    sendJson(
      res,
      version,
      err.status,
      { __type: err.code, message: err.message },
      { 'x-amzn-errortype': err.code },
    );
  };

  const handleJson = async (req: IncomingMessage, res: ServerResponse, target: string): Promise<void> => {
    const dot = target.lastIndexOf('.');
    const prefix = dot < 0 ? target : target.slice(0, dot);
    const operation = dot < 0 ? '' : target.slice(dot + 1);
    const service = JSON_SERVICES[prefix];
    const version = service?.jsonVersion ?? '1.1';
    const body = await readBody(req);
    let input: JsonObject = {};
    try {
      const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      if (!isJsonObject(parsed)) throw new Error('not an object');
      input = parsed;
    } catch {
      const err = new AwsServiceError('SerializationException', 'The request body is not a JSON object.');
      record({
        service: service?.service ?? prefix,
        operation,
        input: {},
        error: { code: err.code, message: err.message },
      });
      sendJsonError(res, version, err);
      return;
    }
    const handler = service?.operations[operation];
    try {
      if (service === undefined || handler === undefined) {
        throw unknownOperation(service?.service ?? prefix, operation);
      }
      throwInjected(faults, `${service.service}.${operation}`);
      const output = await handler(ctx, input);
      record({ service: service.service, operation, input, output });
      sendJson(res, version, HttpStatus.Ok, output);
    } catch (caught) {
      const err = errorDetails(caught);
      record({
        service: service?.service ?? prefix,
        operation,
        input,
        error: { code: err.code, message: err.message },
      });
      sendJsonError(res, version, err);
    }
  };

  const sendS3 = (res: ServerResponse, method: string, response: S3Response): void => {
    const body = response.body === undefined ? undefined : Buffer.from(response.body);
    res.writeHead(response.status, {
      'x-amz-request-id': randomUUID(),
      ...(body !== undefined ? { 'content-length': String(body.length) } : {}),
      ...response.headers,
    });
    res.end(method === 'HEAD' ? undefined : body);
  };

  const handleS3Request = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', endpoint);
    const [bucketPart, ...keyParts] = url.pathname.slice(1).split('/');
    const bucket = bucketPart === undefined || bucketPart === '' ? undefined : decodeURIComponent(bucketPart);
    const key = keyParts.length === 0 ? undefined : decodeURIComponent(keyParts.join('/'));
    const s3Request: S3Request = {
      method,
      bucket,
      key,
      query: url.searchParams,
      headers: req.headers,
      body: await readBody(req),
    };
    const bucketOperation = s3BucketOperation(s3Request);
    const known = bucketOperation ?? s3Operation(s3Request);
    const operation = known ?? `${method} ${url.pathname}${url.search}`;
    const input = s3RecordedInput(s3Request);
    try {
      if (known === undefined) throw unknownOperation('s3', operation);
      throwInjected(faults, `s3.${operation}`);
      const response =
        bucketOperation !== undefined
          ? handleS3Bucket(ctx, operation, s3Request)
          : handleS3(ctx, operation, s3Request);
      record({ service: 's3', operation, input });
      sendS3(res, method, response);
    } catch (caught) {
      const err = errorDetails(caught);
      record({ service: 's3', operation, input, error: { code: err.code, message: err.message } });
      const document = s3ErrorDocument(err, url.pathname, randomUUID());
      sendS3(res, method, {
        status: err.status,
        headers: { 'content-type': 'application/xml' },
        body: document,
      });
    }
  };

  const handleQuery = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const params = new URLSearchParams((await readBody(req)).toString('utf8'));
    const action = params.get('Action') ?? '';
    const version = params.get('Version') ?? '';
    const input = queryInput(params);
    const requestId = newRequestId();
    const queryService = QUERY_SERVICES.get(version);
    const service =
      queryService?.service ??
      (version === CLOUDFORMATION_API_VERSION ? 'cloudformation' : `query:${version}`);
    const sendXml = (status: number, body: string): void => {
      res.writeHead(status, {
        'content-type': 'text/xml',
        'content-length': String(Buffer.byteLength(body, 'utf8')),
        'x-amzn-requestid': requestId,
      });
      res.end(body);
    };
    try {
      if (queryService === undefined && version !== CLOUDFORMATION_API_VERSION) {
        throw unknownOperation(service, action);
      }
      throwInjected(faults, `${service}.${action}`);
      const body =
        queryService !== undefined
          ? await handleQueryService(ctx, queryService, action, params, requestId)
          : await handleCloudFormation(ctx, action, params, requestId);
      record({ service, operation: action, input });
      sendXml(HttpStatus.Ok, body);
    } catch (caught) {
      const err = errorDetails(caught);
      record({ service, operation: action, input, error: { code: err.code, message: err.message } });
      sendXml(
        err.status,
        queryService !== undefined
          ? queryServiceErrorDocument(queryService, err, requestId)
          : queryErrorDocument(err, requestId),
      );
    }
  };

  const isQueryRequest = (req: IncomingMessage): boolean =>
    req.method === 'POST' &&
    (req.url ?? '/').split('?')[0] === '/' &&
    (headerValue(req, 'content-type') ?? '').startsWith(FORM_CONTENT_TYPE);

  const server: Server = createServer((req, res) => {
    const target = headerValue(req, 'x-amz-target');
    const handled =
      target !== undefined
        ? handleJson(req, res, target)
        : isQueryRequest(req)
          ? handleQuery(req, res)
          : handleS3Request(req, res);
    handled.catch((err: unknown) => {
      if (!res.headersSent) {
        const failure = errorDetails(err);
        res.writeHead(failure.status, { 'content-type': 'text/plain' });
      }
      res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOCALHOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('the fake AWS server has no TCP address');
  endpoint = `http://${LOCALHOST}:${address.port}`;

  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    ...Object.fromEntries(SERVICE_ENDPOINT_IDS.map((id) => [`AWS_ENDPOINT_URL_${id}`, endpoint])),
    AWS_REGION: world.region,
    AWS_DEFAULT_REGION: world.region,
    AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: FAKE_SECRET_ACCESS_KEY,
    AWS_EC2_METADATA_DISABLED: 'true',
    // Wins over `ignore_configured_endpoint_urls` in a shared config file.
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false',
  };

  const applyEnv = (): (() => void) => {
    const names = [...Object.keys(env), ...UNSET_ENV];
    const saved = new Map(names.map((name) => [name, process.env[name]]));
    for (const name of UNSET_ENV) delete process.env[name];
    Object.assign(process.env, env);
    return () => {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    };
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await onClose();
    })();
    return closing;
  };

  return {
    endpoint,
    env,
    applyEnv,
    gateway: options.gateway,
    world,
    calls,
    faults,
    objects: s3.objects,
    taskCallbacks,
    sessions,
    stateMachines,
    stacks,
    close,
  };
}
