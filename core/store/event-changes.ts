import type { Logger } from '../log/logger';
import type { StoredEvent } from './event';

/** Frigate's event message types: `end` is the update that gives the event its end time. */
export type EventChangeType = 'new' | 'update' | 'end';

export interface EventChange {
  type: EventChangeType;
  before: StoredEvent | null;
  after: StoredEvent;
}

export type EventChangeListener = (change: EventChange) => void;

/** The journal's change listeners. One that throws is logged; the others still run and the writer never sees it. */
export class EventChangeListeners {
  private readonly listeners = new Set<EventChangeListener>();
  /** Changes announced so far: part of the journal's version (EventJournal.version). */
  announced = 0;

  constructor(private readonly log: Logger) {}

  add(listener: EventChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  announce(change: EventChange): void {
    this.announced++;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ err: (err as Error).message, event: change.after.id }, 'event journal change listener failed');
      }
    }
  }
}
