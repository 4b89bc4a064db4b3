/** The report for a terminal: one line per check with ✔ ⚠ ✘, what was found, and the fix. */
import type { DoctorReport } from './report';
import type { Finding, FindingStatus } from './types';

export const STATUS_SYMBOL: Readonly<Record<FindingStatus, string>> = { ok: '✔', warn: '⚠', fail: '✘' };
const ANSI = {
  ok: '\u001b[32m',
  warn: '\u001b[33m',
  fail: '\u001b[31m',
  dim: '\u001b[2m',
  reset: '\u001b[0m',
} as const;

export interface FormatOptions {
  /** ANSI colours (a terminal). @default false */
  readonly color?: boolean;
}

export function formatReport(report: DoctorReport, options: FormatOptions = {}): string {
  const paint = (status: FindingStatus | 'dim', text: string): string =>
    options.color ? `${ANSI[status]}${text}${ANSI.reset}` : text;
  const line = (f: Finding): string[] => {
    const head = `  ${paint(f.status, STATUS_SYMBOL[f.status])} ${f.summary}: ${f.found}`;
    return f.fix !== undefined ? [head, paint('dim', `      fix: ${f.fix}`)] : [head];
  };
  const { target } = report;
  const what =
    target.task !== undefined
      ? `task ${target.task}`
      : target.service !== undefined
        ? `service ${target.service}`
        : '';
  const lines = [
    `ECS Exec doctor: cluster ${target.cluster}, ${what}${target.container ? `, container ${target.container}` : ''} (${report.region})`,
    '',
    ...report.findings.flatMap(line),
  ];
  for (const task of report.tasks) {
    lines.push('', `Task ${task.taskArn}`, ...task.findings.flatMap(line));
  }
  lines.push('', `${paint(report.status, STATUS_SYMBOL[report.status])} ${report.summary}`);
  return `${lines.join('\n')}\n`;
}
