/**
 * Service errors as the fake endpoint returns them. One class for every service: the wire shape
 * (JSON `__type` + `x-amzn-errortype`, or S3's XML `<Error><Code>`) is chosen by the protocol layer.
 */

/** HTTP statuses the fake uses; AWS sends 400 for client faults, 500 for its own. */
export const HttpStatus = {
  Ok: 200,
  NoContent: 204,
  PartialContent: 206,
  BadRequest: 400,
  NotFound: 404,
  PreconditionFailed: 412,
  RangeNotSatisfiable: 416,
  InternalServerError: 500,
  ServiceUnavailable: 503,
} as const;

/** Error codes the services answer with 5xx (the SDK retries these). */
const SERVER_ERROR_CODES: ReadonlySet<string> = new Set([
  'ServerException',
  'InternalServerError',
  'KMSInternalException',
  'InternalError',
  'InternalFailure',
]);
/** Error codes answered with 503 (S3's throttling among them). */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set(['ServiceUnavailable', 'SlowDown']);

function defaultStatus(code: string): number {
  if (UNAVAILABLE_CODES.has(code)) return HttpStatus.ServiceUnavailable;
  return SERVER_ERROR_CODES.has(code) ? HttpStatus.InternalServerError : HttpStatus.BadRequest;
}

export class AwsServiceError extends Error {
  readonly status: number;
  constructor(
    /** The error code the SDK turns into the exception's `name`. */
    readonly code: string,
    message: string,
    status?: number,
    /** Extra fields for S3's XML body (`Key`, `BucketName`, …). */
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'AwsServiceError';
    this.status = status ?? defaultStatus(code);
  }
}

/** `__type` of an operation the fake does not implement; a test that hits it should notice. */
export const UNKNOWN_OPERATION = 'UnknownOperationException';

export function unknownOperation(service: string, operation: string): AwsServiceError {
  return new AwsServiceError(
    UNKNOWN_OPERATION,
    `The local fake AWS endpoint does not implement ${service}:${operation}.`,
  );
}
