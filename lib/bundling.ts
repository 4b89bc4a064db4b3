import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { BuildOptions } from 'esbuild';

/** The Lambda runtime of the runner functions; esbuild targets the same Node major. */
export const RUNNER_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const RUNNER_ESBUILD_TARGET = 'node24';

/**
 * The package root: the repository root when this runs from source (`lib/`), `dist/` when it
 * runs compiled (`dist/lib/`).
 */
export const PROJECT_ROOT = path.join(__dirname, '..');

/**
 * Every Lambda function the construct deploys, by name → its entry point (relative to the
 * repository root). The one place to list a new function: `npm run build` bundles each of them
 * into the package, and {@link runnerLambdaCode} finds its bundle by name.
 */
export const RUNNER_LAMBDAS = {
  exec: 'lambda/handler.ts',
  'list-service-tasks': 'lambda/fan-out/list-service-tasks.ts',
} as const satisfies Record<string, string>;
export type RunnerLambdaName = keyof typeof RUNNER_LAMBDAS;

/** The exec Lambda's entry point. */
export const HANDLER_ENTRY = path.join(PROJECT_ROOT, RUNNER_LAMBDAS.exec);

/** Every bundle's entry file is `index.mjs` exporting `handler`. */
export const BUNDLE_ENTRY_FILE = 'index.mjs';
export const RUNNER_HANDLER = 'index.handler';
/** Where `npm run build` writes the prebuilt bundles, next to the compiled `lib/` (`dist/lambda-bundles/<name>/`). */
export const PREBUILT_BUNDLES_DIR = path.join(PROJECT_ROOT, 'lambda-bundles');

/**
 * ESM output: `ws` is CommonJS and calls `require('events')`, which an ESM bundle cannot do
 * without a `require` of its own ("Dynamic require of "events" is not supported").
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/**
 * The AWS SDK v3 and its Smithy packages, which the nodejs22.x/24.x runtimes provide; only the
 * `sdk-external` build (the packaging before 0.2.0, kept for the benchmark) leaves them out.
 */
export const RUNTIME_PROVIDED_MODULES: readonly string[] = ['@aws-sdk/*', '@smithy/*'];

/**
 * How a function is packaged; `npm run bench` measures all three side by side.
 * - `sdk-external`: one file, the AWS SDK left to the runtime (the packaging before 0.2.0).
 * - `sdk-bundled`: one file with the SDK inside. A dynamic `import()` stays in the same file, so
 *   everything a lazily loaded client needs is still parsed at cold start.
 * - `split`: the SDK bundled and split into ESM chunks, so that a lazily imported client (S3, KMS,
 *   SSM, Step Functions, DynamoDB through Powertools idempotency) is a chunk read on first use.
 */
export type LambdaPackaging = 'sdk-external' | 'sdk-bundled' | 'split';
/** What the package ships and the construct deploys (chosen by `npm run bench`; see the README). */
export const SHIPPED_PACKAGING: LambdaPackaging = 'split';

/**
 * esbuild options for one function's bundle in `outdir` (`index.mjs`, plus `chunks/` when split):
 * minified, names kept (error classes keep theirs in stacks and logs; `name` itself is a string
 * literal), no source maps (nothing in the asset names a path on the machine that built it).
 */
export function lambdaBuildOptions(
  entry: string,
  outdir: string,
  packaging: LambdaPackaging = SHIPPED_PACKAGING,
): BuildOptions & { entryPoints: Record<string, string>; outdir: string } {
  return {
    entryPoints: { index: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: packaging === 'split',
    format: 'esm',
    platform: 'node',
    target: RUNNER_ESBUILD_TARGET,
    // `module` first: the ESM builds of the SDK and Powertools are far smaller than their CJS builds.
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    keepNames: true,
    sourcemap: false,
    external: packaging === 'sdk-external' ? [...RUNTIME_PROVIDED_MODULES] : [],
    logLevel: 'error',
  };
}

/**
 * The code of one runner function. Installed from the package: the prebuilt bundle shipped in
 * it (`Code.fromAsset`; the consumer needs neither esbuild nor Docker). From this repository's
 * sources (tests, `cdk synth` here): bundled at synth by the local esbuild with the same options.
 */
export function runnerLambdaCode(
  name: RunnerLambdaName,
  prebuiltBundlesDir: string = PREBUILT_BUNDLES_DIR,
): lambda.Code {
  const prebuilt = path.join(prebuiltBundlesDir, name);
  if (existsSync(path.join(prebuilt, BUNDLE_ENTRY_FILE))) return lambda.Code.fromAsset(prebuilt);
  const entry = path.join(PROJECT_ROOT, RUNNER_LAMBDAS[name]);
  if (!existsSync(entry)) {
    throw new Error(
      `ecs-exec-runner: the prebuilt bundle of the "${name}" function is missing (${prebuilt}); reinstall the package`,
    );
  }
  return lambda.Code.fromAsset(path.join(PROJECT_ROOT, 'lambda'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always succeeds or throws.
      image: RUNNER_RUNTIME.bundlingImage,
      local: {
        tryBundle(outputDir: string): boolean {
          loadEsbuild().buildSync(lambdaBuildOptions(entry, outputDir));
          return true;
        },
      },
    },
  });
}

function loadEsbuild(): typeof import('esbuild') {
  try {
    return require('esbuild') as typeof import('esbuild');
  } catch (err) {
    throw new Error(
      'ecs-exec-runner: bundling the functions from source needs esbuild (npm install --save-dev esbuild)',
      { cause: err },
    );
  }
}
