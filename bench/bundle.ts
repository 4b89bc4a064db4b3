import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esbuildBuildOptions, HANDLER_ENTRY } from '../lib/bundling';

/** Inside the project so that an external AWS SDK resolves from node_modules, as the runtime provides it. */
const OUT_DIR = join(__dirname, '..', '.bench');
const IMPORT_RUNS = 5;

export interface BundleFigures {
  readonly sdk: 'external' | 'bundled';
  readonly bytes: number;
  /** Median wall time of `await import(bundle)` in a fresh node process. */
  readonly coldImportMs: number;
}

export async function benchBundle(bundleAwsSdk: boolean): Promise<BundleFigures> {
  mkdirSync(OUT_DIR, { recursive: true });
  const outfile = join(OUT_DIR, bundleAwsSdk ? 'handler-sdk.mjs' : 'handler.mjs');
  await build({ ...esbuildBuildOptions(HANDLER_ENTRY, outfile, { bundleAwsSdk }), logLevel: 'error' });
  const url = pathToFileURL(outfile).href;
  const script = `const t=performance.now(); await import(${JSON.stringify(url)}); process.stdout.write(String(performance.now()-t));`;
  const times: number[] = [];
  for (let i = 0; i < IMPORT_RUNS; i++) {
    times.push(
      Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })),
    );
  }
  times.sort((a, b) => a - b);
  return {
    sdk: bundleAwsSdk ? 'bundled' : 'external',
    bytes: statSync(outfile).size,
    coldImportMs: times[Math.floor(times.length / 2)] as number,
  };
}
