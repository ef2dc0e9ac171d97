import type { StoredEvent } from '../../core/store/event';
import type { EventJournal } from '../../core/store/journal';
import type { EventNodeConfig } from './schema';

/** Fields of msg.event that go into the journal as they are. */
const INSERT_FIELDS = ['camera', 'type', 'subtype', 'startTime', 'endTime', 'score', 'boxes', 'zones', 'kept', 'data'] as const;
const PATCH_FIELDS = ['endTime', 'score', 'boxes', 'zones', 'data'] as const;

function pick(source: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => source[f] !== undefined).map((f) => [f, source[f]]));
}

function isJpeg(value: unknown): value is Buffer {
  return Buffer.isBuffer(value) && value.length > 3 && value[0] === 0xff && value[1] === 0xd8;
}

/**
 * The behaviour of an event node: msg.event → the journal. A message with a lifecycle `key` (from motion nodes)
 * inserts on its first phase and updates the same journal event on later ones; one with an `id` updates that event;
 * anything else is a new event. The stored event comes back on msg.event.
 */
export class EventController {
  private readonly journalIds = new Map<string, string>();
  stored = 0;

  constructor(private readonly config: EventNodeConfig, private readonly journal: EventJournal) {}

  async write(msg: Record<string, unknown>): Promise<StoredEvent> {
    const event = msg.event;
    if (typeof event !== 'object' || event === null || Array.isArray(event)) throw new Error('msg.event must be an object with at least camera and startTime (see the node help)');
    const fields = event as Record<string, unknown>;
    const key = typeof fields.key === 'string' ? fields.key : null;
    const knownId = typeof fields.id === 'string' ? fields.id : key ? this.journalIds.get(key) : undefined;
    let stored: StoredEvent;
    if (knownId) {
      const patch = pick(fields, PATCH_FIELDS);
      const changed = Object.keys(patch).length > 0 ? this.journal.update(knownId, patch) : null;
      const current = changed?.after ?? this.journal.get(knownId);
      if (!current) throw new Error(`msg.event.id ${JSON.stringify(knownId)} is not in the journal`);
      stored = current;
    } else {
      stored = this.journal.insert({ type: this.config.eventType, ...pick(fields, INSERT_FIELDS) });
      this.stored += 1;
      if (key) this.journalIds.set(key, stored.id);
    }
    if (this.config.snapshot && isJpeg(msg.payload)) stored = (await this.journal.saveSnapshot(stored.id, msg.payload)) ?? stored;
    if (key && fields.phase === 'end') this.journalIds.delete(key);
    return stored;
  }
}
