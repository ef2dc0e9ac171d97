import { metrics } from '../metrics';

/** The journal's metrics, declared with all the others in core/metrics.ts. */
export const journalMetrics = {
  eventsTotal: metrics.eventsTotal,
  journalEvents: metrics.eventJournalEvents,
  journalBytes: metrics.eventJournalBytes,
  deletionsTotal: metrics.eventDeletionsTotal,
  publishFailuresTotal: metrics.eventPublishFailuresTotal,
  interruptedTotal: metrics.eventsInterruptedTotal,
};
