import type { Bus } from '../bus/bus';
import { silentLogger, type Logger } from '../log/logger';
import { topics } from '../topics';
import type { EventChange, EventChangeListener, EventChangeType } from './event-changes';
import { eventJson, type EventJson } from './event-json';
import { journalMetrics } from './journal-metrics';

/** What `glimpser/events` carries: Frigate's envelope, so tools written for Frigate's `frigate/events` fit. */
export interface EventMessage {
  type: EventChangeType;
  before: EventJson | null;
  after: EventJson;
}

export interface EventPublisherOptions {
  bus: Bus;
  journal: { onChange(listener: EventChangeListener): () => void };
  logger?: Logger;
  /** Changes waiting for the bus beyond this are dropped (and counted), so a stalled bus cannot eat the memory. */
  maxPending?: number;
}

/**
 * Publishes every committed journal change on `glimpser/events` (QoS 1, not retained). The journal has already
 * stored the event when this runs, so a failed publish is logged and counted and loses nothing: the event is
 * still in the journal and the API. Messages go out one at a time, in the order of the changes.
 */
export class EventPublisher {
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly maxPending: number;
  private readonly unsubscribe: () => void;
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(options: EventPublisherOptions) {
    this.bus = options.bus;
    this.log = options.logger ?? silentLogger;
    this.maxPending = options.maxPending ?? 10000;
    this.unsubscribe = options.journal.onChange((change) => this.enqueue(change));
  }

  /** Resolves once every change announced so far has been published or has failed. */
  flush(): Promise<void> {
    return this.tail;
  }

  /** Stops listening and waits for the messages already queued. */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.flush();
  }

  private enqueue(change: EventChange): void {
    if (this.pending >= this.maxPending) {
      journalMetrics.publishFailuresTotal.inc({ reason: 'overflow' });
      this.log.warn({ event: change.after.id, type: change.type, pending: this.pending }, 'event not published: too many messages waiting for the bus');
      return;
    }
    const message: EventMessage = { type: change.type, before: change.before && eventJson(change.before), after: eventJson(change.after) };
    const payload = JSON.stringify(message);
    this.pending++;
    this.tail = this.tail.then(async () => {
      try {
        await this.bus.publish(topics.events, payload, { qos: 1 });
      } catch (err) {
        journalMetrics.publishFailuresTotal.inc({ reason: 'error' });
        this.log.warn({ event: change.after.id, type: change.type, err: (err as Error).message }, 'event not published on the bus');
      } finally {
        this.pending--;
      }
    });
  }
}
