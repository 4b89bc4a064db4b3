/**
 * `ALLOWED_CLUSTERS`: which clusters a request may name. An entry or a request given as an ARN
 * pins partition, region and account as well as the name; a bare name means the cluster of that
 * name in the function's own region and account (where ECS resolves it).
 */

const CLUSTER_ARN = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):cluster\/([A-Za-z0-9_-]{1,255})$/;

/** Where the function runs: what a bare cluster name refers to. Unknown parts are not compared. */
export interface HomeLocation {
  readonly region?: string;
  readonly account?: string;
}

interface ClusterRef {
  readonly name: string;
  readonly partition?: string;
  readonly region?: string;
  readonly account?: string;
}

function clusterRef(cluster: string, home: HomeLocation): ClusterRef {
  const arn = CLUSTER_ARN.exec(cluster);
  if (arn === null) return { name: cluster, ...home };
  const [, partition, region, account, name] = arn as unknown as [string, string, string, string, string];
  return { name, partition, region, account };
}

/** Whether two values differ, where a value nobody knows never decides. */
const conflict = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a !== b;

/** Whether `cluster` (name or ARN) is one of `allowed` (names or ARNs); an empty list allows any. */
export function clusterAllowed(
  allowed: readonly string[],
  cluster: string,
  home: HomeLocation = {},
): boolean {
  if (allowed.length === 0) return true;
  const wanted = clusterRef(cluster, home);
  return allowed.some((entry) => {
    const candidate = clusterRef(entry, home);
    return (
      candidate.name === wanted.name &&
      !conflict(candidate.partition, wanted.partition) &&
      !conflict(candidate.region, wanted.region) &&
      !conflict(candidate.account, wanted.account)
    );
  });
}

/** The account in a Lambda function ARN (`context.invokedFunctionArn`). */
export function accountOfFunctionArn(functionArn: string | undefined): string | undefined {
  return /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:(\d{12}):function:/.exec(functionArn ?? '')?.[1];
}
