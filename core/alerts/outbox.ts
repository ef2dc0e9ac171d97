import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { CAMERA_ID_PATTERN, ID_EXPECTED } from '../ids';
import { eventId } from '../store/event-id';
import type { AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus, DeliveryTarget, StoredAlert } from './index';
import { alertParams, openOutboxDb, prepareOutboxStatements, rowToAlert, rowToAttempt, rowToDelivery, type AlertRow, type OutboxStatements } from './outbox-db';

export const MAX_ALERT_PAGE = 500;
const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'dead'];

/** A filter value the outbox cannot use, named for the API's 400. */
export class AlertQueryError extends Error {
  constructor(
    readonly field: string,
    readonly expected: string,
    got: unknown,
  ) {
    super(`${field}: expected ${expected}, got ${JSON.stringify(got)}`);
    this.name = 'AlertQueryError';
  }
}

export interface AlertQuery {
  camera?: string;
  /** Alerts with at least one delivery in this state. */
  status?: string;
  /** On `sent`, ms: from inclusive, to exclusive. */
  from?: number;
  to?: number;
  limit?: number;
  cursor?: string;
}

/** An alert with a summary of where its deliveries stand. */
export interface AlertSummary {
  alert: StoredAlert;
  deliveries: Record<DeliveryStatus, number>;
}

export interface AlertPage {
  alerts: AlertSummary[];
  next: string | null;
}

export interface AlertDetail {
  alert: StoredAlert;
  deliveries: Delivery[];
  attempts: DeliveryAttempt[];
}

/** One attempt's result, as the worker records it. */
export interface AttemptRecord {
  at: number;
  durationMs: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  error: string | null;
  /** For a retry: when the next attempt is due. */
  nextAttemptAt?: number;
}

/** One alert with the targets it goes to, as enqueueMany takes them. */
export interface EnqueueItem {
  alert: StoredAlert;
  targets: DeliveryTarget[];
}

/** One attempt of one delivery, as recordMany takes them. */
export interface RecordItem {
  deliveryId: string;
  attempt: AttemptRecord;
}

export interface EnqueueResult {
  deliveries: Delivery[];
  /** True when the alert was not stored before (the first enqueue announces it). */
  alertIsNew: boolean;
  /** How many of the deliveries were inserted now (the rest were there already). */
  inserted: number;
}

/**
 * The stable key receivers dedupe on: the alert's id and a digest of notifier and target, so a retry, a second
 * enqueue of the same alert or a restart always send the same key, and two targets of one alert never share one.
 */
export function idempotencyKey(alertId: string, notifier: string, target: string): string {
  const digest = createHash('sha256').update(notifier).update('\0').update(target).digest('base64url').slice(0, 16);
  return `${alertId}.${digest}`;
}

/**
 * The persisted outbox and delivery ledger. Every method is synchronous and each write is one SQLite
 * transaction, so a lease is atomic and a crash leaves either all of an enqueue or none of it. A leased delivery
 * carries `lease_until`; nothing else marks it in flight, so after a crash the lease runs out and it is due again.
 * Enqueues are on disk when the method returns (synchronous=FULL); the other writes are not fsynced (outbox-db.ts).
 */
export class Outbox {
  private readonly db: Database.Database;
  private readonly st: OutboxStatements;

  constructor(file: string) {
    this.db = openOutboxDb(file);
    this.st = prepareOutboxStatements(this.db);
  }

  /** Stores one alert and its deliveries, on disk when it returns; throws when it cannot. */
  enqueue(alert: StoredAlert, targets: DeliveryTarget[], now: number): EnqueueResult {
    const [result] = this.enqueueMany([{ alert, targets }], now);
    if (result instanceof Error) throw result;
    return result;
  }

  /**
   * Stores many alerts in one transaction with one fsync (a group commit), each in a savepoint of its own: an item
   * that fails (a constraint) is rolled back alone and answered with its Error, the others are stored.
   */
  enqueueMany(items: readonly EnqueueItem[], now: number): Array<EnqueueResult | Error> {
    return this.durably(() =>
      this.db.transaction(() =>
        items.map(({ alert, targets }) => {
          try {
            return this.write(alert, targets, now);
          } catch (err) {
            return err instanceof Error ? err : new Error(String(err));
          }
        }),
      )(),
    );
  }

  private write(alert: StoredAlert, targets: DeliveryTarget[], now: number): EnqueueResult {
    // Nested in enqueueMany's transaction, better-sqlite3 runs this one as a savepoint.
    return this.db.transaction((): EnqueueResult => {
      const alertIsNew = this.st.alertById.get(alert.id) === undefined;
      this.st[alertIsNew ? 'insertAlert' : 'updateAlert'].run(alertParams(alert, now));
      let inserted = 0;
      const deliveries = targets.map((target) => {
        const key = idempotencyKey(alert.id, target.notifier, target.target);
        const params = { id: eventId(now), alert_id: alert.id, ...target, idempotency_key: key, next_attempt_at: now, created_at: now };
        inserted += this.st.insertDelivery.run(params).changes;
        return rowToDelivery(this.st.deliveryByKey.get(key)!);
      });
      return { deliveries, alertIsNew, inserted };
    })();
  }

  /** Leases up to `limit` due deliveries of the given notifiers until `now + leaseMs`. */
  lease(notifiers: readonly string[], now: number, leaseMs: number, limit: number): Delivery[] {
    if (notifiers.length === 0 || limit <= 0) return [];
    return this.db.transaction(() => {
      const rows = this.st.due.all(now, now, JSON.stringify(notifiers), limit);
      for (const row of rows) {
        row.lease_until = now + leaseMs;
        this.st.lease.run(row.lease_until, row.id);
      }
      return rows.map(rowToDelivery);
    })();
  }

  /** When the next delivery of these notifiers is due (its lease end, if later), or null when none is pending. */
  nextDueAt(notifiers: readonly string[]): number | null {
    if (notifiers.length === 0) return null;
    return this.st.nextDue.get(JSON.stringify(notifiers))?.at ?? null;
  }

  /** Records an attempt and moves the delivery on: delivered, due again at `nextAttemptAt`, or dead-lettered. */
  record(deliveryId: string, attempt: AttemptRecord): Delivery {
    const [result] = this.recordMany([{ deliveryId, attempt }]);
    if (result instanceof Error) throw result;
    return result;
  }

  /** Records many attempts in one transaction, each in a savepoint of its own (a failing one is answered with its Error). */
  recordMany(items: readonly RecordItem[]): Array<Delivery | Error> {
    return this.db.transaction(() =>
      items.map(({ deliveryId, attempt }) => {
        try {
          return this.writeAttempt(deliveryId, attempt);
        } catch (err) {
          return err instanceof Error ? err : new Error(String(err));
        }
      }),
    )();
  }

  private writeAttempt(deliveryId: string, attempt: AttemptRecord): Delivery {
    return this.db.transaction(() => {
      this.st.insertAttempt.run(deliveryId, attempt.at, Math.round(attempt.durationMs), attempt.outcome, attempt.statusCode, attempt.error);
      if (attempt.outcome === 'delivered') this.st.delivered.run(attempt.at + Math.round(attempt.durationMs), deliveryId);
      else if (attempt.outcome === 'dead') this.st.dead.run(attempt.error, deliveryId);
      else this.st.retry.run(attempt.nextAttemptAt ?? attempt.at, attempt.error, deliveryId);
      const row = this.st.deliveryById.get(deliveryId);
      if (!row) throw new Error(`delivery ${deliveryId} not found`);
      return rowToDelivery(row);
    })();
  }

  /** Hands a leased delivery back without an attempt (its circuit is open), due again at `at`. */
  postpone(deliveryId: string, at: number): void {
    this.st.postpone.run(at, deliveryId);
  }

  /** Makes the alert's dead-lettered deliveries due now with a fresh set of attempts; returns them. */
  retryDead(alertId: string, now: number): Delivery[] {
    // A person asked for these again: on disk before the answer, like an enqueue.
    return this.durably(() =>
      this.db.transaction(() => {
        const dead = this.st.deliveriesOf.all(alertId).filter((row) => row.status === 'dead');
        this.st.retryDead.run(now, alertId);
        return dead.map((row) => rowToDelivery(this.st.deliveryById.get(row.id)!));
      })(),
    );
  }

  getAlert(id: string): StoredAlert | null {
    const row = this.st.alertById.get(id);
    return row ? rowToAlert(row) : null;
  }

  /** The alerts about one journal event, oldest first. */
  alertsOfEvent(eventId: string): StoredAlert[] {
    return this.st.alertsOfEvent.all(eventId).map(rowToAlert);
  }

  getDelivery(id: string): Delivery | null {
    const row = this.st.deliveryById.get(id);
    return row ? rowToDelivery(row) : null;
  }

  detail(id: string): AlertDetail | null {
    const alert = this.getAlert(id);
    if (!alert) return null;
    return { alert, deliveries: this.st.deliveriesOf.all(id).map(rowToDelivery), attempts: this.st.attemptsOf.all(id).map(rowToAttempt) };
  }

  /** Pending and dead-lettered deliveries, for the depth gauge. */
  depth(): { pending: number; dead: number } {
    return { pending: this.st.pendingCount.get()?.n ?? 0, dead: this.st.deadCount.get()?.n ?? 0 };
  }

  /** Newest first, keyset-paged on (sent, id). */
  list(query: AlertQuery): AlertPage {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ALERT_PAGE)
      throw new AlertQueryError('limit', `a whole number from 1 to ${MAX_ALERT_PAGE}`, limit);
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: limit + 1 };
    if (query.camera !== undefined) {
      if (!CAMERA_ID_PATTERN.test(query.camera)) throw new AlertQueryError('camera', `a camera id: ${ID_EXPECTED}`, query.camera);
      where.push('a.camera = @camera');
      params.camera = query.camera;
    }
    if (query.status !== undefined) {
      if (!DELIVERY_STATUSES.includes(query.status as DeliveryStatus))
        throw new AlertQueryError('status', `one of ${DELIVERY_STATUSES.join(', ')}`, query.status);
      where.push('EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.status = @status)');
      params.status = query.status;
    }
    if (query.from !== undefined) {
      where.push('a.sent >= @from');
      params.from = query.from;
    }
    if (query.to !== undefined) {
      where.push('a.sent < @to');
      params.to = query.to;
    }
    if (query.cursor !== undefined) {
      const match = /^(\d{1,16})\.([0-9A-Za-z_-]{1,64})$/.exec(Buffer.from(query.cursor, 'base64url').toString('latin1'));
      if (!match) throw new AlertQueryError('cursor', 'the "next" value of a previous page', query.cursor);
      where.push('(a.sent < @cursorSent OR (a.sent = @cursorSent AND a.id < @cursorId))');
      params.cursorSent = Number(match[1]);
      params.cursorId = match[2];
    }
    const sql = `SELECT a.* FROM alerts a ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.sent DESC, a.id DESC LIMIT @limit`;
    const rows = this.db.prepare<Record<string, string | number>, AlertRow>(sql).all(params);
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      alerts: page.map((row) => ({ alert: rowToAlert(row), deliveries: this.countDeliveries(row.id) })),
      next: more && last ? Buffer.from(`${last.sent}.${last.id}`, 'latin1').toString('base64url') : null,
    };
  }

  close(): void {
    this.db.close();
  }

  /** Runs one write transaction that commits at synchronous=FULL: on disk when it returns. */
  private durably<T>(write: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return write();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  private countDeliveries(alertId: string): Record<DeliveryStatus, number> {
    const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const row of this.st.deliveriesOf.all(alertId)) counts[row.status as DeliveryStatus]++;
    return counts;
  }
}
