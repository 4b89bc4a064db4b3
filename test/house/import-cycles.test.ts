import * as path from 'node:path';
import { importCycles, importGraph, sourceFiles } from '../support/import-graph';

const ROOT = path.join(__dirname, '..', '..');
const relative = (file: string): string => path.relative(ROOT, file);

describe('import graph', () => {
  it('finds a cycle, type-only imports included', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(importCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no import cycle in the project', () => {
    const files = sourceFiles(ROOT, ['lambda', 'lib', 'local', 'cli', 'scripts', 'bench', 'bin', 'config']);
    expect(files.length).toBeGreaterThan(50);
    const cycles = importCycles(importGraph(files)).map((group) => group.map(relative));
    expect(cycles).toEqual([]);
  });
});
