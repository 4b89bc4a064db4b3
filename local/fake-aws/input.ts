/**
 * Narrowing of decoded JSON request bodies. Each getter throws the service's validation error
 * (its code is passed in), so a malformed request fails the way AWS's own validation would.
 */
import { AwsServiceError } from './errors';

export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads typed members of one request, reporting bad ones with `errorCode`. */
export class InputReader {
  constructor(
    readonly input: JsonObject,
    private readonly errorCode: string,
  ) {}

  private fail(name: string, expected: string): never {
    throw new AwsServiceError(this.errorCode, `Parameter ${name} must be ${expected}.`);
  }

  optString(name: string): string | undefined {
    const value = this.input[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') this.fail(name, 'a string');
    return value;
  }

  string(name: string): string {
    const value = this.optString(name);
    if (value === undefined) {
      throw new AwsServiceError(this.errorCode, `Missing required parameter ${name}.`);
    }
    return value;
  }

  optNumber(name: string): number | undefined {
    const value = this.input[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(name, 'a number');
    return value;
  }

  optBoolean(name: string): boolean | undefined {
    const value = this.input[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') this.fail(name, 'a boolean');
    return value;
  }

  optStringList(name: string): string[] | undefined {
    const value = this.input[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) this.fail(name, 'a list of strings');
    const items: string[] = [];
    for (const item of value) {
      if (typeof item !== 'string') this.fail(name, 'a list of strings');
      items.push(item);
    }
    return items;
  }

  optStringMap(name: string): Record<string, string> | undefined {
    const value = this.input[name];
    if (value === undefined || value === null) return undefined;
    if (!isJsonObject(value)) this.fail(name, 'a map of strings');
    const map: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string') this.fail(name, 'a map of strings');
      map[key] = item;
    }
    return map;
  }
}
