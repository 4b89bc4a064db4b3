/**
 * Every command in the README's shell blocks is exercised by the README tests (or by .ci/run): the
 * npm, npx and ecs-exec commands run as written, against the local environment where they need AWS
 * (npm-start, cdk-synth, ecs-exec-cli and bench tests); the aws CLI commands (no AWS here) have
 * their payloads and flags checked here. A new README command fails this test until it is given an
 * exerciser.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isDoctorEvent, parseDoctorEvent, parseExecEvent } from '../../lambda/event';
import { REPO_ROOT } from '../local/support';
import { commands } from './readme-commands';

describe('README commands', () => {
  it('has the commands this test knows how to exercise', () => {
    const known = [
      /^npm ci$/,
      /^npm test$/,
      /^npm run (lint|bench)$/,
      /^npm run build$/,
      // Needs an AWS account: test/integ/integ-script.test.ts runs the script without one (it refuses).
      /^npm run integ$/,
      /^npm install ecs-exec-runner /,
      /^npm start /,
      /^npx cdk (synth|deploy)/,
      /^npx ecs-exec /,
      /^aws stepfunctions start-execution /,
      /^aws lambda invoke /,
      /^cat result\.json$/,
    ];
    const unknown = commands.filter((command) => !known.some((pattern) => pattern.test(command)));
    expect(unknown).toEqual([]);
    expect(commands.length).toBeGreaterThan(15);
  });

  it('runs the test command exactly as .ci/run does, and npm test includes type checks, lint and jest', () => {
    expect(commands).toContain('npm ci');
    expect(commands).toContain('npm test');
    expect(readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm ci && npm test$/m);
    const scripts = (
      JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(scripts.test).toBe('tsc && biome check . && jest');
    expect(scripts.lint).toBe('biome check .');
    expect(scripts.bench).toMatch(/bench\/run\.ts/);
  });

  it('installs the package with its peers, and builds what test/package/install.test.ts packs and installs', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      name: string;
      scripts: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    expect(commands.filter((command) => command.startsWith('npm install '))).toEqual([
      `npm install ${[pkg.name, ...Object.keys(pkg.peerDependencies)].join(' ')}`,
    ]);
    expect(commands).toContain('npm run build');
    expect(pkg.scripts.prepack).toBe('npm run build');
  });

  it('gives aws stepfunctions start-execution an input the Lambda accepts', () => {
    const starts = commands.filter((command) => command.startsWith('aws stepfunctions start-execution'));
    expect(starts.length).toBeGreaterThan(0);
    for (const command of starts) {
      const input = /--input '([^']+)'/.exec(command)?.[1];
      expect(input).toBeDefined();
      expect(parseExecEvent(JSON.parse(input as string), { cluster: 'demo' }).command.length).toBeGreaterThan(
        0,
      );
    }
  });

  it('calls aws lambda invoke with a valid payload and the flags that keep it from running twice', () => {
    const invokes = commands.filter((command) => command.startsWith('aws lambda invoke'));
    expect(invokes.length).toBeGreaterThan(0);
    for (const command of invokes) {
      expect(command).toContain('--cli-binary-format raw-in-base64-out');
      expect(command).toMatch(/--cli-read-timeout 0\b/);
      const payload = JSON.parse(/--payload '([^']+)'/.exec(command)?.[1] as string) as unknown;
      if (isDoctorEvent(payload)) {
        // The doctor only reads: it needs no idempotency key.
        expect(parseDoctorEvent(payload, { cluster: 'demo' }).cluster).toBe('demo');
      } else {
        expect(parseExecEvent(payload, { cluster: 'demo' }).idempotencyKey).toBeDefined();
      }
    }
  });
});
