/** Who is calling, and may they exec into the task (and must they not bypass ECS Exec)? */
import { CallerAction } from '../permissions';
import type { CallerFacts, Decisions, Fetched, Finding } from '../types';
import { finding, isAllowed, notChecked, statementJson } from './common';

export function checkCallerIdentity(caller: Fetched<CallerFacts>): Finding {
  const summary = 'caller identity';
  if (!caller.ok && !caller.denied) {
    // Not a missing permission (GetCallerIdentity needs none): no credentials, or no endpoint.
    return finding(
      'caller.identity',
      'fail',
      summary,
      `cannot call AWS: ${caller.message}`,
      'configure credentials and a region (AWS_PROFILE, AWS_REGION or --region), then run the doctor again',
    );
  }
  if (!caller.ok) return notChecked('caller.identity', summary, caller);
  const found =
    caller.value.arn === caller.value.principalArn
      ? caller.value.arn
      : `${caller.value.arn} (simulated as ${caller.value.principalArn})`;
  return finding('caller.identity', 'ok', summary, found);
}

export function checkCallerExecuteCommand(
  caller: Fetched<CallerFacts>,
  decisions: Fetched<Decisions>,
  taskArn: string,
): Finding {
  const id = 'caller.execute-command';
  const summary = `${CallerAction.ExecuteCommand} on the task`;
  if (!caller.ok) return notChecked(id, summary, caller);
  if (!decisions.ok) return notChecked(id, summary, decisions);
  const decision = decisions.value[CallerAction.ExecuteCommand];
  if (isAllowed(decision)) return finding(id, 'ok', summary, `allowed for ${caller.value.principalArn}`);
  return finding(
    id,
    'fail',
    summary,
    `${decision ?? 'not evaluated'} for ${caller.value.principalArn} on ${taskArn}`,
    `add to ${caller.value.principalArn}: ${statementJson([CallerAction.ExecuteCommand], [taskArn])} (CDK: grant on the task ARNs of the cluster)`,
  );
}

export function checkCallerStartSession(
  caller: Fetched<CallerFacts>,
  decisions: Fetched<Decisions>,
): Finding {
  const id = 'caller.ssm-start-session';
  const summary = `${CallerAction.StartSession} on the task is denied`;
  if (!caller.ok) return notChecked(id, summary, caller);
  if (!decisions.ok) return notChecked(id, summary, decisions);
  const decision = decisions.value[CallerAction.StartSession];
  if (!isAllowed(decision)) return finding(id, 'ok', summary, `${decision ?? 'not evaluated'}`);
  return finding(
    id,
    'warn',
    summary,
    `allowed: ${caller.value.principalArn} can open SSM sessions to the task directly, bypassing ECS Exec's logging and conditions`,
    `deny it: {"Effect":"Deny","Action":"ssm:StartSession","Resource":"arn:aws:ecs:*:*:task/*"} (ECS Exec documentation, "Limiting access to the Start Session action")`,
  );
}

export function checkCallerGenerateDataKey(
  caller: Fetched<CallerFacts>,
  decisions: Fetched<Decisions>,
  keyArn: string,
): Finding {
  const id = 'caller.kms-generate-data-key';
  const summary = `${CallerAction.GenerateDataKey} on the exec KMS key`;
  if (!caller.ok) return notChecked(id, summary, caller);
  if (!decisions.ok) return notChecked(id, summary, decisions);
  const decision = decisions.value[CallerAction.GenerateDataKey];
  if (isAllowed(decision)) return finding(id, 'ok', summary, `allowed on ${keyArn}`);
  return finding(
    id,
    'fail',
    summary,
    `${decision ?? 'not evaluated'} on ${keyArn}: the session's data key cannot be made`,
    `add to ${caller.value.principalArn}: ${statementJson([CallerAction.GenerateDataKey], [keyArn])} (the key policy must allow it too)`,
  );
}
