/**
 * The `arn:aws:states:::aws-sdk:<service>:<action>` Task integration, run locally through the AWS
 * SDK for JavaScript (so through whatever endpoint the SDK is pointed at, e.g. the fake one).
 * Step Functions takes the parameters with PascalCase member names and returns the API's answer
 * with PascalCase member names too; the JSON APIs' own members are camelCase, so the names are
 * converted both ways. An API error fails the state with `<Service>.<ErrorName>`, as the service
 * reports it. Only the services listed in {@link SDK_COMMANDS} are wired.
 */
import * as sfn from '@aws-sdk/client-sfn';

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Runs one aws-sdk integration call: the action's resolved Parameters in, its result out. */
export type AwsSdkIntegration = (
  service: string,
  action: string,
  parameters: JsonValue,
) => Promise<JsonValue>;

const AWS_SDK_RESOURCE = /^arn:aws[a-z-]*:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/;

/** The service and action of an aws-sdk Task resource, or undefined for any other resource. */
export function awsSdkResource(resource: unknown): { service: string; action: string } | undefined {
  if (typeof resource !== 'string') return undefined;
  const match = AWS_SDK_RESOURCE.exec(resource);
  return match === null ? undefined : { service: match[1] as string, action: match[2] as string };
}

const capitalize = (name: string): string => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
const uncapitalize = (name: string): string => `${name.charAt(0).toLowerCase()}${name.slice(1)}`;

function renameKeys(value: unknown, rename: (key: string) => string): JsonValue {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => renameKeys(item, rename));
  if (value === null || typeof value !== 'object') return (value ?? null) as JsonValue;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, member]) => key !== '$metadata' && member !== undefined)
      .map(([key, member]) => [rename(key), renameKeys(member, rename)]),
  );
}

interface SdkClient {
  send(command: unknown): Promise<unknown>;
}
type CommandClass = new (input: unknown) => unknown;

/** The SDK modules of the services wired here, and how to make their clients. */
const SDK_COMMANDS: Readonly<Record<string, { readonly module: object; readonly client: () => SdkClient }>> =
  {
    sfn: { module: sfn, client: () => new sfn.SFNClient({}) },
  };

/** An integration backed by the SDK's default clients (region, credentials, endpoint from the environment). */
export function sdkIntegration(): AwsSdkIntegration {
  const clients = new Map<string, SdkClient>();
  return async (service, action, parameters) => {
    const entry = SDK_COMMANDS[service];
    const Command = (entry?.module as Record<string, unknown> | undefined)?.[`${capitalize(action)}Command`];
    if (entry === undefined || typeof Command !== 'function') {
      throw new Error(`the local runner does not wire aws-sdk:${service}:${action}`);
    }
    let client = clients.get(service);
    if (client === undefined) {
      client = entry.client();
      clients.set(service, client);
    }
    try {
      const output = await client.send(new (Command as CommandClass)(renameKeys(parameters, uncapitalize)));
      return renameKeys(output, capitalize);
    } catch (err) {
      const failure = new Error(err instanceof Error ? err.message : String(err));
      failure.name = `${capitalize(service)}.${err instanceof Error ? err.name : 'Error'}`;
      throw failure;
    }
  };
}
