/**
 * Can the agent reach ssmmessages (and KMS, Logs, S3 when the cluster uses them)? Through a VPC
 * endpoint, or through a default route to NAT, or to an internet gateway with a public IP.
 */
import type { Fetched, Finding, NetworkFacts, Route } from '../types';
import { finding, notChecked } from './common';

const DEFAULT_ROUTE = '0.0.0.0/0';

/** Services the agent talks to, given the cluster's exec configuration. */
export function requiredServices(uses: { kms: boolean; logs: boolean; s3: boolean }): string[] {
  return [
    'ssmmessages',
    ...(uses.kms ? ['kms'] : []),
    ...(uses.logs ? ['logs'] : []),
    ...(uses.s3 ? ['s3'] : []),
  ];
}

export function endpointServiceName(region: string, service: string): string {
  return `com.amazonaws.${region}.${service}`;
}

const isShared = (owner: string, account: string | undefined): boolean =>
  account !== undefined && owner !== '' && owner !== account;

export function checkSubnet(
  network: Fetched<NetworkFacts> | undefined,
  account: string | undefined,
): Finding {
  const id = 'network.subnet';
  const summary = "the task's subnet";
  if (network === undefined) {
    return finding(
      id,
      'warn',
      summary,
      'not awsvpc and no container instance subnet: network checks skipped',
    );
  }
  if (!network.ok) return notChecked(id, summary, network);
  const { subnetId, vpcId, subnetOwnerId } = network.value;
  if (isShared(subnetOwnerId, account)) {
    return finding(
      id,
      'warn',
      summary,
      `${subnetId} in ${vpcId} is shared with this account by ${subnetOwnerId} (AWS RAM): its endpoints and routes belong to that account and may not be visible here`,
      `ask the owner of ${vpcId}: the network checks below cannot see its routes and endpoints`,
    );
  }
  return finding(id, 'ok', summary, `${subnetId} in ${vpcId}`);
}

/** The route a subnet uses for the internet, if any. */
export function internetPath(
  routes: readonly Route[],
  publicIp: string | undefined,
): { ok: boolean; found: string } {
  const route = routes.find((r) => r.destination === DEFAULT_ROUTE && r.state !== 'blackhole');
  if (route === undefined) return { ok: false, found: 'no default route (0.0.0.0/0)' };
  if (route.target.startsWith('igw-')) {
    return publicIp
      ? { ok: true, found: `0.0.0.0/0 → ${route.target}, public IP ${publicIp}` }
      : { ok: false, found: `0.0.0.0/0 → ${route.target} but the task has no public IP` };
  }
  return { ok: true, found: `0.0.0.0/0 → ${route.target}` };
}

export function checkReachability(
  network: Fetched<NetworkFacts> | undefined,
  region: string,
  account: string | undefined,
  services: readonly string[],
): Finding {
  const id = 'network.reachability';
  const summary = `route from the task to ${services.join(', ')}`;
  if (network === undefined) return finding(id, 'warn', summary, 'not checked (no subnet known)');
  if (!network.ok) return notChecked(id, summary, network);
  const { endpointServices, routes, publicIp, vpcId, subnetId, subnetOwnerId } = network.value;
  if (isShared(subnetOwnerId, account)) {
    return finding(
      id,
      'warn',
      summary,
      `not checked: ${vpcId} belongs to ${subnetOwnerId}, whose route tables and endpoints this account cannot see`,
      `ask the owner of ${vpcId} for a route to the internet or VPC endpoints for ${services.map((s) => endpointServiceName(region, s)).join(', ')}`,
    );
  }
  if (!endpointServices.ok) return notChecked(id, summary, endpointServices);
  if (!routes.ok) return notChecked(id, summary, routes);
  const ip = publicIp.ok ? publicIp.value : undefined;
  const internet = internetPath(routes.value, ip);
  const endpoints = new Set(endpointServices.value);
  const missing = services.filter((service) => !endpoints.has(endpointServiceName(region, service)));
  const viaEndpoint = services.filter((service) => endpoints.has(endpointServiceName(region, service)));
  if (missing.length === 0) {
    return finding(id, 'ok', summary, `VPC endpoints for ${viaEndpoint.join(', ')} in ${vpcId}`);
  }
  if (internet.ok) {
    const through = viaEndpoint.length > 0 ? `endpoints for ${viaEndpoint.join(', ')}; ` : '';
    return finding(
      id,
      'ok',
      summary,
      `${through}${missing.join(', ')} over the internet (${internet.found})`,
    );
  }
  if (!publicIp.ok && internet.found.includes('no public IP')) return notChecked(id, summary, publicIp);
  const createEndpoints = missing
    .map((service) =>
      service === 's3'
        ? `aws ec2 create-vpc-endpoint --vpc-id ${vpcId} --vpc-endpoint-type Gateway --service-name ${endpointServiceName(region, service)} --route-table-ids <route table of ${subnetId}>`
        : `aws ec2 create-vpc-endpoint --vpc-id ${vpcId} --vpc-endpoint-type Interface --private-dns-enabled --service-name ${endpointServiceName(region, service)} --subnet-ids ${subnetId} --security-group-ids <sg allowing 443 from the task>`,
    )
    .join('; ');
  return finding(
    id,
    'fail',
    summary,
    `no VPC endpoint for ${missing.join(', ')} and ${internet.found} in ${subnetId}`,
    `${createEndpoints}${internet.found.includes('no public IP') ? '; or start the task with assignPublicIp ENABLED' : '; or add a 0.0.0.0/0 route to a NAT gateway'}`,
  );
}
