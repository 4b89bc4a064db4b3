import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DEFAULT_JOBS_DIRECTORY } from '../../lambda/detach/scripts';
import {
  BUNDLE_ENTRY_FILE,
  ESM_REQUIRE_BANNER,
  lambdaBuildOptions,
  RUNNER_LAMBDAS,
  runnerLambdaCode,
} from '../../lib/bundling';
import type { CfnTemplate } from '../../lib/local/definition';
import { fastApp, runnerStack } from './helpers';

const PREBUILT_SOURCE = 'export const handler = async () => 1;\n';

/** Relative imports of an ESM file, static (`import … from "./x"`, `import "./x"`) or dynamic (`import("./x")`). */
function relativeImports(source: string): { readonly static: string[]; readonly dynamic: string[] } {
  return {
    static: [...source.matchAll(/(?:from|import)\s*"(\.\/[^"]+)"/g)].map((m) => m[1] as string),
    dynamic: [...source.matchAll(/import\("(\.\/[^"]+)"\)/g)].map((m) => m[1] as string),
  };
}

/** Every file the entry loads before the handler runs: it and its static imports, transitively. */
function startupFiles(dir: string, entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(path.join(dir, file), 'utf8');
    for (const imported of relativeImports(source).static) {
      visit(path.join(path.dirname(file), imported));
    }
  };
  visit(entry);
  return seen;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe('Lambda bundles built from source (this repository: local esbuild, no Docker)', () => {
  let execDir: string;
  let fanOutDir: string;
  let bundle: string;

  beforeAll(() => {
    const app = fastApp({ bundle: true });
    const { json } = runnerStack({ app });
    const assembly = app.synth();
    const assetDir = (descriptionPart: string): string => {
      const fn = Object.values(json.Resources).find(
        (r) =>
          r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Description).includes(descriptionPart),
      );
      const key = String((fn?.Properties?.Code as { S3Key?: string } | undefined)?.S3Key);
      return path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
    };
    execDir = assetDir('ECS Exec');
    fanOutDir = assetDir('fan-out');
    bundle = readFileSync(path.join(execDir, BUNDLE_ENTRY_FILE), 'utf8');
  });

  it('is minified ESM with the createRequire banner, split into chunks, without source maps or paths', () => {
    expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(bundle.split('\n').length).toBeLessThan(50);
    for (const dir of [execDir, fanOutDir]) {
      const files = filesUnder(dir);
      expect(files).toContain(BUNDLE_ENTRY_FILE);
      expect(files.some((file) => file.startsWith('chunks/'))).toBe(true);
      expect(files.filter((file) => !file.endsWith('.mjs'))).toEqual([]);
      for (const file of files) {
        const text = readFileSync(path.join(dir, file), 'utf8');
        // The detached jobs' documented default directory is not a path of this machine.
        const scrubbed = text.replaceAll(DEFAULT_JOBS_DIRECTORY, '');
        expect({ file, leaks: scrubbed.includes(process.cwd()) || scrubbed.includes(tmpdir()) }).toEqual({
          file,
          leaks: false,
        });
      }
    }
  });

  it('bundles the AWS SDK and ws (nothing left for the runtime to provide)', () => {
    for (const file of filesUnder(execDir)) {
      const text = readFileSync(path.join(execDir, file), 'utf8');
      expect(text).not.toMatch(/from\s*"(@aws-sdk|@smithy|ws|@aws-lambda-powertools)[^"]*"/);
      expect(text).not.toMatch(/import\("(@aws-sdk|@smithy)/);
    }
  });

  it("loads only ECS at start: KMS, SSM, S3, Step Functions, DynamoDB (idempotency) and the doctor action's clients are chunks read on first use", () => {
    const startup = [...startupFiles(execDir, BUNDLE_ENTRY_FILE)]
      .map((file) => readFileSync(path.join(execDir, file), 'utf8'))
      .join('\n');
    expect(startup).toContain('"ECSClient"');
    const doctorClients = ['IAMClient', 'STSClient', 'EC2Client', 'CloudWatchLogsClient'];
    for (const lazy of [
      'DynamoDBClient',
      'S3Client',
      'KMSClient',
      'SSMClient',
      'SFNClient',
      ...doctorClients,
    ]) {
      expect({ lazy, atStart: startup.includes(`"${lazy}"`) }).toEqual({ lazy, atStart: false });
    }
    expect(relativeImports(bundle).dynamic.length).toBeGreaterThan(3);
  });

  it('keeps the names the Step Functions retries and catches match', () => {
    const all = filesUnder(execDir)
      .map((file) => readFileSync(path.join(execDir, file), 'utf8'))
      .join('\n');
    expect(all).toContain('"AgentNotReady"');
    expect(all).toContain('"NonZeroExit"');
  });
});

describe('the code the construct deploys', () => {
  let prebuilt: string;
  beforeAll(() => {
    prebuilt = mkdtempSync(path.join(tmpdir(), 'prebuilt-'));
  });
  afterAll(() => rmSync(prebuilt, { recursive: true, force: true }));

  it('is the prebuilt bundle when the package ships one (no esbuild at synth)', () => {
    mkdirSync(path.join(prebuilt, 'exec'));
    writeFileSync(path.join(prebuilt, 'exec', BUNDLE_ENTRY_FILE), PREBUILT_SOURCE);
    const app = fastApp({ bundle: true });
    const stack = new Stack(app, 'Prebuilt');
    new lambda.Function(stack, 'Fn', {
      code: runnerLambdaCode('exec', prebuilt),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
    });
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;
    const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    const key = String((fn?.Properties?.Code as { S3Key?: string } | undefined)?.S3Key);
    const assetDir = path.join(app.synth().directory, `asset.${key.replace(/\.zip$/, '')}`);
    expect(filesUnder(assetDir)).toEqual([BUNDLE_ENTRY_FILE]);
    expect(readFileSync(path.join(assetDir, BUNDLE_ENTRY_FILE), 'utf8')).toBe(PREBUILT_SOURCE);
  });

  it('lists every function once and builds them split, minified, SDK inside, without maps', () => {
    expect(Object.keys(RUNNER_LAMBDAS)).toEqual(['exec', 'list-service-tasks', 'alerts']);
    const options = lambdaBuildOptions('/src/handler.ts', '/out');
    expect(options).toMatchObject({
      entryPoints: { index: '/src/handler.ts' },
      splitting: true,
      format: 'esm',
      minify: true,
      keepNames: true,
      sourcemap: false,
      external: [],
    });
    expect(lambdaBuildOptions('/src/handler.ts', '/out', 'sdk-external').external).toEqual([
      '@aws-sdk/*',
      '@smithy/*',
    ]);
  });
});
