import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Agent } from 'node:https';
import path from 'node:path';
import type { VapidKeys } from './vapid';

/** A browser's push subscription (the W3C Push API's PushSubscription.toJSON()), as Glimpser keeps it. */
export interface PushSubscriptionRecord {
  /** Derived from the endpoint, so a browser that subscribes again replaces its old record. The delivery target. */
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** Free labels a notify-push node can pick subscriptions by (e.g. "night-shift"). */
  tags: string[];
  /** The signed-in user who added it. */
  user: string | null;
  createdAt: number;
}

/** What the runtime lends the push API and notify-push nodes. */
export interface PushHandles {
  /** The install's VAPID key pair (secrets.json). */
  keys: VapidKeys;
  subscriptions: PushSubscriptionStore;
  /** The TLS agent for push-service connections, where they need a private CA or a proxy (tests trust theirs). */
  agent?: Agent;
}

export type NewPushSubscription = Omit<PushSubscriptionRecord, 'id' | 'createdAt'>;

interface StoredDocument {
  version: 1;
  subscriptions: PushSubscriptionRecord[];
}

export function subscriptionIdOf(endpoint: string): string {
  return createHash('sha256').update(endpoint).digest('base64url').slice(0, 22);
}

/**
 * Push subscriptions in one JSON document (`<data>/push-subscriptions.json`, mode 0600 because each holds the auth
 * secret that lets anyone push to that browser). A JSON file, not SQLite: an install has a handful of browsers, every
 * read is served from memory, and writes are rare (subscribe, unsubscribe, a 410 from the push service). Writes are
 * synchronous and atomic (temp file, fsync, rename), so the API and the push channel never race on the file.
 */
export class PushSubscriptionStore {
  private readonly byId = new Map<string, PushSubscriptionRecord>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly file: string | null) {
    if (!file) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`cannot read push subscriptions ${file}: ${(err as Error).message}`);
    }
    const doc = JSON.parse(text) as Partial<StoredDocument>;
    for (const record of doc.subscriptions ?? []) this.byId.set(record.id, record);
  }

  /** An in-memory store (a notify-push node outside the runtime, tests). */
  static inMemory(): PushSubscriptionStore {
    return new PushSubscriptionStore(null);
  }

  list(tag?: string): PushSubscriptionRecord[] {
    const all = [...this.byId.values()];
    return tag ? all.filter((record) => record.tags.includes(tag)) : all;
  }

  get(id: string): PushSubscriptionRecord | null {
    return this.byId.get(id) ?? null;
  }

  /** Adds or replaces the subscription of an endpoint; returns it as stored. */
  add(subscription: NewPushSubscription, now = Date.now()): PushSubscriptionRecord {
    const id = subscriptionIdOf(subscription.endpoint);
    const record: PushSubscriptionRecord = { ...subscription, tags: [...subscription.tags], id, createdAt: this.byId.get(id)?.createdAt ?? now };
    this.byId.set(id, record);
    this.save();
    return record;
  }

  /** Removes a subscription by id or endpoint; whether one was there. */
  remove(idOrEndpoint: string): boolean {
    const id = this.byId.has(idOrEndpoint) ? idOrEndpoint : subscriptionIdOf(idOrEndpoint);
    if (!this.byId.delete(id)) return false;
    this.save();
    return true;
  }

  /** Called after every change (notify-push nodes refresh their "configured" status). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private save(): void {
    if (this.file) {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify({ version: 1, subscriptions: [...this.byId.values()] } satisfies StoredDocument, null, 2));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.file);
    }
    for (const listener of this.listeners) listener();
  }
}
