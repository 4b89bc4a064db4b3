/**
 * Each entry point of the package depends on what its package.json promises, read from its import
 * graph (esbuild's metafile of the sources, packages left external): the client on `ws` and the
 * two decompressors of the exact output channel (`fzstd`, `xz-decompress`), the
 * contract on nothing, the construct on aws-cdk-lib and constructs (never an AWS SDK client).
 */
import * as path from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT } from '../local/support';
import { REPO_PACKAGE } from './consumer-app';

interface ExternalImport {
  readonly path: string;
  readonly kind: string;
}

/** Every import that leaves the repository's sources, reached from `entry`. */
async function externalImports(entry: string): Promise<ExternalImport[]> {
  const result = await build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    logLevel: 'silent',
  });
  const found = Object.values(result.metafile.inputs).flatMap((input) =>
    input.imports.filter((i) => i.external).map((i) => ({ path: i.path, kind: i.kind })),
  );
  return [...new Map(found.map((i) => [`${i.kind} ${i.path}`, i])).values()];
}

const isBuiltin = (specifier: string): boolean => specifier.startsWith('node:');
const packageOf = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** The entry point's source module, from the exports map (`./dist/x/y.js` → `x/y.ts`). */
function sourceOf(subpath: string): string {
  const target = (REPO_PACKAGE as unknown as { exports: Record<string, { default?: string }> }).exports[
    subpath
  ]?.default;
  return String(target)
    .replace(/^\.\/dist\//, '')
    .replace(/\.js$/, '.ts');
}

describe('entry points and their dependencies', () => {
  it('maps the three entry points to the construct, the contract and the client', () => {
    expect(['.', './contract', './client'].map(sourceOf)).toEqual([
      'lib/index.ts',
      'exports/contract.ts',
      'exports/client.ts',
    ]);
  });

  it('ecs-exec-runner/client needs ws, the decompressors and node built-ins only (the runtime dependencies)', async () => {
    const imports = await externalImports(sourceOf('./client'));
    const packages = new Set(imports.filter((i) => !isBuiltin(i.path)).map((i) => packageOf(i.path)));
    expect([...packages].sort()).toEqual(['fzstd', 'ws', 'xz-decompress']);
    expect(Object.keys(REPO_PACKAGE.dependencies).sort()).toEqual(['fzstd', 'ws', 'xz-decompress']);
  });

  it('ecs-exec-runner/contract imports nothing at all', async () => {
    expect(await externalImports(sourceOf('./contract'))).toEqual([]);
  });

  it('the construct loads aws-cdk-lib and constructs (its peers), never an AWS SDK client', async () => {
    const imports = await externalImports(sourceOf('.'));
    const loaded = new Set(
      imports
        .filter((i) => i.kind === 'import-statement' && !isBuiltin(i.path))
        .map((i) => packageOf(i.path)),
    );
    expect([...loaded].sort()).toEqual(Object.keys(REPO_PACKAGE.peerDependencies).sort());
    // Bundling from source (this repository only) requires esbuild lazily, inside the function.
    const lazy = imports
      .filter((i) => i.kind !== 'import-statement' && !isBuiltin(i.path))
      .map((i) => i.path);
    expect(lazy).toEqual(['esbuild']);
  });
});
