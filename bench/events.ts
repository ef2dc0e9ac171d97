/**
 * What the event journal costs on top of SQLite: Glimpser's EventJournal (validation, ids, indexes, zone rows)
 * against raw better-sqlite3 inserts of the same rows into a bare table with no index, in the same run, with
 * the same pragmas. Then a journal of 1,000,000 events (8 cameras, 30 days, zones) answers camera + time-range
 * and zone queries.
 *
 *   npm run build && node dist/bench/events.js [--events 1000000] [--seconds 4] [--dir /tmp]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { EventInput } from '../core/store/event';
import { EventJournal, type Synchronous } from '../core/store/journal';

const DAY = 86400000;
const CAMERAS = Array.from({ length: 8 }, (_, i) => `cam-${i + 1}`);
const ZONES = ['yard', 'gate', 'drive', 'door'];
const BATCH = 1000;
const QUERIES = 200;

interface Options {
  events: number;
  seconds: number;
  dir: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { events: 1_000_000, seconds: 4, dir: tmpdir() };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--events' && Number.isInteger(Number(value)) && Number(value) >= 10000) options.events = Number(value);
    else if (flag === '--seconds' && Number(value) > 0) options.seconds = Number(value);
    else if (flag === '--dir' && value !== '') options.dir = value;
    else throw new Error(`unknown or invalid argument ${flag} ${value}: expected --events N (>= 10000), --seconds S, --dir DIR`);
  }
  return options;
}

/** xorshift32: the same rows in every run and for both sides of a comparison. */
function random(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Event `i` of `total` spread over the 30 days before `end`: mostly motion, some AI with a description. */
function makeEvents(from: number, count: number, total: number, end: number): EventInput[] {
  const rnd = random(from + 1);
  const start = end - 30 * DAY;
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const roll = rnd();
    const type = roll < 0.85 ? 'motion' : roll < 0.95 ? 'ai' : roll < 0.98 ? 'tamper' : 'capture_failure';
    const startTime = Math.floor(start + ((i + rnd()) * 30 * DAY) / total);
    const boxes = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({ x: rnd() * 0.5, y: rnd() * 0.5, width: rnd() * 0.5, height: rnd() * 0.5 }));
    const zones = ZONES.filter(() => rnd() < 0.3);
    const data = type === 'ai' ? { description: 'A person in a dark jacket walks up the drive towards the front door.', model: 'llava' } : {};
    return {
      camera: CAMERAS[Math.floor(rnd() * CAMERAS.length)],
      type,
      subtype: type === 'ai' ? 'person' : null,
      startTime,
      endTime: startTime + 2000 + Math.floor(rnd() * 58000),
      score: rnd(),
      boxes,
      zones,
      data,
    };
  });
}

function bareTable(file: string, synchronous: Synchronous): { db: Database.Database; insert: (event: EventInput, id: number) => void } {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
  db.exec(
    'CREATE TABLE bare (id TEXT, camera TEXT, type TEXT, subtype TEXT, start_time INTEGER, end_time INTEGER, score REAL, boxes TEXT, zones TEXT, data TEXT, created_at INTEGER, updated_at INTEGER)',
  );
  const statement = db.prepare('INSERT INTO bare VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  return {
    db,
    insert: (e, id) => {
      const now = Date.now();
      statement.run(
        String(id),
        e.camera,
        e.type,
        e.subtype ?? null,
        e.startTime,
        e.endTime ?? null,
        e.score ?? 0,
        JSON.stringify(e.boxes ?? []),
        JSON.stringify(e.zones ?? []),
        JSON.stringify(e.data ?? {}),
        now,
        now,
      );
    },
  };
}

/** Single inserts, each its own transaction, for up to `seconds` or the given events. */
function timeSingles(events: EventInput[], seconds: number, insert: (event: EventInput, i: number) => void): number {
  const began = performance.now();
  let done = 0;
  while (done < events.length && performance.now() - began < seconds * 1000) insert(events[done], done++);
  return done / ((performance.now() - began) / 1000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function latencies(run: (rnd: () => number) => void, count: number, seed: number): { p50: number; p95: number } {
  const rnd = random(seed);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const began = performance.now();
    run(rnd);
    times.push(performance.now() - began);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(options.dir, 'glimpser-bench-events-'));
  const rows: string[][] = [];
  const row = (...cells: string[]) => {
    rows.push(cells);
    process.stderr.write(`${cells.join(' | ')}\n`);
  };
  const end = Date.now();
  try {
    const singles = makeEvents(0, 100_000, 100_000, end);
    for (const synchronous of ['normal', 'full'] as const) {
      const journal = new EventJournal({ dataDir: path.join(dir, `single-${synchronous}`), synchronous, maxAgeDays: Infinity, maxBytes: Infinity });
      journal.open();
      const glimpser = timeSingles(singles, options.seconds, (event) => journal.insert(event));
      await journal.close();
      const bare = bareTable(path.join(dir, `bare-${synchronous}.db`), synchronous);
      const raw = timeSingles(singles, options.seconds, bare.insert);
      bare.db.close();
      row(`single inserts, synchronous=${synchronous.toUpperCase()}`, `${fmt(glimpser)} events/s`, `${fmt(raw)} rows/s`, `${fmt(raw / glimpser, 1)}×`);
    }

    const journal = new EventJournal({ dataDir: path.join(dir, 'big'), maxAgeDays: Infinity, maxBytes: Infinity });
    journal.open();
    const bare = bareTable(path.join(dir, 'bare-big.db'), 'normal');
    const bareBatch = bare.db.transaction((events: EventInput[], from: number) => events.forEach((event, k) => bare.insert(event, from + k)));
    let glimpserMs = 0;
    let rawMs = 0;
    for (let from = 0; from < options.events; from += BATCH) {
      const batch = makeEvents(from, Math.min(BATCH, options.events - from), options.events, end);
      let began = performance.now();
      journal.insertMany(batch);
      glimpserMs += performance.now() - began;
      began = performance.now();
      bareBatch(batch, from);
      rawMs += performance.now() - began;
    }
    const glimpserRate = options.events / (glimpserMs / 1000);
    const rawRate = options.events / (rawMs / 1000);
    row(
      `insertMany, ${BATCH} per transaction, ${fmt(options.events)} events`,
      `${fmt(glimpserRate)} events/s`,
      `${fmt(rawRate)} rows/s`,
      `${fmt(rawRate / glimpserRate, 1)}×`,
    );

    const stats = journal.stats();
    const reader = new Database(journal.file, { readonly: true });
    const rawRange = reader.prepare('SELECT * FROM events WHERE camera = ? AND start_time >= ? AND start_time < ? ORDER BY start_time DESC, seq DESC LIMIT 51');
    const window = (rnd: () => number) => {
      const from = end - 30 * DAY + Math.floor(rnd() * 29 * DAY);
      return { camera: CAMERAS[Math.floor(rnd() * CAMERAS.length)], from, to: from + Math.ceil(((1 + rnd() * 23) * DAY) / 24) };
    };
    const range = latencies((rnd) => journal.query({ ...window(rnd), limit: 50 }), QUERIES, 7);
    const rangeRaw = latencies(
      (rnd) => {
        const w = window(rnd);
        rawRange.all(w.camera, w.from, w.to);
      },
      QUERIES,
      7,
    );
    row(
      `camera + time range, 50 rows (${QUERIES} queries)`,
      `p50 ${fmt(range.p50, 2)} ms, p95 ${fmt(range.p95, 2)} ms`,
      `p50 ${fmt(rangeRaw.p50, 2)} ms, p95 ${fmt(rangeRaw.p95, 2)} ms`,
      `${fmt(range.p50 / rangeRaw.p50, 1)}×`,
    );
    const nextPage = latencies(
      (rnd) => {
        const w = window(rnd);
        const first = journal.query({ ...w, limit: 50 });
        if (first.next) journal.query({ ...w, cursor: first.next, limit: 50 });
      },
      QUERIES,
      11,
    );
    row(`camera + time range, page 1 then page 2 by cursor`, `p50 ${fmt(nextPage.p50, 2)} ms, p95 ${fmt(nextPage.p95, 2)} ms`, '', '');
    const zone = latencies((rnd) => journal.query({ zone: ZONES[Math.floor(rnd() * ZONES.length)], limit: 50 }), QUERIES, 13);
    const zoneRange = latencies((rnd) => journal.query({ ...window(rnd), zone: ZONES[Math.floor(rnd() * ZONES.length)], limit: 50 }), QUERIES, 17);
    row(`zone, 50 rows (${QUERIES} queries)`, `p50 ${fmt(zone.p50, 2)} ms, p95 ${fmt(zone.p95, 2)} ms`, '', '');
    row(`zone + camera + time range, 50 rows`, `p50 ${fmt(zoneRange.p50, 2)} ms, p95 ${fmt(zoneRange.p95, 2)} ms`, '', '');
    const bareRange = bare.db.prepare('SELECT * FROM bare WHERE camera = ? AND start_time >= ? AND start_time < ? ORDER BY start_time DESC LIMIT 50');
    const scan = latencies(
      (rnd) => {
        const w = window(rnd);
        bareRange.all(w.camera, w.from, w.to);
      },
      5,
      7,
    );
    row('same range on the bare table (no index, 5 queries)', '', `p50 ${fmt(scan.p50, 1)} ms`, '');
    reader.close();
    bare.db.close();

    let began = performance.now();
    const check = journal.enforceRetention();
    row('retention check with nothing to delete', `${fmt(performance.now() - began, 2)} ms`, '', '');
    await journal.close();
    began = performance.now();
    const reopened = new EventJournal({ dataDir: path.join(dir, 'big'), maxAgeDays: Infinity, maxBytes: Infinity });
    reopened.open();
    row(`open a journal of ${fmt(stats.events)} events (counts its events once)`, `${fmt(performance.now() - began)} ms`, '', '');
    await reopened.close();
    began = performance.now();
    const aged = new EventJournal({ dataDir: path.join(dir, 'big'), maxAgeDays: 29, maxBytes: Infinity });
    aged.open();
    const openMs = performance.now() - began;
    row(`open + age retention of 1 day (${fmt(stats.events - aged.stats().events)} events)`, `${fmt(openMs)} ms`, '', '');
    await aged.close();

    process.stdout.write(
      `\nEvent journal: ${fmt(stats.events)} events, ${fmt(check.bytes.total / 1024 ** 2)} MiB (database ${fmt(check.bytes.database / 1024 ** 2)} MiB)\n`,
    );
    process.stdout.write(
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 1024 ** 3)} GiB RAM, Node ${process.version}, SQLite ${sqliteVersion()}\n\n`,
    );
    process.stdout.write('| Measurement | Glimpser | Raw better-sqlite3 (bare table) | Ratio |\n| --- | --- | --- | --- |\n');
    for (const cells of rows) process.stdout.write(`| ${cells.join(' | ')} |\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
