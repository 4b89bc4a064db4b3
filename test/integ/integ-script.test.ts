/**
 * `npm run integ` offline: without usable credentials it refuses, says why and what to do, and
 * deploys nothing; and it reads the assertion results the way integ-runner does.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { assertionVerdict, EXIT_NO_CREDENTIALS, STS_TIMEOUT_ENV } from '../../scripts/integ-support';
import { REPO_ROOT } from '../local/support';

const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'integ.ts');
const SHORT_STS_TIMEOUT_MS = 1_000;

interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The script in an environment of our making: no profile files, no instance metadata. */
function runScript(extraEnv: Record<string, string>): Promise<ScriptRun> {
  const home = mkdtempSync(path.join(tmpdir(), 'integ-script-home-'));
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'eu-west-1',
    ...extraEnv,
  };
  return new Promise((resolve) => {
    execFile(TSX, [SCRIPT], { cwd: REPO_ROOT, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function expectRefusal(run: ScriptRun, reason: RegExp): void {
  expect(run.code).toBe(EXIT_NO_CREDENTIALS);
  expect(run.stderr).toContain('refusing to run: npm run integ deploys to a real AWS account');
  expect(run.stderr).toMatch(reason);
  expect(run.stderr).toContain('Nothing was deployed.');
  expect(run.stdout).not.toContain('cdk deploy');
}

const FAKE_KEYS = { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'not-a-real-secret' };

async function listening(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('npm run integ without an account', () => {
  it('is what npm run integ runs', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.integ).toBe('tsx scripts/integ.ts');
  });

  it('refuses without credentials, with the reason and what to set', async () => {
    expectRefusal(await runScript({}), /Could not load credentials/);
  });

  it('refuses when STS cannot be reached', async () => {
    const closed = createServer();
    const endpoint = await listening(closed);
    closed.close();
    await once(closed, 'close');
    expectRefusal(await runScript({ ...FAKE_KEYS, AWS_ENDPOINT_URL_STS: endpoint }), /ECONNREFUSED/);
  });

  it('refuses when STS does not answer within the timeout', async () => {
    const silent = createServer(() => {
      // Never answers: the script's own timeout must end the wait.
    });
    const endpoint = await listening(silent);
    try {
      const run = await runScript({
        ...FAKE_KEYS,
        AWS_ENDPOINT_URL_STS: endpoint,
        [STS_TIMEOUT_ENV]: String(SHORT_STS_TIMEOUT_MS),
      });
      expectRefusal(run, /did not answer within 1000 ms|timeout/i);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describe('assertion results (the assertion stack outputs)', () => {
  const success = JSON.stringify({ status: 'success' });

  it('passes when every result is a success', () => {
    expect(
      assertionVerdict({
        EcsExecRunnerIntegAssertions: { AssertionResultsA: success, AssertionResultsB: success, Other: 'x' },
        EcsExecRunnerInteg: { ClusterName: 'c' },
      }),
    ).toEqual({ passed: 2, failures: [] });
  });

  it('reports a failed and an unreadable result by stack and output', () => {
    const verdict = assertionVerdict({
      S: {
        AssertionResultsA: success,
        AssertionResultsB: JSON.stringify({
          status: 'fail',
          message: 'Expected SUCCEEDED but received FAILED',
        }),
        AssertionResultsC: 'not json',
      },
    });
    expect(verdict.passed).toBe(1);
    expect(verdict.failures).toEqual([
      'S.AssertionResultsB: Expected SUCCEEDED but received FAILED',
      'S.AssertionResultsC: unreadable result "not json"',
    ]);
  });

  it('fails when there is no result at all (nothing was checked)', () => {
    expect(assertionVerdict({ S: { ClusterName: 'c' } }).failures).toEqual([
      'no assertion results in the stack outputs',
    ]);
  });
});
