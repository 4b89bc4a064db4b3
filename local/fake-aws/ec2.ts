/**
 * EC2 (EC2 query protocol, `Version=2016-11-15`): the describes the doctor makes to place a task
 * in its network, over the doctor world's subnets, route tables and VPC endpoints.
 */
import type { FakeContext } from './context';
import { authorizeCaller, doctorState } from './doctor-world';
import { eniIdOf } from './ecs-doctor';
import { AwsServiceError } from './errors';
import { ec2Filters, ec2List, type QueryService, xmlElement } from './query';

export const EC2_API_VERSION = '2016-11-15';
const EC2_ACCESS_DENIED = 'UnauthorizedOperation';

const items = (xml: readonly string[]): string => xml.map((item) => `<item>${item}</item>`).join('');

async function describeSubnets(ctx: FakeContext, params: URLSearchParams): Promise<string> {
  authorizeCaller(ctx.world, 'ec2:DescribeSubnets', EC2_ACCESS_DENIED);
  const state = doctorState(ctx.world);
  const ids = ec2List(params, 'SubnetId');
  const subnets = ids.map((id) => {
    const subnet = state.subnets[id];
    if (subnet === undefined) {
      throw new AwsServiceError('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
    }
    return `${xmlElement('subnetId', id)}${xmlElement('vpcId', subnet.vpcId)}${xmlElement('ownerId', subnet.ownerId ?? ctx.world.account)}${xmlElement('state', 'available')}${xmlElement('availabilityZone', `${ctx.world.region}a`)}`;
  });
  return `<subnetSet>${items(subnets)}</subnetSet>`;
}

async function describeVpcEndpoints(ctx: FakeContext, params: URLSearchParams): Promise<string> {
  authorizeCaller(ctx.world, 'ec2:DescribeVpcEndpoints', EC2_ACCESS_DENIED);
  const vpcIds = ec2Filters(params).get('vpc-id');
  const endpoints = doctorState(ctx.world).vpcEndpoints.filter(
    (endpoint) => vpcIds === undefined || vpcIds.includes(endpoint.vpcId),
  );
  return `<vpcEndpointSet>${items(
    endpoints.map(
      (endpoint, index) =>
        `${xmlElement('vpcEndpointId', `vpce-${String(index).padStart(17, '0')}`)}${xmlElement('vpcId', endpoint.vpcId)}${xmlElement('serviceName', endpoint.serviceName)}${xmlElement('state', 'available')}${xmlElement('vpcEndpointType', endpoint.serviceName.endsWith('.s3') ? 'Gateway' : 'Interface')}`,
    ),
  )}</vpcEndpointSet>`;
}

async function describeRouteTables(ctx: FakeContext, params: URLSearchParams): Promise<string> {
  authorizeCaller(ctx.world, 'ec2:DescribeRouteTables', EC2_ACCESS_DENIED);
  const state = doctorState(ctx.world);
  const filters = ec2Filters(params);
  const subnetIds = filters.get('association.subnet-id');
  const vpcIds = filters.get('vpc-id');
  const main = filters.get('association.main');
  const tables = Object.entries(state.routeTables).filter(([id, table]) => {
    const subnets = Object.entries(state.subnets)
      .filter(([, subnet]) => subnet.routeTableId === id)
      .map(([subnetId]) => subnetId);
    return (
      (subnetIds === undefined || subnets.some((s) => subnetIds.includes(s))) &&
      (vpcIds === undefined || vpcIds.includes(table.vpcId)) &&
      (main === undefined || main.includes(String(table.main === true)))
    );
  });
  return `<routeTableSet>${items(
    tables.map(([id, table]) => {
      const routes = table.routes.map((route) => {
        const target = route.target.startsWith('nat-') ? 'natGatewayId' : 'gatewayId';
        return `${xmlElement('destinationCidrBlock', route.destination)}${xmlElement(target, route.target)}${xmlElement('state', 'active')}`;
      });
      return `${xmlElement('routeTableId', id)}${xmlElement('vpcId', table.vpcId)}<routeSet>${items(routes)}</routeSet>`;
    }),
  )}</routeTableSet>`;
}

async function describeNetworkInterfaces(ctx: FakeContext, params: URLSearchParams): Promise<string> {
  authorizeCaller(ctx.world, 'ec2:DescribeNetworkInterfaces', EC2_ACCESS_DENIED);
  const ids = ec2List(params, 'NetworkInterfaceId');
  const tasks = ctx.world.clusters.flatMap((cluster) => cluster.tasks);
  const enis = ids.map((id) => {
    const task = tasks.find((candidate) => eniIdOf(candidate) === id);
    if (task === undefined) {
      throw new AwsServiceError(
        'InvalidNetworkInterfaceID.NotFound',
        `The networkInterface ID '${id}' does not exist`,
      );
    }
    const association =
      task.publicIp !== undefined
        ? `<association>${xmlElement('publicIp', task.publicIp)}</association>`
        : '';
    return `${xmlElement('networkInterfaceId', id)}${xmlElement('status', 'in-use')}${association}`;
  });
  return `<networkInterfaceSet>${items(enis)}</networkInterfaceSet>`;
}

async function describeInstances(ctx: FakeContext, params: URLSearchParams): Promise<string> {
  authorizeCaller(ctx.world, 'ec2:DescribeInstances', EC2_ACCESS_DENIED);
  const state = doctorState(ctx.world);
  const reservations = ec2List(params, 'InstanceId').map((id) => {
    const instance = state.instances[id];
    if (instance === undefined) {
      throw new AwsServiceError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    }
    const profile =
      instance.instanceProfileArn !== undefined
        ? `<iamInstanceProfile>${xmlElement('arn', instance.instanceProfileArn)}</iamInstanceProfile>`
        : '';
    return `<instancesSet>${items([`${xmlElement('instanceId', id)}${profile}${xmlElement('ipAddress', instance.publicIp)}`])}</instancesSet>`;
  });
  return `<reservationSet>${items(reservations)}</reservationSet>`;
}

export const EC2_SERVICE: QueryService = {
  service: 'ec2',
  version: EC2_API_VERSION,
  namespace: `http://ec2.amazonaws.com/doc/${EC2_API_VERSION}/`,
  ec2Style: true,
  operations: {
    DescribeSubnets: describeSubnets,
    DescribeVpcEndpoints: describeVpcEndpoints,
    DescribeRouteTables: describeRouteTables,
    DescribeNetworkInterfaces: describeNetworkInterfaces,
    DescribeInstances: describeInstances,
  },
};
