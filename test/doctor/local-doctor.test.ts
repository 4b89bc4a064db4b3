/** `npm start -- doctor`: the doctor against a fresh local world with its broken targets. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_WORLD_IDS } from '../../local/fake-aws';
import { DOCTOR_TARGETS } from '../../local/fake-aws/doctor-targets';
import { LOCAL_DOCTOR_TARGETS, localDoctor } from '../../scripts/local-doctor';

async function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const stream = (key: 'stdout' | 'stderr') => ({
    write: (chunk: string) => {
      out[key] += chunk;
      return true;
    },
  });
  const code = await localDoctor(
    argv,
    { stdout: stream('stdout'), stderr: stream('stderr') },
    { fastAgent: true },
  );
  return { code, ...out };
}

describe('npm start -- doctor', () => {
  it('with no target: the healthy local service, all ✔, then the broken targets to try', async () => {
    const { code, stdout, stderr } = await run([]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      `ECS Exec doctor: cluster ${DEFAULT_WORLD_IDS.cluster}, service ${DEFAULT_WORLD_IDS.service}`,
    );
    expect(stdout).not.toMatch(/[⚠✘]/);
    expect(stderr).toContain(
      `npm start -- doctor --cluster ${DOCTOR_TARGETS.cluster} --task ${DOCTOR_TARGETS.tasks.readonlyRoot}`,
    );
  });

  it('lists every broken target of the local world (the CLI e2e test diagnoses each)', () => {
    const listed = LOCAL_DOCTOR_TARGETS.map(([, target]) => target).join(' ');
    const viaServices: string[] = [DOCTOR_TARGETS.tasks.execOff, DOCTOR_TARGETS.tasks.rollout];
    for (const id of Object.values(DOCTOR_TARGETS.tasks).filter((id) => !viaServices.includes(id))) {
      expect(listed).toContain(id);
    }
    expect(listed).toContain(`--service ${DOCTOR_TARGETS.execOffService}`);
    expect(listed).toContain(`--service ${DOCTOR_TARGETS.rolloutService}`);
  });

  it('a broken target fails with exit 1', async () => {
    const { code, stdout } = await run([
      '--cluster',
      DOCTOR_TARGETS.cluster,
      '--task',
      DOCTOR_TARGETS.tasks.readonlyRoot,
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✘ root filesystem writable/);
  });

  it("the README's sample report is what the local world answers today", async () => {
    const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const command = /from\s+`npm start -- doctor (--cluster \S+ --task \S+)`/.exec(readme)?.[1];
    expect(command).toBeDefined();
    const { stdout } = await run((command as string).split(' '));
    expect(readme).toContain(`\`\`\`text\n${stdout}\`\`\``);
  });

  it('--help lists the local targets', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('npm start -- doctor --cluster');
    expect(stdout).toContain('read-only root filesystem');
  });
});
