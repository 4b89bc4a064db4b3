/** The README's props table of "Add it to your CDK app" lists exactly the construct's props. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../local/support';

function declaredProps(): string[] {
  const source = readFileSync(path.join(REPO_ROOT, 'lib', 'ecs-exec-runner-props.ts'), 'utf8');
  const body = /export interface EcsExecRunnerProps \{([\s\S]*?)\n\}/.exec(source)?.[1] ?? '';
  return [...body.matchAll(/^ {2}readonly (\w+)\??:/gm)].map((m) => m[1] as string);
}

function documentedProps(): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = /## Add it to your CDK app\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const table = /\| prop \| default \| meaning \|\n\|[-|]+\|\n((?:\|.*\|\n)+)/.exec(section)?.[1] ?? '';
  return [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1] as string);
}

describe('README props table', () => {
  it('has one row per EcsExecRunnerProps prop, in the same order', () => {
    expect(declaredProps().length).toBeGreaterThan(10);
    expect(documentedProps()).toEqual(declaredProps());
  });
});
