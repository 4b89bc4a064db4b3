/**
 * `ecs-exec doctor`: diagnoses why ECS Exec would not work on a task or a service's tasks, with
 * this machine's credentials. Exit 0 when nothing fails (warnings allowed), 1 when a check fails.
 */
import { parseArgs } from 'node:util';
import { createAwsClients } from '../lambda/aws/clients';
import {
  createDoctorClients,
  type DoctorReport,
  type DoctorTarget,
  formatReport,
  runDoctor,
} from '../lambda/doctor';
import { execProbe } from '../lambda/doctor/probe';
import { parsedArgs } from './args';
import { usageError } from './execution-exit-codes';
import type { CliIo } from './run';

export const DoctorExitCode = { Healthy: 0, Failed: 1 } as const;
const JSON_INDENT = 2;

export const DOCTOR_USAGE = `Usage: ecs-exec doctor --cluster NAME|ARN (--task ID|ARN | --service NAME) [options]

Checks everything ECS Exec needs on a task (or every RUNNING task of a service) and prints one
line per check: ✔ fine, ⚠ worth a look, ✘ will stop ECS Exec, with what was found and the fix.
Uses this machine's AWS credentials; a check it has no permission to make is a ⚠, not an error.

  --cluster NAME|ARN
  --task ID|ARN            one task
  --service NAME           the service's settings and each of its RUNNING tasks
  --container NAME         only this container's agent and settings
  --region REGION          AWS region (default: the SDK's, e.g. AWS_REGION or the profile's)
  --probe                  also run \`true\` in each task through ECS Exec (a real session, ~30 s at most)
  --json                   print the report as JSON
  -h, --help

Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 64 usage error, 70 other error.
`;

const DOCTOR_OPTIONS = {
  cluster: { type: 'string' },
  task: { type: 'string' },
  service: { type: 'string' },
  container: { type: 'string' },
  region: { type: 'string' },
  probe: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface DoctorCliOptions {
  readonly target: DoctorTarget;
  readonly region?: string;
  readonly probe: boolean;
  readonly json: boolean;
  readonly color: boolean;
}

/** Parses the arguments; undefined when --help was asked for (and printed). */
export function parseDoctorArgs(args: readonly string[], io: CliIo): DoctorCliOptions | undefined {
  const { values, positionals } = parsedArgs(() =>
    parseArgs({ args: [...args], options: DOCTOR_OPTIONS, allowPositionals: true, strict: true }),
  );
  if (values.help) {
    io.stdout.write(DOCTOR_USAGE);
    return undefined;
  }
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`);
  if (values.cluster === undefined) throw usageError('--cluster is required');
  if ((values.task === undefined) === (values.service === undefined)) {
    throw usageError('give exactly one of --task and --service');
  }
  const target: DoctorTarget = {
    cluster: values.cluster,
    ...(values.task !== undefined ? { task: values.task } : {}),
    ...(values.service !== undefined ? { service: values.service } : {}),
    ...(values.container !== undefined ? { container: values.container } : {}),
  };
  const stdout = io.stdout as { isTTY?: boolean };
  return {
    target,
    ...(values.region !== undefined ? { region: values.region } : {}),
    probe: values.probe === true,
    json: values.json === true,
    color: stdout.isTTY === true && process.env.NO_COLOR === undefined,
  };
}

export function doctorExitCode(report: DoctorReport): number {
  return report.status === 'fail' ? DoctorExitCode.Failed : DoctorExitCode.Healthy;
}

export function writeReport(
  report: DoctorReport,
  options: Pick<DoctorCliOptions, 'json' | 'color'>,
  io: CliIo,
): void {
  io.stdout.write(
    options.json
      ? `${JSON.stringify(report, null, JSON_INDENT)}\n`
      : formatReport(report, { color: options.color }),
  );
}

export async function doctorSubcommand(args: readonly string[], io: CliIo): Promise<number> {
  const options = parseDoctorArgs(args, io);
  if (options === undefined) return DoctorExitCode.Healthy;
  const region = options.region !== undefined ? { region: options.region } : {};
  const clients = createDoctorClients(region);
  const execClients = options.probe ? createAwsClients(region) : undefined;
  try {
    const report = await runDoctor(clients, options.target, {
      ...(execClients !== undefined
        ? {
            probe: execProbe(execClients, {
              cluster: options.target.cluster,
              ...(options.target.container !== undefined ? { container: options.target.container } : {}),
            }),
          }
        : {}),
    });
    writeReport(report, options, io);
    return doctorExitCode(report);
  } finally {
    await clients.destroy();
    execClients?.ecs.destroy();
  }
}
