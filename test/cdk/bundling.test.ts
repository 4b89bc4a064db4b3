import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  ESM_REQUIRE_BANNER,
  esbuildBuildOptions,
  HANDLER_ENTRY,
  runnerBundlingOptions,
} from '../../lib/bundling';
import { fastApp, runnerStack } from './helpers';

describe('Lambda bundles (local esbuild, no Docker)', () => {
  let bundle: string;
  let fanOutBundle: string;
  let assetDir: string;

  beforeAll(() => {
    const app = fastApp({ bundle: true });
    const { json } = runnerStack({ app });
    const assembly = app.synth();
    const codeOf = (descriptionPart: string): string => {
      const fn = Object.values(json.Resources).find(
        (r) =>
          r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Description).includes(descriptionPart),
      );
      const key = String((fn?.Properties?.Code as { S3Key?: string } | undefined)?.S3Key);
      const dir = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      return dir;
    };
    assetDir = codeOf('ECS Exec');
    bundle = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
    fanOutBundle = readFileSync(path.join(codeOf('fan-out'), 'index.mjs'), 'utf8');
  });

  it('is one minified ESM file with a source map and the createRequire banner', () => {
    expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(existsSync(path.join(assetDir, 'index.mjs.map'))).toBe(true);
    expect(bundle).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    // Minified: few, very long lines.
    expect(bundle.split('\n').length).toBeLessThan(50);
  });

  it('keeps the AWS SDK external (the runtime provides it), loads rare clients lazily and bundles the rest', () => {
    expect(bundle).toMatch(/from\s*"@aws-sdk\/client-ecs"/);
    // Needed only for some runs (large output, KMS, callbacks): imported on first use.
    expect(bundle).toMatch(/import\("@aws-sdk\/client-s3"\)/);
    expect(bundle).toMatch(/import\("@aws-sdk\/lib-storage"\)/);
    // The doctor action's clients cost nothing on a normal run.
    for (const client of ['client-iam', 'client-sts', 'client-ec2', 'client-cloudwatch-logs']) {
      expect(bundle).toMatch(new RegExp(`import\\("@aws-sdk/${client}"\\)`));
      expect(bundle).not.toMatch(new RegExp(`from\\s*"@aws-sdk/${client}"`));
    }
    expect(bundle).not.toMatch(/from\s*"ws"/);
    expect(fanOutBundle).toMatch(/from\s*"@aws-sdk\/client-ecs"/);
  });

  it('keeps the names the Step Functions retries and catches match', () => {
    expect(bundle).toContain('"AgentNotReady"');
    expect(bundle).toContain('"NonZeroExit"');
  });

  it('builds the same way for a benchmark as for the CDK asset', () => {
    const cdk = runnerBundlingOptions();
    const esbuild = esbuildBuildOptions(HANDLER_ENTRY, '/tmp/out/index.mjs');
    expect(esbuild).toMatchObject({
      entryPoints: [HANDLER_ENTRY],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: cdk.target,
      mainFields: cdk.mainFields,
      banner: { js: cdk.banner },
      minify: cdk.minify,
      sourcemap: cdk.sourceMap,
      keepNames: cdk.keepNames,
      external: cdk.externalModules,
    });
    expect(cdk.forceDockerBundling).toBe(false);
    expect(esbuildBuildOptions(HANDLER_ENTRY, 'x', { bundleAwsSdk: true }).external).toEqual([]);
  });
});
