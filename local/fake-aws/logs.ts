/** CloudWatch Logs (awsJson1_1, `X-Amz-Target: Logs_20140328.<Op>`): DescribeLogGroups, paged. */
import type { JsonOperation } from './context';
import { authorizeCaller, doctorState } from './doctor-world';
import { AwsServiceError } from './errors';
import { InputReader } from './input';

export const LOGS_TARGET_PREFIX = 'Logs_20140328';
const LOGS_VALIDATION_ERROR = 'InvalidParameterException';
const DESCRIBE_LOG_GROUPS_MAX = 50;

const describeLogGroups: JsonOperation = async (ctx, input) => {
  const reader = new InputReader(input, LOGS_VALIDATION_ERROR);
  authorizeCaller(ctx.world, 'logs:DescribeLogGroups', 'AccessDeniedException');
  const prefix = reader.optString('logGroupNamePrefix') ?? '';
  const limit = reader.optNumber('limit') ?? DESCRIBE_LOG_GROUPS_MAX;
  if (!Number.isInteger(limit) || limit < 1 || limit > DESCRIBE_LOG_GROUPS_MAX) {
    throw new AwsServiceError(
      LOGS_VALIDATION_ERROR,
      `limit must be between 1 and ${DESCRIBE_LOG_GROUPS_MAX}.`,
    );
  }
  const names = Object.keys(doctorState(ctx.world).logGroups)
    .filter((name) => name.startsWith(prefix))
    .sort();
  const start = Number(reader.optString('nextToken') ?? '0') || 0;
  const page = names.slice(start, start + limit);
  const end = start + page.length;
  return {
    logGroups: page.map((name) => {
      const kmsKeyId = doctorState(ctx.world).logGroups[name]?.kmsKeyId;
      return {
        logGroupName: name,
        arn: `arn:aws:logs:${ctx.world.region}:${ctx.world.account}:log-group:${name}:*`,
        creationTime: 0,
        ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
      };
    }),
    ...(end < names.length ? { nextToken: String(end) } : {}),
  };
};

export const LOGS_OPERATIONS: Readonly<Record<string, JsonOperation>> = {
  DescribeLogGroups: describeLogGroups,
};
