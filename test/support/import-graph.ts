/**
 * The project's static import graph, type-only imports included (they tie modules together as
 * much as value imports do), parsed with swc, and its cycles. madge 8 wants TypeScript 5 as a peer
 * and dependency-cruiser Node 22, so this small walk stands in for them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseSync } from '@swc/core';

const SKIPPED_DIRECTORIES = new Set(['node_modules', 'cdk.out', 'dist', '.git']);

export function sourceFiles(root: string, directories: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry)) walk(full);
      } else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) {
        files.push(full);
      }
    }
  };
  for (const dir of directories) walk(path.join(root, dir));
  return files.sort();
}

/** Relative module specifiers imported or re-exported by the file. */
function importedSpecifiers(file: string): string[] {
  const module = parseSync(readFileSync(file, 'utf8'), { syntax: 'typescript', target: 'es2022' });
  const specifiers: string[] = [];
  for (const item of module.body) {
    if (
      (item.type === 'ImportDeclaration' ||
        item.type === 'ExportAllDeclaration' ||
        item.type === 'ExportNamedDeclaration') &&
      item.source !== undefined &&
      item.source !== null
    ) {
      specifiers.push(item.source.value);
    }
  }
  return specifiers.filter((s) => s.startsWith('.'));
}

function resolve(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier.replace(/\.js$/, ''));
  return [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => existsSync(candidate));
}

export function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = importedSpecifiers(file)
      .map((specifier) => resolve(file, specifier))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected groups of more than one module (or a module importing itself), sorted. */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(group.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}
