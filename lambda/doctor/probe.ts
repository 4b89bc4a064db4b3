/**
 * The live probe: runs `true` in the task through the same path as a real run (resolve the
 * target, ExecuteCommand, our own data-channel client), with a short deadline. The checks can all
 * pass while exec still fails (an SCP, a security group, a crashed agent): this says what happens.
 */
import type { AwsClients } from '../aws/clients';
import { DEFAULT_OUTPUT_LIMIT_BYTES } from '../event';
import { LAMBDA_SAFETY_MARGIN_MS, runExec } from '../service';
import { DEFAULT_TRANSFER } from '../ssm/transfer/modes';
import type { SessionLogger } from '../ssm/types';
import type { TaskFacts } from './types';

export const PROBE_TIMEOUT_SECONDS = 30;
const PROBE_COMMAND = 'true';
const MS_PER_SECOND = 1000;

export type Probe = (task: TaskFacts) => Promise<{ ok: boolean; detail: string }>;

const quietLogger: SessionLogger = { debug: () => {}, info: () => {}, warn: () => {} };

export interface ProbeOptions {
  readonly cluster: string;
  readonly container?: string;
  /** Milliseconds the caller may still spend (the Lambda's remaining time). @default the probe timeout plus margin */
  readonly remainingMs?: () => number;
  readonly logger?: SessionLogger;
}

export function execProbe(clients: AwsClients, options: ProbeOptions): Probe {
  return async (task) => {
    if (task.lastStatus !== 'RUNNING')
      return { ok: false, detail: `not run: the task is ${task.lastStatus}` };
    const container =
      options.container ?? (task.containers.length === 1 ? task.containers[0]?.name : undefined);
    const started = Date.now();
    try {
      const result = await runExec(
        {
          command: PROBE_COMMAND,
          cluster: options.cluster,
          target: { kind: 'task', task: task.arn },
          ...(container !== undefined ? { container } : {}),
          shell: true,
          tty: false,
          timeoutSeconds: PROBE_TIMEOUT_SECONDS,
          outputLimitBytes: DEFAULT_OUTPUT_LIMIT_BYTES,
          stripAnsi: true,
          failOnNonZeroExit: true,
          transfer: DEFAULT_TRANSFER,
        },
        { clients, logger: options.logger ?? quietLogger, config: {} },
        {
          remainingMs:
            options.remainingMs ?? (() => PROBE_TIMEOUT_SECONDS * MS_PER_SECOND + LAMBDA_SAFETY_MARGIN_MS),
        },
      );
      return {
        ok: true,
        detail: `ran \`${PROBE_COMMAND}\` in ${result.container}: exit ${result.exitCode} in ${Date.now() - started} ms (session ${result.sessionId})`,
      };
    } catch (err) {
      const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      return { ok: false, detail: `failed after ${Date.now() - started} ms: ${text}` };
    }
  };
}
