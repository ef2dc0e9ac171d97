import Database from 'better-sqlite3';
import type { StoredEvent } from './event';
import { openVersionedDb } from './sqlite';

export type Synchronous = 'normal' | 'full';

/**
 * The journal's SQLite file. Events are rows keyed by an integer `seq` (SQLite's rowid), so every index on
 * (x, start_time) ends in seq for free and "newest first" is an index walk with no sort. Zones are in a side
 * table for zone queries; it carries start_time, so a zone's events are also read newest first straight from
 * its primary key, and its rows are deleted by that key (the event's zones and start time are in its row).
 *
 * Each index is one more page written to the WAL per insert, and single inserts are bound by WAL bytes, so
 * nothing is indexed twice: the public id has no index of its own, because its first ten characters are the
 * start time (see ./event-id.ts) and events_time finds it; zone rows need no index on the event either.
 */
const SCHEMA = `
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  camera TEXT NOT NULL,
  type TEXT NOT NULL,
  subtype TEXT,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  score REAL NOT NULL,
  boxes TEXT NOT NULL,
  zones TEXT NOT NULL,
  snapshot TEXT,
  snapshot_bytes INTEGER NOT NULL DEFAULT 0,
  kept INTEGER NOT NULL DEFAULT 0,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX events_time ON events (start_time);
CREATE INDEX events_camera_time ON events (camera, start_time);
CREATE INDEX events_type_time ON events (type, start_time);
CREATE INDEX events_kept ON events (start_time) WHERE kept = 1;
CREATE TABLE event_zones (
  zone TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  event_seq INTEGER NOT NULL,
  PRIMARY KEY (zone, start_time, event_seq)
) WITHOUT ROWID;
`;
const SCHEMA_VERSION = 1;
const PAGE_SIZE = 4096;

export interface JournalDbOptions {
  synchronous: Synchronous;
  /** Bytes the WAL may hold before it is checkpointed into the database, and what it is cut back to after. */
  walBytes: number;
}

/** Opens (creating when new) the journal database with the pragmas every connection needs. */
export function openJournalDb(file: string, options: JournalDbOptions): Database.Database {
  return openVersionedDb(file, {
    what: 'event journal',
    schema: SCHEMA,
    version: SCHEMA_VERSION,
    pragmas: (db, created) => {
      if (created) {
        // Both only take effect before the first table exists; INCREMENTAL lets retention hand freed pages back to
        // the file system without a VACUUM, which would rewrite the whole file and need as much space again.
        db.pragma(`page_size = ${PAGE_SIZE}`);
        db.pragma('auto_vacuum = INCREMENTAL');
      }
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous.toUpperCase()}`);
      db.pragma('busy_timeout = 5000');
      db.pragma(`wal_autocheckpoint = ${Math.max(16, Math.floor(options.walBytes / PAGE_SIZE))}`);
      db.pragma(`journal_size_limit = ${options.walBytes}`);
      db.pragma('cache_size = -8192');
    },
  });
}

/** A row of `events` as SQLite returns it. */
export interface EventRow {
  seq: number;
  id: string;
  camera: string;
  type: string;
  subtype: string | null;
  start_time: number;
  end_time: number | null;
  score: number;
  boxes: string;
  zones: string;
  snapshot: string | null;
  snapshot_bytes: number;
  kept: number;
  data: string;
  created_at: number;
  updated_at: number;
}

export function rowToEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    camera: row.camera,
    type: row.type,
    subtype: row.subtype,
    startTime: row.start_time,
    endTime: row.end_time,
    score: row.score,
    boxes: JSON.parse(row.boxes) as StoredEvent['boxes'],
    zones: JSON.parse(row.zones) as string[],
    snapshot: row.snapshot,
    kept: row.kept === 1,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Named parameters for the insert and update statements. */
export function eventParams(event: StoredEvent): Record<string, string | number | null> {
  return {
    id: event.id,
    camera: event.camera,
    type: event.type,
    subtype: event.subtype,
    start_time: event.startTime,
    end_time: event.endTime,
    score: event.score,
    boxes: JSON.stringify(event.boxes),
    zones: JSON.stringify(event.zones),
    snapshot: event.snapshot,
    kept: event.kept ? 1 : 0,
    data: JSON.stringify(event.data),
    created_at: event.createdAt,
    updated_at: event.updatedAt,
  };
}

/** Inserts an event and its zone rows; the caller wraps it in a transaction. */
export function writeEvent(statements: JournalStatements, event: StoredEvent): void {
  const seq = Number(statements.insert.run(eventParams(event)).lastInsertRowid);
  for (const zone of event.zones) statements.insertZone.run(zone, event.startTime, seq);
}

/** Deletes an event's zone rows, by their primary key. */
export function deleteZones(statements: JournalStatements, row: Pick<EventRow, 'seq' | 'start_time' | 'zones'>): void {
  for (const zone of JSON.parse(row.zones) as string[]) statements.deleteZone.run(zone, row.start_time, row.seq);
}

/** Every statement the journal runs more than once, prepared once. */
export function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare(`INSERT INTO events (id, camera, type, subtype, start_time, end_time, score, boxes, zones, snapshot, kept, data, created_at, updated_at)
      VALUES (@id, @camera, @type, @subtype, @start_time, @end_time, @score, @boxes, @zones, @snapshot, @kept, @data, @created_at, @updated_at)`),
    insertZone: db.prepare('INSERT INTO event_zones (zone, start_time, event_seq) VALUES (?, ?, ?)'),
    deleteZone: db.prepare('DELETE FROM event_zones WHERE zone = ? AND start_time = ? AND event_seq = ?'),
    /** By start time and id: the start time comes from the id, and events_time finds the row. */
    byId: db.prepare<[number, string], EventRow>('SELECT * FROM events WHERE start_time = ? AND id = ?'),
    update: db.prepare(`UPDATE events SET end_time = @end_time, score = @score, boxes = @boxes, zones = @zones, kept = @kept, data = @data,
      snapshot = @snapshot, snapshot_bytes = CASE WHEN @snapshot IS NULL THEN 0 ELSE snapshot_bytes END, updated_at = @updated_at WHERE seq = @seq`),
    setSnapshot: db.prepare('UPDATE events SET snapshot = ?, snapshot_bytes = ?, updated_at = ? WHERE seq = ?'),
    deleteEvent: db.prepare('DELETE FROM events WHERE seq = ?'),
    count: db.prepare<[], { events: number; snapshotBytes: number | null }>('SELECT count(*) AS events, sum(snapshot_bytes) AS snapshotBytes FROM events'),
    keptCount: db.prepare<[], { kept: number }>('SELECT count(*) AS kept FROM events WHERE kept = 1'),
    range: db.prepare<[], { oldest: number | null; newest: number | null }>('SELECT min(start_time) AS oldest, max(start_time) AS newest FROM events'),
    freePages: db.prepare<[], { freelist_count: number }>('PRAGMA freelist_count'),
  };
}

export type JournalStatements = ReturnType<typeof prepareStatements>;
