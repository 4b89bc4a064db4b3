/**
 * CloudFormation (awsQuery: `POST /`, form-encoded `Action=…&Version=2010-05-15&…`, XML answers):
 * DescribeStacks over the stacks a test or the local runner put in `fake.stacks`, so that a tool
 * that finds its state machine through a stack's outputs (`ecs-exec run --stack NAME`) can run here.
 */
import { randomUUID } from 'node:crypto';
import { AwsServiceError, unknownOperation } from './errors';

/** The `Version` CloudFormation's query API sends; it routes a query request to this service. */
export const CLOUDFORMATION_API_VERSION = '2010-05-15';

/** What the CloudFormation operations use of the endpoint's shared state (a part of FakeContext). */
export interface CloudFormationContext {
  readonly stacks: StackRegistry;
}
const XML_NAMESPACE = `http://cloudformation.amazonaws.com/doc/${CLOUDFORMATION_API_VERSION}/`;
const VALIDATION_ERROR = 'ValidationError';

export interface FakeStackOutput {
  readonly OutputKey: string;
  readonly OutputValue: string;
  readonly Description?: string;
  readonly ExportName?: string;
}

/** Outputs, or a function computing them on the first DescribeStacks (e.g. after a synth). */
export type FakeStackOutputs = readonly FakeStackOutput[] | (() => Promise<readonly FakeStackOutput[]>);

export interface FakeStackInput {
  readonly stackName: string;
  readonly outputs: FakeStackOutputs;
  /** @default 'CREATE_COMPLETE' */
  readonly status?: string;
  readonly description?: string;
}

export interface FakeStack {
  readonly stackName: string;
  readonly stackId: string;
  readonly status: string;
  readonly description?: string;
  readonly creationTime: Date;
  readonly outputs: FakeStackOutputs;
}

/** The stacks DescribeStacks knows, by name. */
export class StackRegistry {
  readonly stacks = new Map<string, FakeStack>();

  constructor(private readonly where: () => { readonly region: string; readonly account: string }) {}

  /** Adds (or replaces) a stack. */
  put(input: FakeStackInput): FakeStack {
    const { region, account } = this.where();
    const stack: FakeStack = {
      stackName: input.stackName,
      stackId: `arn:aws:cloudformation:${region}:${account}:stack/${input.stackName}/${randomUUID()}`,
      status: input.status ?? 'CREATE_COMPLETE',
      ...(input.description !== undefined ? { description: input.description } : {}),
      creationTime: new Date(),
      outputs: input.outputs,
    };
    this.stacks.set(input.stackName, stack);
    return stack;
  }

  remove(stackName: string): void {
    this.stacks.delete(stackName);
  }

  /** By name or stack id, as DescribeStacks accepts either. */
  find(ref: string): FakeStack | undefined {
    return this.stacks.get(ref) ?? [...this.stacks.values()].find((stack) => stack.stackId === ref);
  }
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ESCAPES[char] ?? char);
}

const element = (name: string, value: string | undefined): string =>
  value === undefined ? '' : `<${name}>${xmlEscape(value)}</${name}>`;

async function stackXml(stack: FakeStack): Promise<string> {
  const outputs = typeof stack.outputs === 'function' ? await stack.outputs() : stack.outputs;
  const outputMembers = outputs
    .map(
      (output) =>
        `<member>${element('OutputKey', output.OutputKey)}${element('OutputValue', output.OutputValue)}${element('Description', output.Description)}${element('ExportName', output.ExportName)}</member>`,
    )
    .join('');
  return [
    '<member>',
    element('StackName', stack.stackName),
    element('StackId', stack.stackId),
    element('Description', stack.description),
    element('CreationTime', stack.creationTime.toISOString()),
    element('StackStatus', stack.status),
    '<DisableRollback>false</DisableRollback>',
    `<Outputs>${outputMembers}</Outputs>`,
    '</member>',
  ].join('');
}

async function describeStacks(ctx: CloudFormationContext, params: URLSearchParams): Promise<string> {
  const ref = params.get('StackName') ?? undefined;
  let stacks: FakeStack[];
  if (ref === undefined || ref === '') {
    stacks = [...ctx.stacks.stacks.values()];
  } else {
    const stack = ctx.stacks.find(ref);
    if (stack === undefined)
      throw new AwsServiceError(VALIDATION_ERROR, `Stack with id ${ref} does not exist`);
    stacks = [stack];
  }
  const members = await Promise.all(stacks.map(stackXml));
  return `<Stacks>${members.join('')}</Stacks>`;
}

type QueryOperation = (ctx: CloudFormationContext, params: URLSearchParams) => Promise<string>;

const CLOUDFORMATION_OPERATIONS: Readonly<Record<string, QueryOperation>> = {
  DescribeStacks: describeStacks,
};

/** The decoded parameters of a query request, for the recorded calls. */
export function queryInput(params: URLSearchParams): Record<string, string> {
  const input: Record<string, string> = {};
  for (const [name, value] of params) if (name !== 'Action' && name !== 'Version') input[name] = value;
  return input;
}

/** Answers one query-protocol request: the operation's XML document, or throws an AwsServiceError. */
export async function handleCloudFormation(
  ctx: CloudFormationContext,
  action: string,
  params: URLSearchParams,
  requestId: string,
): Promise<string> {
  const operation = CLOUDFORMATION_OPERATIONS[action];
  if (operation === undefined) throw unknownOperation('cloudformation', action);
  const result = await operation(ctx, params);
  return `<${action}Response xmlns="${XML_NAMESPACE}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

/** The query protocol's error document (what the SDK turns into an exception named `Code`). */
export function queryErrorDocument(err: AwsServiceError, requestId: string): string {
  const type = err.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${type}</Type><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

export const newRequestId = (): string => randomUUID();
