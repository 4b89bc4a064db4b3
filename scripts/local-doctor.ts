/**
 * `npm start -- doctor [--cluster C (--task T | --service S)] [--probe] [--json]`: `ecs-exec doctor`
 * against the local world, which has healthy targets (`local`, `local-kms`) and targets broken in
 * each way the doctor diagnoses, so a newcomer sees real reports with no AWS account.
 */
import { DOCTOR_USAGE, doctorSubcommand } from '../cli/doctor';
import type { CliIo } from '../cli/run';
import { DEFAULT_WORLD_IDS, defaultWorld, FAST_SESSION_DEFAULTS, startFakeAws } from '../local/fake-aws';
import { addDoctorTargets, DOCTOR_TARGETS } from '../local/fake-aws/doctor-targets';

const t = DOCTOR_TARGETS;

/** The broken targets, each with what is wrong with it. */
export const LOCAL_DOCTOR_TARGETS: ReadonlyArray<readonly [string, string, string]> = [
  [t.cluster, `--service ${t.execOffService}`, 'ECS Exec not enabled on the service'],
  [t.cluster, `--service ${t.rolloutService}`, 'enabled on the service, task needs a new deployment'],
  [t.cluster, `--task ${t.tasks.agentStopped}`, 'exec agent STOPPED'],
  [t.cluster, `--task ${t.tasks.readonlyRoot}`, 'read-only root filesystem'],
  [t.cluster, `--task ${t.tasks.noSsmmessages}`, 'task role without ssmmessages'],
  [t.cluster, `--task ${t.tasks.noTaskRole}`, 'no task role'],
  [t.cluster, `--task ${t.tasks.noRoute}`, 'no route to ssmmessages, no VPC endpoint'],
  [t.cluster, `--task ${t.tasks.noPublicIp}`, 'internet gateway route but no public IP'],
  [t.cluster, `--task ${t.tasks.sharedSubnet}`, 'subnet shared through AWS RAM'],
  [t.cluster, `--task ${t.tasks.oldPlatform}`, 'Fargate platform 1.3.0'],
  [t.cluster, `--task ${t.tasks.ec2OldAgent}`, 'EC2 container agent too old (instance role)'],
  [t.cluster, `--task ${t.tasks.stopped}`, 'task STOPPED'],
  [t.cluster, `--task ${t.tasks.warnings}`, 'warnings only: pidMode task, no init process, AWS keys in env'],
  [`${t.kmsCluster}-disabled`, `--task ${t.tasks.kmsDisabled}`, 'exec KMS key disabled'],
  [t.kmsCluster, `--task ${t.tasks.kmsNoDecrypt}`, 'task role cannot kms:Decrypt'],
  [t.kmsCluster, `--task ${t.tasks.kmsNoEndpoint}`, 'VPC endpoints without kms, no NAT'],
  [t.loggingCluster, `--task ${t.tasks.logging}`, 'log bucket missing, log group unencrypted'],
];

export function localTargetsHelp(): string {
  const lines = LOCAL_DOCTOR_TARGETS.map(
    ([cluster, target, what]) => `  npm start -- doctor --cluster ${cluster} ${target}\n      ${what}`,
  );
  return `Local targets (healthy: --cluster ${DEFAULT_WORLD_IDS.cluster} --service ${DEFAULT_WORLD_IDS.service}, --cluster ${DEFAULT_WORLD_IDS.kmsCluster} --service ${DEFAULT_WORLD_IDS.kmsService}); broken:\n${lines.join('\n')}\n`;
}

/** Runs the doctor against a fresh local world; returns the exit code. */
export async function localDoctor(
  argv: readonly string[],
  io: CliIo,
  options: { fastAgent?: boolean } = {},
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(
      `${DOCTOR_USAGE.replace(/ecs-exec doctor/g, 'npm start -- doctor')}\n${localTargetsHelp()}`,
    );
    return 0;
  }
  const targeted = argv.some((arg) =>
    ['--cluster', '--task', '--service'].includes(arg.split('=')[0] ?? arg),
  );
  const args = targeted
    ? argv
    : ['--cluster', DEFAULT_WORLD_IDS.cluster, '--service', DEFAULT_WORLD_IDS.service, ...argv];
  const fake = await startFakeAws({
    world: addDoctorTargets(defaultWorld()),
    ...(options.fastAgent ? { sessionDefaults: FAST_SESSION_DEFAULTS } : {}),
  });
  const restore = fake.applyEnv();
  try {
    const code = await doctorSubcommand(args, io);
    if (!targeted) io.stderr.write(`\n${localTargetsHelp()}`);
    return code;
  } finally {
    restore();
    await fake.close();
  }
}
