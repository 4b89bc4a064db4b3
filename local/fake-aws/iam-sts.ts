/**
 * STS GetCallerIdentity and IAM GetRole, GetInstanceProfile and SimulatePrincipalPolicy (awsQuery:
 * form-encoded `Action=…&Version=…`, XML answers), over the doctor world's principals and the tiny
 * policy model of doctor-world.ts.
 */
import type { FakeContext } from './context';
import { authorizeCaller, callerPrincipalArn, doctorState, evaluatePolicy } from './doctor-world';
import { AwsServiceError } from './errors';
import { type QueryService, queryMembers, xmlElement } from './query';

export const STS_API_VERSION = '2011-06-15';
export const IAM_API_VERSION = '2010-05-08';
const IAM_ACCESS_DENIED = 'AccessDenied';
/** SimulatePrincipalPolicy's default page size. */
const SIMULATE_DEFAULT_MAX_ITEMS = 100;
const ROLE_ID_PREFIX = 'AROA';

function roleIdOf(arn: string): string {
  let hash = 0;
  for (const char of arn) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `${ROLE_ID_PREFIX}${hash.toString(16).toUpperCase().padStart(17, '0')}`;
}

function noSuchEntity(message: string): AwsServiceError {
  return new AwsServiceError('NoSuchEntity', message, 404);
}

function roleXml(arn: string): string {
  const name = arn.split('/').pop() ?? arn;
  return `<Role>${xmlElement('Path', '/')}${xmlElement('RoleName', name)}${xmlElement('RoleId', roleIdOf(arn))}${xmlElement('Arn', arn)}${xmlElement('CreateDate', '2024-01-01T00:00:00Z')}</Role>`;
}

async function getCallerIdentity(ctx: FakeContext): Promise<string> {
  const state = doctorState(ctx.world);
  const principal = callerPrincipalArn(ctx.world);
  const session = state.callerArn.split('/').pop() ?? 'session';
  return `${xmlElement('Arn', state.callerArn)}${xmlElement('UserId', `${roleIdOf(principal)}:${session}`)}${xmlElement('Account', ctx.world.account)}`;
}

async function getRole(ctx: FakeContext, params: URLSearchParams): Promise<string> {
  const name = params.get('RoleName') ?? '';
  authorizeCaller(ctx.world, 'iam:GetRole', IAM_ACCESS_DENIED);
  const arn = Object.keys(doctorState(ctx.world).principals).find((p) => p.endsWith(`:role/${name}`));
  if (arn === undefined) throw noSuchEntity(`The role with name ${name} cannot be found.`);
  return roleXml(arn);
}

async function getInstanceProfile(ctx: FakeContext, params: URLSearchParams): Promise<string> {
  const name = params.get('InstanceProfileName') ?? '';
  authorizeCaller(ctx.world, 'iam:GetInstanceProfile', IAM_ACCESS_DENIED);
  const role = doctorState(ctx.world).instanceProfiles[name];
  if (role === undefined) throw noSuchEntity(`Instance Profile ${name} cannot be found.`);
  const arn = `arn:aws:iam::${ctx.world.account}:instance-profile/${name}`;
  return `<InstanceProfile>${xmlElement('InstanceProfileName', name)}${xmlElement('Arn', arn)}${xmlElement('Path', '/')}<Roles><member>${roleXml(role).slice('<Role>'.length, -'</Role>'.length)}</member></Roles></InstanceProfile>`;
}

/** Marker = index of the next result. */
async function simulatePrincipalPolicy(ctx: FakeContext, params: URLSearchParams): Promise<string> {
  const source = params.get('PolicySourceArn') ?? '';
  authorizeCaller(ctx.world, 'iam:SimulatePrincipalPolicy', IAM_ACCESS_DENIED, source);
  const statements = doctorState(ctx.world).principals[source];
  if (statements === undefined) throw noSuchEntity(`Could not find policy source ${source}.`);
  const actions = queryMembers(params, 'ActionNames');
  if (actions.length === 0) throw new AwsServiceError('InvalidInput', 'ActionNames must not be empty.');
  const resources = queryMembers(params, 'ResourceArns');
  const results = actions.flatMap((action) =>
    (resources.length > 0 ? resources : ['*']).map((resource) => ({
      action,
      resource,
      decision: evaluatePolicy(statements, action, resource),
    })),
  );
  const start = Number(params.get('Marker') ?? '0') || 0;
  const maxItems = Number(params.get('MaxItems') ?? SIMULATE_DEFAULT_MAX_ITEMS) || SIMULATE_DEFAULT_MAX_ITEMS;
  const page = results.slice(start, start + maxItems);
  const end = start + page.length;
  const members = page
    .map(
      (r) =>
        `<member>${xmlElement('EvalActionName', r.action)}${xmlElement('EvalResourceName', r.resource)}${xmlElement('EvalDecision', r.decision)}<MatchedStatements/><MissingContextValues/></member>`,
    )
    .join('');
  const truncated = end < results.length;
  return `<EvaluationResults>${members}</EvaluationResults>${xmlElement('IsTruncated', String(truncated))}${truncated ? xmlElement('Marker', String(end)) : ''}`;
}

export const STS_SERVICE: QueryService = {
  service: 'sts',
  version: STS_API_VERSION,
  namespace: `https://sts.amazonaws.com/doc/${STS_API_VERSION}/`,
  operations: { GetCallerIdentity: getCallerIdentity },
};

export const IAM_SERVICE: QueryService = {
  service: 'iam',
  version: IAM_API_VERSION,
  namespace: `https://iam.amazonaws.com/doc/${IAM_API_VERSION}/`,
  operations: {
    GetRole: getRole,
    GetInstanceProfile: getInstanceProfile,
    SimulatePrincipalPolicy: simulatePrincipalPolicy,
  },
};
