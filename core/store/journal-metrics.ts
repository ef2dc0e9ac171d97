import { Counter, Gauge, register } from 'prom-client';

/**
 * The journal's metrics. They belong in core/metrics.ts with every other glimpser_* metric; until they move
 * there, each is looked up on the default registry first, so whichever module loads second reuses it.
 */
function counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
  return (register.getSingleMetric(name) as Counter<string> | undefined) ?? new Counter({ name, help, labelNames });
}

function gauge(name: string, help: string, labelNames: string[] = []): Gauge<string> {
  return (register.getSingleMetric(name) as Gauge<string> | undefined) ?? new Gauge({ name, help, labelNames });
}

export const journalMetrics = {
  eventsTotal: counter('glimpser_events_total', 'Events stored in the event journal, per camera and type.', ['camera', 'type']),
  journalEvents: gauge('glimpser_event_journal_events', 'Events in the event journal, kept ones included.'),
  journalBytes: gauge('glimpser_event_journal_bytes', 'Bytes of the event journal on disk: database, write-ahead log and snapshots.'),
  deletionsTotal: counter('glimpser_event_deletions_total', 'Events deleted by journal retention, by rule (age, size).', ['reason']),
  publishFailuresTotal: counter('glimpser_event_publish_failures_total', 'Event changes that could not be published on the bus, by reason (error, overflow).', ['reason']),
};
