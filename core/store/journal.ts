import { mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import { silentLogger, type Logger } from '../log/logger';
import { applyPatch, EventValidationError, normaliseInput, touchedAt, type StoredEvent } from './event';
import { EventChangeListeners, type EventChangeListener } from './event-changes';
import { eventId, eventIdTime, isEventId } from './event-id';
import {
  deleteZones,
  eventParams,
  openJournalDb,
  prepareStatements,
  rowToEvent,
  writeEvent,
  type EventRow,
  type JournalStatements,
  type Synchronous,
} from './journal-db';
import { journalMetrics } from './journal-metrics';
import { EventQueries, type EventPage } from './journal-query';
import {
  JournalRetention,
  retentionLimits,
  RetentionSchedule,
  type JournalBytes,
  type JournalRetentionLimits,
  type RetentionCadence,
  type RetentionResult,
} from './retention';
import { JournalSpace } from './journal-space';
import { MAX_SNAPSHOT_BYTES, snapshotName, SnapshotFiles } from './snapshots';

export type { StoredEvent } from './event';
export type { EventPage, EventQuery } from './journal-query';
export type { JournalBytes, JournalRetentionLimits, RetentionResult } from './retention';
export type { Synchronous } from './journal-db';
export type { EventChange, EventChangeType } from './event-changes';

export const EVENTS_FOLDER = 'events';
/**
 * NORMAL in WAL mode: a commit is in the WAL, in the kernel's page cache, when insert() returns, so a crash of
 * the process (SIGKILL included) loses nothing; a power cut may lose the last commits, never consistency. FULL
 * fsyncs every commit to survive power cuts too, at several times the cost and one flash write per event (see
 * docs/benchmarks.md, "Event journal").
 */
export const DEFAULT_SYNCHRONOUS: Synchronous = 'normal';

export interface EventJournalOptions extends Partial<JournalRetentionLimits> {
  dataDir: string;
  synchronous?: Synchronous;
  /** How often retention runs besides after writes. */
  /** null: no timer of its own; the runtime's retention job (core/jobs) runs the timed pass instead. */
  enforceEveryMs?: number | null;
  /** When a write is followed by a retention pass; defaults: 100 inserts, maxBytes/50 bytes, 10 s. */
  cadence?: Partial<RetentionCadence>;
  logger?: Logger;
  /** Clock for createdAt, updatedAt and the age limit. */
  now?: () => number;
}

export interface JournalStats {
  events: number;
  keptEvents: number;
  /** Start times of the oldest and newest events. */
  oldest: number | null;
  newest: number | null;
  bytes: JournalBytes;
  limits: JournalRetentionLimits;
  synchronous: Synchronous;
}

interface OpenState {
  db: Database.Database;
  statements: JournalStatements;
  queries: EventQueries;
  space: JournalSpace;
  snapshots: SnapshotFiles;
  retention: JournalRetention;
  insertAll: (events: StoredEvent[]) => void;
}

/**
 * Every event Glimpser raises, in SQLite at `<dataDir>/events/journal.db` (WAL mode), with snapshots beside it.
 * Writes are synchronous: when insert() returns, the event is committed, and that return is the acknowledgement.
 * Changes are announced to onChange() listeners after the commit (the bus publisher is one).
 */
export class EventJournal {
  readonly synchronous: Synchronous;
  private readonly limits: JournalRetentionLimits;
  private readonly enforceEveryMs: number | null;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly changes: EventChangeListeners;
  private readonly inFlight = new Set<Promise<unknown>>();
  private root: string;
  private open_: OpenState | null = null;
  private readonly schedule: RetentionSchedule;
  private status: 'new' | 'open' | 'closing' | 'closed' = 'new';
  private timer?: NodeJS.Timeout;

  constructor(options: EventJournalOptions) {
    this.limits = retentionLimits(options);
    this.synchronous = options.synchronous ?? DEFAULT_SYNCHRONOUS;
    if (this.synchronous !== 'normal' && this.synchronous !== 'full')
      throw new Error(`synchronous ${JSON.stringify(options.synchronous)} is invalid: expected "normal" or "full"`);
    this.enforceEveryMs = options.enforceEveryMs === undefined ? 60000 : options.enforceEveryMs;
    if (this.enforceEveryMs !== null && (!Number.isInteger(this.enforceEveryMs) || this.enforceEveryMs < 10))
      throw new Error(`enforceEveryMs ${JSON.stringify(options.enforceEveryMs)} is invalid: expected a whole number of milliseconds, at least 10`);
    this.schedule = new RetentionSchedule({ inserts: 100, bytes: this.limits.maxBytes / 50, ms: 10000, ...options.cadence }, () => performance.now());
    this.root = path.resolve(options.dataDir, EVENTS_FOLDER);
    this.log = options.logger ?? silentLogger;
    this.changes = new EventChangeListeners(this.log);
    this.now = options.now ?? Date.now;
  }

  get file(): string {
    return path.join(this.root, 'journal.db');
  }

  open(): void {
    if (this.status !== 'new') throw new Error(`event journal at ${this.root} is ${this.status === 'open' ? 'already open' : 'closed'}`);
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    // Resolved once, so the snapshot containment checks compare real paths even when the data folder is a link.
    this.root = realpathSync(this.root);
    const snapshots = new SnapshotFiles(path.join(this.root, 'snapshots'));
    snapshots.prepare();
    // The WAL is checkpointed at 4 MiB, or earlier under a small size limit, whose headroom it must fit in.
    const db = openJournalDb(this.file, { synchronous: this.synchronous, walBytes: Math.min(4 * 1024 ** 2, Math.floor(this.limits.maxBytes / 32)) });
    const statements = prepareStatements(db);
    const insertAll = db.transaction((events: StoredEvent[]) => {
      for (const event of events) writeEvent(statements, event);
    });
    const space = new JournalSpace(db, statements, snapshots, this.file, this.log);
    this.open_ = { db, statements, queries: new EventQueries(db), space, snapshots, retention: new JournalRetention(this.limits, space, this.log), insertAll };
    this.status = 'open';
    if (this.enforceEveryMs !== null) {
      this.timer = setInterval(() => this.runRetention(), this.enforceEveryMs);
      this.timer.unref();
    }
    this.runRetention();
    this.log.info({ file: this.file, events: space.events, bytes: space.measure().total, synchronous: this.synchronous }, 'event journal open');
  }

  /** Validates and stores one event in its own transaction; returns it once committed. */
  insert(input: unknown): StoredEvent {
    const { insertAll } = this.state();
    const event = this.build(normaliseInput(input));
    insertAll([event]);
    this.inserted([event]);
    return event;
  }

  /** Validates every event first, then stores them all in one transaction, or none. */
  insertMany(inputs: unknown): StoredEvent[] {
    const { insertAll } = this.state();
    if (!Array.isArray(inputs)) throw new EventValidationError('events', 'a list of events', inputs);
    const events = inputs.map((input: unknown, i) => this.build(normaliseInput(input, `events[${i}]`)));
    if (events.length === 0) return [];
    insertAll(events);
    this.inserted(events);
    return events;
  }

  /** Applies a patch (see EventPatchSchema); null when there is no such event. */
  update(id: string, patch: unknown): { before: StoredEvent; after: StoredEvent } | null {
    const { db, statements, space } = this.state();
    const row = this.row(id);
    if (!row) return null;
    const before = rowToEvent(row);
    const after = applyPatch(before, patch, this.now());
    db.transaction(() => {
      statements.update.run({ ...eventParams(after), seq: row.seq });
      if (after.zones.join() !== before.zones.join()) {
        deleteZones(statements, row);
        for (const zone of after.zones) statements.insertZone.run(zone, row.start_time, row.seq);
      }
    })();
    if (before.snapshot !== null && after.snapshot === null) space.dropSnapshot(before.snapshot, row.snapshot_bytes);
    this.changes.announce({ type: before.endTime === null && after.endTime !== null ? 'end' : 'update', before, after });
    return { before, after };
  }

  /**
   * Closes the events a crash or kill left open: each ends at its last update, the last moment Glimpser knew it
   * still lasted, and is marked `data.interrupted: true`. Call it once at start, before anything raises events,
   * since every event open then is one the last run left behind. All close in one transaction; each is announced
   * as an `end`, like any other. Returns the events as closed.
   */
  closeInterrupted(): StoredEvent[] {
    const { db, statements } = this.state();
    // A full scan (end_time has no index, which would cost every insert a page), done once per start.
    const rows = db.prepare<[], EventRow>('SELECT * FROM events WHERE end_time IS NULL ORDER BY start_time, seq').all();
    if (rows.length === 0) return [];
    const now = this.now();
    const changes = rows.map((row) => {
      const before = rowToEvent(row);
      const after: StoredEvent = {
        ...before,
        endTime: Math.max(before.startTime, before.updatedAt),
        data: { ...before.data, interrupted: true },
        updatedAt: touchedAt(before, now),
      };
      return { row, before, after };
    });
    db.transaction(() => {
      for (const { row, after } of changes) statements.update.run({ ...eventParams(after), seq: row.seq });
    })();
    for (const { before, after } of changes) {
      journalMetrics.interruptedTotal.inc({ camera: after.camera, type: after.type });
      this.changes.announce({ type: 'end', before, after });
    }
    this.log.info(
      { events: changes.map(({ after }) => ({ id: after.id, camera: after.camera, type: after.type, endTime: after.endTime })) },
      'events left open by the last run closed as interrupted',
    );
    return changes.map(({ after }) => after);
  }

  get(id: string): StoredEvent | null {
    const row = this.row(id);
    return row ? rowToEvent(row) : null;
  }

  query(query: unknown): EventPage {
    return this.state().queries.run(query);
  }

  /** Marks an event kept (retention never deletes it) or releases it; null when there is no such event. */
  keep(id: string, kept: boolean): StoredEvent | null {
    if (typeof kept !== 'boolean') throw new EventValidationError('kept', 'true or false', kept);
    const { statements, space } = this.state();
    const row = this.row(id);
    if (!row) return null;
    const before = rowToEvent(row);
    if (before.kept === kept) return before;
    const after = { ...before, kept, updatedAt: touchedAt(before, this.now()) };
    statements.update.run({ ...eventParams(after), seq: row.seq });
    space.keptEvents += kept ? 1 : -1;
    this.changes.announce({ type: 'update', before, after });
    return after;
  }

  /** Stores the event's snapshot (replacing any earlier one); null when there is no such event. */
  saveSnapshot(id: string, jpeg: Buffer): Promise<StoredEvent | null> {
    const { snapshots } = this.state();
    if (!Buffer.isBuffer(jpeg) || jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8)
      throw new EventValidationError(
        'jpeg',
        'a JPEG image (bytes starting with FF D8)',
        Buffer.isBuffer(jpeg) ? `${jpeg.length} bytes starting ${jpeg.subarray(0, 4).toString('hex')}` : jpeg,
      );
    if (jpeg.length > MAX_SNAPSHOT_BYTES) throw new EventValidationError('jpeg', `at most ${MAX_SNAPSHOT_BYTES / 1024 ** 2} MiB`, `${jpeg.length} bytes`);
    const row = this.row(id);
    if (!row) return Promise.resolve(null);
    const name = snapshotName(row.camera, row.start_time, row.id);
    return this.track(async () => {
      await snapshots.write(name, jpeg, this.synchronous === 'full');
      // close() waits for this write, so the database is still open; but retention may have deleted the event.
      const { statements, space } = this.open_!;
      const current = statements.byId.get(row.start_time, id);
      if (!current) {
        snapshots.remove(name);
        return null;
      }
      const before = rowToEvent(current);
      const after = { ...before, snapshot: name, updatedAt: touchedAt(before, this.now()) };
      statements.setSnapshot.run(name, jpeg.length, after.updatedAt, current.seq);
      space.addSnapshot(jpeg.length, current.snapshot_bytes);
      this.changes.announce({ type: 'update', before, after });
      this.wrote(0, jpeg.length);
      return after;
    });
  }

  /** The snapshot's absolute path, or null when the event has none. The file may vanish to retention at any time. */
  snapshotPath(id: string): string | null {
    const snapshot = this.row(id)?.snapshot;
    return snapshot ? this.state().snapshots.pathOf(snapshot) : null;
  }

  /** Applies the age and size limits now. */
  enforceRetention(): RetentionResult {
    const { retention, space } = this.state();
    const result = retention.run(this.now());
    this.schedule.ran();
    journalMetrics.journalBytes.set(result.bytes.total);
    journalMetrics.journalEvents.set(space.events);
    if (result.deleted.age + result.deleted.size > 0)
      this.log.debug({ ...result.deleted, bytes: result.bytes.total }, 'event journal retention deleted events');
    return result;
  }

  stats(): JournalStats {
    const { statements, space } = this.state();
    const range = statements.range.get()!;
    return {
      events: space.events,
      keptEvents: space.keptEvents,
      oldest: range.oldest,
      newest: range.newest,
      bytes: space.measure(),
      limits: { ...this.limits },
      synchronous: this.synchronous,
    };
  }

  /**
   * Moves on with every change a reader could see: each announced change (new, update, end, keep, snapshot) and each
   * retention deletion. Equal versions mean equal query answers, so answers can be reused while it stays the same.
   */
  get version(): string {
    return `${this.changes.announced}.${this.state().space.deletions}`;
  }

  /** Calls `listener` after every committed change; returns the function that removes it. */
  onChange(listener: EventChangeListener): () => void {
    return this.changes.add(listener);
  }

  /** Stops the retention timer, waits for snapshot writes under way, and closes the database. */
  async close(): Promise<void> {
    if (this.status !== 'open') {
      if (this.status === 'new') this.status = 'closed';
      return;
    }
    this.status = 'closing';
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    this.status = 'closed';
    const { db } = this.open_!;
    this.open_ = null;
    db.pragma('optimize');
    db.close();
  }

  private build(fields: ReturnType<typeof normaliseInput>): StoredEvent {
    const now = this.now();
    return { id: eventId(fields.startTime), ...fields, snapshot: null, createdAt: now, updatedAt: now };
  }

  private inserted(events: StoredEvent[]): void {
    const { space } = this.state();
    let bytes = 0;
    for (const event of events) {
      space.events++;
      if (event.kept) space.keptEvents++;
      journalMetrics.eventsTotal.inc({ camera: event.camera, type: event.type });
      // A rough row size, only for deciding when to check the files' real size.
      bytes += 200 + JSON.stringify(event.data).length + 40 * (event.boxes.length + event.zones.length);
    }
    journalMetrics.journalEvents.set(space.events);
    for (const event of events) this.changes.announce({ type: 'new', before: null, after: event });
    this.wrote(events.length, bytes);
  }

  private wrote(inserts: number, bytes: number): void {
    if (this.schedule.wrote(inserts, bytes)) this.runRetention();
  }

  /** Retention after a write or on the timer: a failure is logged, never thrown at a writer whose event is committed. */
  private runRetention(): void {
    if (this.status !== 'open') return;
    try {
      this.enforceRetention();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'event journal retention failed');
    }
  }

  private row(id: string): EventRow | undefined {
    const { statements } = this.state();
    return isEventId(id) ? statements.byId.get(eventIdTime(id), id) : undefined;
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    const promise = work();
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private state(): OpenState {
    if (this.status !== 'open' || !this.open_)
      throw new Error(`event journal at ${this.root} is ${this.status === 'new' ? 'not open yet: call open() first' : 'closed'}`);
    return this.open_;
  }
}
