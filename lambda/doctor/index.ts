/**
 * `ecs-exec doctor`: says why ECS Exec will not work on a target and how to fix it. The fetch
 * layer (facts.ts, fetch.ts) gathers facts, tolerating denials; pure checks (checks/*.ts) turn
 * them into findings; report.ts assembles them, format.ts renders them for a terminal.
 */
import type { DoctorClients } from './clients';
import { type GatherOptions, gatherFacts } from './facts';
import { buildReport, type DoctorReport } from './report';
import type { DoctorTarget } from './types';

export { createDoctorClients, type DoctorClients } from './clients';
export { formatReport } from './format';
export type { DoctorReport, TaskReport } from './report';
export type { DoctorTarget, Finding, FindingStatus } from './types';

export interface DoctorOptions {
  /** Runs `true` through ECS Exec in each task examined. */
  readonly probe?: GatherOptions['probe'];
}

export async function runDoctor(
  clients: DoctorClients,
  target: DoctorTarget,
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const region = await clients.ecs.config.region();
  const facts = await gatherFacts(clients, target, {
    region,
    ...(options.probe ? { probe: options.probe } : {}),
  });
  return buildReport(facts);
}
