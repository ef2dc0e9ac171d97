import type { AlertServiceHandle } from '../core/alerts/service';
import type { FrameArchive } from '../core/archive/frame-archive';
import type { JobHandle, Scheduler } from '../core/jobs/scheduler';
import type { EventJournal } from '../core/store/journal';

/**
 * How often the system retention jobs run: the timed pass (age limits, an idle install) that the journal and the
 * archive ran on their own 60 s timers before; the runtime opens them without those timers (`enforceEveryMs: null`),
 * so pausing the job pauses it. The size checks after writes still run whatever the job says.
 */
export const RETENTION_EVERY_MS = 60_000;

/** How often the alert outbox is swept for due deliveries besides the worker's own wake-ups (the same 5 s as its poll). */
export const ALERT_SWEEP_EVERY_MS = 5_000;

export interface SystemJobSources {
  journal?: EventJournal;
  archive?: FrameArchive;
  alerts?: Pick<AlertServiceHandle, 'sweep' | 'pauseDeliveries'>;
}

/** Registers Glimpser's own scheduled work as jobs owned by `system`; returns their handles. */
export function registerSystemJobs(scheduler: Scheduler, sources: SystemJobSources): JobHandle[] {
  const handles: JobHandle[] = [];
  const { journal, archive } = sources;
  const schedule = { kind: 'interval', everyMs: RETENTION_EVERY_MS } as const;
  if (journal) {
    handles.push(
      scheduler.register({ id: 'retention.journal', kind: 'retention', owner: 'system', schedule }, () => {
        const { deleted, bytes } = journal.enforceRetention();
        return Promise.resolve(`deleted ${deleted.age} events by age and ${deleted.size} by size; ${bytes.total} bytes kept`);
      }),
    );
  }
  if (archive) {
    handles.push(
      scheduler.register({ id: 'retention.archive', kind: 'retention', owner: 'system', schedule }, async () => {
        const deleted = await archive.enforce();
        return `deleted ${deleted} frames`;
      }),
    );
  }
  if (sources.alerts) {
    const alerts = sources.alerts;
    const id = 'alerts.sweep';
    handles.push(
      scheduler.register({ id, kind: 'alerts', owner: 'system', schedule: { kind: 'interval', everyMs: ALERT_SWEEP_EVERY_MS } }, () => {
        const { pending, dead } = alerts.sweep();
        return Promise.resolve(`${pending} deliveries pending, ${dead} dead-lettered`);
      }),
    );
    // Pausing this job holds every delivery (maintenance of a receiver, a storm of alerts); the pause outlives restarts.
    alerts.pauseDeliveries(scheduler.state(id).paused);
    scheduler.onState((state) => {
      if (state.id === id) alerts.pauseDeliveries(state.paused);
    });
  }
  return handles;
}
