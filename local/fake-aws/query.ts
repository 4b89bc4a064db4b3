/**
 * The query protocols beyond CloudFormation: awsQuery (STS, IAM: `<ActionResponse><ActionResult>`,
 * lists as `<member>`, errors in `<ErrorResponse>`) and EC2's variant (members straight under
 * `<ActionResponse>`, lists as `<item>`, errors in `<Response><Errors>`). Services register by the
 * `Version` their requests carry.
 */
import { xmlEscape as xmlText } from './cloudformation';
import type { FakeContext } from './context';
import { type AwsServiceError, unknownOperation } from './errors';

export type QueryOperation = (ctx: FakeContext, params: URLSearchParams) => Promise<string>;

export interface QueryService {
  readonly service: string;
  readonly version: string;
  readonly namespace: string;
  /** EC2 answers without a `<…Result>` wrapper and reports errors its own way. */
  readonly ec2Style?: boolean;
  readonly operations: Readonly<Record<string, QueryOperation>>;
}

export function xmlElement(name: string, value: string | undefined): string {
  return value === undefined ? '' : `<${name}>${xmlText(value)}</${name}>`;
}

/** awsQuery lists: `Name.member.1`, `Name.member.2`, … */
export function queryMembers(params: URLSearchParams, name: string): string[] {
  return indexed(params, (i) => `${name}.member.${i}`);
}

/** EC2 lists: `Name.1`, `Name.2`, … */
export function ec2List(params: URLSearchParams, name: string): string[] {
  return indexed(params, (i) => `${name}.${i}`);
}

/** EC2 filters: `Filter.N.Name` with `Filter.N.Value.M`. */
export function ec2Filters(params: URLSearchParams): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
    filters.set(params.get(`Filter.${i}.Name`) ?? '', ec2List(params, `Filter.${i}.Value`));
  }
  return filters;
}

function indexed(params: URLSearchParams, key: (index: number) => string): string[] {
  const values: string[] = [];
  for (let i = 1; params.has(key(i)); i++) values.push(params.get(key(i)) ?? '');
  return values;
}

export async function handleQueryService(
  ctx: FakeContext,
  service: QueryService,
  action: string,
  params: URLSearchParams,
  requestId: string,
): Promise<string> {
  const operation = service.operations[action];
  if (operation === undefined) throw unknownOperation(service.service, action);
  const result = await operation(ctx, params);
  if (service.ec2Style) {
    return `<${action}Response xmlns="${service.namespace}"><requestId>${requestId}</requestId>${result}</${action}Response>`;
  }
  return `<${action}Response xmlns="${service.namespace}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function queryServiceErrorDocument(
  service: QueryService,
  err: AwsServiceError,
  requestId: string,
): string {
  const code = xmlText(err.code);
  const message = xmlText(err.message);
  if (service.ec2Style) {
    return `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  }
  const type = err.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${service.namespace}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
