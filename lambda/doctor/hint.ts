/**
 * Hints in our own errors: the likely cause of a TargetNotFound, AgentNotReady,
 * ExecuteCommandDenied or SessionFailed, and the doctor command for the same target. A JSON
 * message (the session errors) gains `likelyCause` and `doctor` members, its output tail trimmed
 * if that is what keeps it within the cause limit; a plain message gains one sentence.
 */
import { ExecErrorName } from '../contract';
import { ExecError } from '../errors';
import { fitToCauseLimit } from '../result';

export const LIKELY_CAUSE: Readonly<Partial<Record<ExecErrorName, string>>> = {
  [ExecErrorName.TargetNotFound]:
    'a wrong cluster, task or container name, a task that stopped, or a task started without ECS Exec',
  [ExecErrorName.AgentNotReady]:
    'an exec agent still starting, or one that cannot reach ssmmessages, lacks task role permissions or cannot write its files',
  [ExecErrorName.ExecuteCommandDenied]:
    "the runner's role lacks ecs:ExecuteCommand on the task, or kms:GenerateDataKey on the cluster's exec key",
  [ExecErrorName.SessionFailed]:
    'no network path from the task to ssmmessages (or KMS), a KMS key the task role cannot use, or an agent that quit',
};

export interface HintTarget {
  readonly cluster: string;
  readonly target:
    | { readonly kind: 'task'; readonly task: string }
    | { readonly kind: 'service'; readonly service: string };
  readonly container?: string;
}

export function doctorCommand(request: HintTarget): string {
  const what =
    request.target.kind === 'task' ? `--task ${request.target.task}` : `--service ${request.target.service}`;
  return `npx ecs-exec doctor --cluster ${request.cluster} ${what}${request.container !== undefined ? ` --container ${request.container}` : ''}`;
}

/** Adds the hint to one of the four errors (in place); any other error is returned as it is. */
export function withDoctorHint<E>(err: E, request: HintTarget): E {
  if (!(err instanceof ExecError)) return err;
  const cause = LIKELY_CAUSE[err.name];
  if (cause === undefined) return err;
  const command = doctorCommand(request);
  const json = parseObject(err.message);
  err.message =
    json === undefined
      ? `${err.message} (likely cause: ${cause}; run: ${command})`
      : fitToCauseLimit({ ...json, likelyCause: cause, doctor: `run: ${command}` });
  return err;
}

function parseObject(message: string): Record<string, unknown> | undefined {
  if (!message.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(message);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
