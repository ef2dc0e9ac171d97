import { checkNewEventMessage, type EventFields, type EventMessage } from '../../core/messages';
import { eventJson } from '../../core/store/event-json';
import type { StoredEvent } from '../../core/store/event';
import type { EventJournal } from '../../core/store/journal';
import type { NodeBehaviour, NodeContext, Send, Status } from '../shared/node-kit';
import type { EventNodeConfig } from './schema';

/** The fields that are set: the journal reads a field left out as "not given", but refuses one that is undefined. */
function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function isJpeg(value: unknown): value is Buffer {
  return Buffer.isBuffer(value) && value.length > 3 && value[0] === 0xff && value[1] === 0xd8;
}

/** What an update may change: a journal event keeps its camera, type and start. */
function patchOf({ endTime, score, boxes, zones, data }: EventFields): Partial<EventFields> {
  return defined({ endTime, score, boxes, zones, data });
}

/**
 * The behaviour of an event node: msg.event → the journal. A message with a lifecycle `key` (from motion nodes)
 * inserts on its first phase and updates the same journal event on later ones; one with an `id` updates that event;
 * anything else is a new event. The stored event comes back on msg.event.
 */
export class EventController implements NodeBehaviour<EventMessage> {
  private readonly config: EventNodeConfig;
  private readonly journal: EventJournal;
  private readonly status: Status;
  private readonly journalIds = new Map<string, string>();
  private inserted = 0;

  constructor({ config, handles, status }: NodeContext<EventNodeConfig>) {
    if (!handles.journal) throw new Error('no event journal: the event node needs the Glimpser runtime');
    this.config = config;
    this.journal = handles.journal;
    this.status = status;
    status.show('idle', 'ready');
  }

  /** Journal writes are synchronous; only saving a snapshot waits, so a refused event fails at once, in order. */
  input(msg: EventMessage, send: Send): Promise<void> | void {
    const { event } = msg;
    const knownId = event.id ?? (event.key === undefined ? undefined : this.journalIds.get(event.key));
    const stored = knownId ? this.update(knownId, event) : this.insert(msg);
    if (!this.config.snapshot || !isJpeg(msg.payload)) return this.sendOn(msg, stored, send);
    return this.journal.saveSnapshot(stored.id, msg.payload).then((withSnapshot) => this.sendOn(msg, withSnapshot ?? stored, send));
  }

  private sendOn(msg: EventMessage, stored: StoredEvent, send: Send): void {
    if (msg.event.key !== undefined && msg.event.phase === 'end') this.journalIds.delete(msg.event.key);
    this.status.show('online', 'stored', { count: this.inserted, type: stored.type, camera: stored.camera });
    send({ ...msg, event: eventJson(stored) });
  }

  private update(id: string, event: EventFields): StoredEvent {
    const patch = patchOf(event);
    const changed = Object.keys(patch).length > 0 ? this.journal.update(id, patch) : null;
    const current = changed?.after ?? this.journal.get(id);
    if (!current) throw new Error(`msg.event.id ${JSON.stringify(id)} is not in the journal`);
    return current;
  }

  private insert(msg: EventMessage): StoredEvent {
    checkNewEventMessage(msg);
    const { camera, type = this.config.eventType, subtype, startTime, endTime, score, boxes, zones, kept, data } = msg.event;
    const stored = this.journal.insert(defined({ camera, type, subtype, startTime, endTime, score, boxes, zones, kept, data }));
    this.inserted += 1;
    if (msg.event.key !== undefined) this.journalIds.set(msg.event.key, stored.id);
    return stored;
  }
}
