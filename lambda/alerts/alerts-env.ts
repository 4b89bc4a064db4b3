/** Environment of the alerts function (set by lib/alerts.ts). No imports: the construct loads it at synth. */
export const AlertsEnv = { TopicArn: 'ALERTS_TOPIC_ARN' } as const;
