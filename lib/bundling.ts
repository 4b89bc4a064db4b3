import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** The Lambda runtime of the runner functions; esbuild targets the same Node major. */
export const RUNNER_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const RUNNER_ESBUILD_TARGET = 'node24';

/** Repository root (this file lives in `lib/`). */
export const PROJECT_ROOT = path.join(__dirname, '..');
/** The exec Lambda's entry point. */
export const HANDLER_ENTRY = path.join(PROJECT_ROOT, 'lambda', 'handler.ts');

/**
 * ESM output: `ws` is CommonJS and calls `require('events')`, which an ESM bundle cannot do
 * without a `require` of its own ("Dynamic require of "events" is not supported").
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/**
 * Left to the runtime: the AWS SDK v3 (clients and helpers such as lib-storage and util-dynamodb)
 * and the Smithy packages it is built on ship with nodejs22.x/24.x — the same set CDK's
 * NodejsFunction leaves out by default. `bundleAwsSdk: true` pins the SDK in the asset instead.
 */
export const RUNTIME_PROVIDED_MODULES: readonly string[] = ['@aws-sdk/*', '@smithy/*'];

/** The esbuild settings both the CDK asset and a benchmark build use (one source of truth). */
export interface RunnerBundleSettings {
  readonly format: 'esm';
  readonly platform: 'node';
  readonly target: string;
  readonly mainFields: readonly string[];
  readonly banner: string;
  readonly minify: true;
  readonly sourcemap: true;
  /** Error classes keep their names in stacks and logs; `name` itself is a string literal. */
  readonly keepNames: true;
  readonly external: readonly string[];
}

export function runnerBundleSettings(
  options: { readonly bundleAwsSdk?: boolean } = {},
): RunnerBundleSettings {
  return {
    format: 'esm',
    platform: 'node',
    target: RUNNER_ESBUILD_TARGET,
    // `module` first: the ESM builds of the SDK and Powertools are far smaller than their CJS builds.
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    minify: true,
    sourcemap: true,
    keepNames: true,
    external: options.bundleAwsSdk ? [] : [...RUNTIME_PROVIDED_MODULES],
  };
}

/** `NodejsFunction` bundling options built from {@link runnerBundleSettings}; never uses Docker. */
export function runnerBundlingOptions(
  options: { readonly bundleAwsSdk?: boolean } = {},
): nodejs.BundlingOptions {
  const settings = runnerBundleSettings(options);
  return {
    format: nodejs.OutputFormat.ESM,
    target: settings.target,
    mainFields: [...settings.mainFields],
    banner: settings.banner,
    minify: settings.minify,
    sourceMap: settings.sourcemap,
    sourcesContent: false,
    keepNames: settings.keepNames,
    externalModules: [...settings.external],
    bundleAwsSDK: options.bundleAwsSdk ?? false,
    forceDockerBundling: false,
  };
}

/**
 * Options for esbuild's `build()` that produce the same bundle as the CDK asset, e.g. for a
 * size or cold-start benchmark: `esbuild.build(esbuildBuildOptions(HANDLER_ENTRY, 'out/index.mjs'))`.
 */
export function esbuildBuildOptions(
  entry: string,
  outfile: string,
  options: { readonly bundleAwsSdk?: boolean } = {},
): {
  entryPoints: string[];
  outfile: string;
  bundle: true;
  format: 'esm';
  platform: 'node';
  target: string;
  mainFields: string[];
  banner: { js: string };
  minify: boolean;
  sourcemap: boolean;
  sourcesContent: boolean;
  keepNames: boolean;
  external: string[];
} {
  const settings = runnerBundleSettings(options);
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: settings.format,
    platform: settings.platform,
    target: settings.target,
    mainFields: [...settings.mainFields],
    banner: { js: settings.banner },
    minify: settings.minify,
    sourcemap: settings.sourcemap,
    sourcesContent: false,
    keepNames: settings.keepNames,
    external: [...settings.external],
  };
}
