/**
 * `npm run build` (also `prepack`): everything the npm package ships, into `dist/`.
 * - `tsc -p tsconfig.build.json`: JavaScript and `.d.ts` of the three entry points (the construct,
 *   `exports/contract.ts`, `exports/client.ts`) and what they import;
 * - one prebuilt, minified Lambda bundle per function of `RUNNER_LAMBDAS` (`dist/lambda-bundles/<name>/`),
 *   so that a consumer's `cdk synth` needs neither esbuild nor Docker;
 * - the `ecs-exec` CLI as one CommonJS file with its AWS SDK clients inside (`dist/cli/ecs-exec.cjs`),
 *   so the package's only runtime dependency stays `ws`.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { lambdaBuildOptions, RUNNER_LAMBDAS, type RunnerLambdaName } from '../lib/bundling';

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** The CLI's entry module (exports `runCli`) and its bundle, which `bin/ecs-exec.js` loads when installed. */
const CLI_ENTRY = path.join(ROOT, 'cli', 'main.ts');
const CLI_BUNDLE = path.join(DIST, 'cli', 'ecs-exec.cjs');
/** The oldest Node the package supports (package.json `engines`). */
const CLI_TARGET = 'node20';

export async function buildPackage(): Promise<void> {
  rmSync(DIST, { recursive: true, force: true });
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  await Promise.all([
    ...(Object.entries(RUNNER_LAMBDAS) as Array<[RunnerLambdaName, string]>).map(([name, entry]) =>
      build(lambdaBuildOptions(path.join(ROOT, entry), path.join(DIST, 'lambda-bundles', name))),
    ),
    build({
      entryPoints: [CLI_ENTRY],
      outfile: CLI_BUNDLE,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: CLI_TARGET,
      mainFields: ['module', 'main'],
      minify: true,
      keepNames: true,
      sourcemap: false,
      logLevel: 'error',
    }),
  ]);
}

if (require.main === module) {
  buildPackage().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
