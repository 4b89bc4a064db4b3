import type { ScheduleConfig } from '../lib/schedules';

/**
 * Schedules of the demo stack (its cluster and service are the runner's defaults, so events need
 * not name them). The `schedules` context value replaces this list; see lib/schedules.ts.
 */
export const DEMO_SCHEDULES: readonly ScheduleConfig[] = [
  {
    name: 'daily-disk-usage',
    description: 'Every morning: disk usage of every task of the demo service',
    expression: 'cron(0 6 * * ? *)',
    timeZone: 'Etc/UTC',
    target: 'fan-out',
    event: { command: 'df -h /', maxConcurrency: 2 },
  },
  {
    name: 'hourly-uptime',
    description: 'Every hour: uptime of one task of the demo service',
    expression: 'rate(1 hour)',
    target: 'run-command',
    event: { command: 'uptime', timeoutSeconds: 60 },
    // Created paused: enable it (here or in the console) to try a schedule every hour.
    enabled: false,
  },
];
