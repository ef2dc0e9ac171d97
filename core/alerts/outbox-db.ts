import Database from 'better-sqlite3';
import type { AlertMsgType, AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus, ChannelKind, StoredAlert } from './index';
import { openVersionedDb } from '../store/sqlite';

/**
 * The outbox's own SQLite file, beside the journal rather than inside it: the journal has its own retention and
 * incremental vacuum that must not delete or rewrite undelivered alerts, and two files mean two write locks (a burst
 * of journal inserts does not hold up enqueue) and a schema that moves on its own version.
 *
 * Durability: an alert must be on disk before the message that raised it is acknowledged, so enqueues commit at
 * synchronous=FULL (in WAL mode: the WAL is fsynced at commit). Everything else commits at the connection's
 * synchronous=NORMAL (no fsync; a killed process loses nothing, only a power cut could): an attempt result or a
 * lease lost that way means the delivery goes again, which at-least-once delivery with a stable idempotency key
 * allows. Writes come in batches, one transaction per turn of the event loop (Outbox.enqueueMany, recordMany), so
 * a burst of alerts costs one fsync and writes each touched page once (bench/alerts).
 *
 * Pending deliveries are found by a partial index on (next_attempt_at), so the worker's poll reads only what is
 * due, however large the ledger of delivered ones grows.
 */
const SCHEMA = `
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  identifier TEXT NOT NULL,
  msg_type TEXT NOT NULL,
  refs TEXT,
  event_id TEXT,
  camera TEXT NOT NULL,
  sent INTEGER NOT NULL,
  headline TEXT NOT NULL,
  description TEXT NOT NULL,
  severity TEXT NOT NULL,
  cap_xml TEXT NOT NULL,
  snapshot TEXT,
  snapshot_missing TEXT,
  end_as TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX alerts_sent ON alerts (sent, id);
CREATE INDEX alerts_camera_sent ON alerts (camera, sent, id);
CREATE TABLE deliveries (
  id TEXT PRIMARY KEY,
  alert_id TEXT NOT NULL REFERENCES alerts (id),
  channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'webhook', 'push')),
  notifier TEXT NOT NULL,
  target TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER,
  UNIQUE (alert_id, notifier, target)
) WITHOUT ROWID;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_dead ON deliveries (alert_id) WHERE status = 'dead';
CREATE TABLE attempts (
  delivery_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  status_code INTEGER,
  error TEXT
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, at);
`;
const SCHEMA_VERSION = 2;
/** Version 2 keeps how each alert's event ends (StoredAlert.endAs). */
const MIGRATIONS = { 2: 'ALTER TABLE alerts ADD COLUMN end_as TEXT;' };

/** Opens (creating when new) the outbox database with the pragmas it needs. */
export function openOutboxDb(file: string): Database.Database {
  return openVersionedDb(file, {
    what: 'alert outbox',
    schema: SCHEMA,
    version: SCHEMA_VERSION,
    migrations: MIGRATIONS,
    pragmas: (db) => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  });
}

export interface AlertRow {
  id: string;
  identifier: string;
  msg_type: string;
  refs: string | null;
  event_id: string | null;
  camera: string;
  sent: number;
  headline: string;
  description: string;
  severity: string;
  cap_xml: string;
  snapshot: string | null;
  snapshot_missing: string | null;
  end_as: string | null;
  created_at: number;
  updated_at: number;
}

export interface DeliveryRow {
  id: string;
  alert_id: string;
  channel: string;
  notifier: string;
  target: string;
  idempotency_key: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface AttemptRow {
  delivery_id: string;
  at: number;
  duration_ms: number;
  outcome: string;
  status_code: number | null;
  error: string | null;
}

export function alertParams(alert: StoredAlert, now: number): Record<string, string | number | null> {
  return {
    id: alert.id,
    identifier: alert.identifier,
    msg_type: alert.msgType,
    refs: alert.references,
    event_id: alert.eventId,
    camera: alert.camera,
    sent: alert.sent,
    headline: alert.headline,
    description: alert.description,
    severity: alert.severity,
    cap_xml: alert.capXml,
    snapshot: alert.snapshot && JSON.stringify(alert.snapshot),
    snapshot_missing: alert.snapshotMissing,
    end_as: alert.endAs ?? null,
    created_at: now,
    updated_at: now,
  };
}

export function rowToAlert(row: AlertRow): StoredAlert {
  return {
    id: row.id,
    identifier: row.identifier,
    msgType: row.msg_type as AlertMsgType,
    references: row.refs,
    eventId: row.event_id,
    camera: row.camera,
    sent: row.sent,
    headline: row.headline,
    description: row.description,
    severity: row.severity,
    capXml: row.cap_xml,
    snapshot: row.snapshot === null ? null : (JSON.parse(row.snapshot) as StoredAlert['snapshot']),
    snapshotMissing: row.snapshot_missing,
    ...(row.end_as === 'cancel' || row.end_as === 'allclear' ? { endAs: row.end_as } : {}),
  };
}

export function rowToDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    alertId: row.alert_id,
    channel: row.channel as ChannelKind,
    notifier: row.notifier,
    target: row.target,
    idempotencyKey: row.idempotency_key,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  };
}

export function rowToAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    deliveryId: row.delivery_id,
    at: row.at,
    durationMs: row.duration_ms,
    outcome: row.outcome as AttemptOutcome,
    statusCode: row.status_code,
    error: row.error,
  };
}

/** Every statement the outbox runs more than once, prepared once. */
export function prepareOutboxStatements(db: Database.Database) {
  return {
    alertById: db.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE id = ?'),
    /** A scan (event_id has no index): only run at start, for the events a crash left open. */
    alertsOfEvent: db.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE event_id = ? ORDER BY sent, id'),
    insertAlert: db.prepare(`INSERT INTO alerts (id, identifier, msg_type, refs, event_id, camera, sent, headline, description, severity, cap_xml, snapshot,
      snapshot_missing, end_as, created_at, updated_at) VALUES (@id, @identifier, @msg_type, @refs, @event_id, @camera, @sent, @headline, @description,
      @severity, @cap_xml, @snapshot, @snapshot_missing, @end_as, @created_at, @updated_at)`),
    /** What may change when the same alert is enqueued again: the snapshot it waited for, the text, the document. */
    updateAlert: db.prepare(`UPDATE alerts SET headline = @headline, description = @description, severity = @severity, cap_xml = @cap_xml,
      snapshot = @snapshot, snapshot_missing = @snapshot_missing, updated_at = @updated_at WHERE id = @id`),
    insertDelivery: db.prepare(`INSERT INTO deliveries (id, alert_id, channel, notifier, target, idempotency_key, status, next_attempt_at, created_at)
      VALUES (@id, @alert_id, @channel, @notifier, @target, @idempotency_key, 'pending', @next_attempt_at, @created_at) ON CONFLICT DO NOTHING`),
    deliveryByKey: db.prepare<[string], DeliveryRow>('SELECT * FROM deliveries WHERE idempotency_key = ?'),
    deliveryById: db.prepare<[string], DeliveryRow>('SELECT * FROM deliveries WHERE id = ?'),
    deliveriesOf: db.prepare<[string], DeliveryRow>('SELECT * FROM deliveries WHERE alert_id = ? ORDER BY created_at, id'),
    attemptsOf: db.prepare<[string], AttemptRow>(
      'SELECT a.* FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.alert_id = ? ORDER BY a.at, a.rowid',
    ),
    /** Due, not leased, and owned by a notifier that is registered now (a JSON array of ids). */
    due: db.prepare<[number, number, string, number], DeliveryRow>(`SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?
      AND (lease_until IS NULL OR lease_until <= ?) AND notifier IN (SELECT value FROM json_each(?)) ORDER BY next_attempt_at, id LIMIT ?`),
    lease: db.prepare('UPDATE deliveries SET lease_until = ? WHERE id = ?'),
    nextDue: db.prepare<[string], { at: number | null }>(`SELECT min(max(next_attempt_at, coalesce(lease_until, 0))) AS at FROM deliveries
      WHERE status = 'pending' AND notifier IN (SELECT value FROM json_each(?))`),
    insertAttempt: db.prepare('INSERT INTO attempts (delivery_id, at, duration_ms, outcome, status_code, error) VALUES (?, ?, ?, ?, ?, ?)'),
    delivered: db.prepare(
      "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, lease_until = NULL, delivered_at = ?, last_error = NULL WHERE id = ?",
    ),
    retry: db.prepare(
      "UPDATE deliveries SET attempts = attempts + 1, lease_until = NULL, next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'",
    ),
    dead: db.prepare("UPDATE deliveries SET status = 'dead', attempts = attempts + 1, lease_until = NULL, last_error = ? WHERE id = ?"),
    postpone: db.prepare("UPDATE deliveries SET lease_until = NULL, next_attempt_at = ? WHERE id = ? AND status = 'pending'"),
    retryDead: db.prepare(
      "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL WHERE alert_id = ? AND status = 'dead'",
    ),
    // One count per status, each answered from its partial index: counting through the whole deliveries table grew
    // with the delivery history (3 ms per call at 50,000 rows; bench/alerts).
    pendingCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM deliveries INDEXED BY deliveries_due WHERE status = 'pending'"),
    deadCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM deliveries INDEXED BY deliveries_dead WHERE status = 'dead'"),
  };
}

export type OutboxStatements = ReturnType<typeof prepareOutboxStatements>;
