/**
 * `--history` / `ecs-exec history ARN`: an execution's events (GetExecutionHistory, every page) as
 * a timeline relative to the first event:
 *
 * ```
 * +0.000s  ExecutionStarted
 * +0.012s  TaskStateEntered RunCommand
 * +1.204s  TaskSucceeded RunCommand
 * ```
 *
 * Task and Lambda events carry no state name in Step Functions' history; the state they belong to
 * is the last one entered, so the timeline names it. Failures add their error name.
 */
import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';

/** Step Functions' largest history page: fewer round trips for long histories. */
const HISTORY_PAGE_SIZE = 1000;
const MS_PER_SECOND = 1000;
const SECONDS_DECIMALS = 3;

export async function fetchHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: HISTORY_PAGE_SIZE,
        // Inputs and outputs can be 256 KiB each; the timeline shows neither.
        includeExecutionData: false,
        ...(nextToken !== undefined ? { nextToken } : {}),
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return events;
}

interface EventDetails {
  readonly name?: unknown;
  readonly error?: unknown;
}

/** The `…EventDetails` members of an event (one per event type). */
function detailsOf(event: HistoryEvent): EventDetails[] {
  return Object.entries(event)
    .filter(([key, value]) => key.endsWith('EventDetails') && value !== null && typeof value === 'object')
    .map(([, value]) => value as EventDetails);
}

export function formatTimeline(events: readonly HistoryEvent[]): string {
  const first = events[0]?.timestamp?.getTime();
  if (first === undefined) return '';
  let state: string | undefined;
  const rows = events.map((event) => {
    const details = detailsOf(event);
    const named = details.find((d) => typeof d.name === 'string')?.name as string | undefined;
    const type = event.type ?? 'Unknown';
    if (named !== undefined && type.endsWith('StateEntered')) state = named;
    const subject = named ?? (/^(Task|Lambda|Activity)/.test(type) ? state : undefined);
    const error = details.find((d) => typeof d.error === 'string')?.error as string | undefined;
    const offset = ((event.timestamp?.getTime() ?? first) - first) / MS_PER_SECOND;
    const label = [type, subject, error].filter((part) => part !== undefined && part !== '').join(' ');
    return { time: `+${offset.toFixed(SECONDS_DECIMALS)}s`, label };
  });
  const width = Math.max(...rows.map((row) => row.time.length));
  return rows.map((row) => `${row.time.padStart(width)}  ${row.label}\n`).join('');
}
