import { Type, type Static } from '@sinclair/typebox';
import type Database from 'better-sqlite3';
import { CAMERA_ID_EXPECTED, CAMERA_ID_PATTERN, ZONE_NAME_EXPECTED, ZONE_NAME_PATTERN } from '../ids';
import type { StoredEvent } from './event';
import { EVENT_TYPE_PATTERN, EventValidationError, validator } from './event-schema';
import { MAX_ID_TIME } from './event-id';
import { rowToEvent, type EventRow } from './journal-db';

export const MAX_QUERY_LIMIT = 500;

const Time = (expected: string) => Type.Integer({ minimum: 0, maximum: MAX_ID_TIME, expected });

export const EventQuerySchema = Type.Object(
  {
    camera: Type.Optional(Type.String({ pattern: CAMERA_ID_PATTERN.source, expected: CAMERA_ID_EXPECTED })),
    type: Type.Optional(Type.String({ pattern: EVENT_TYPE_PATTERN.source, expected: 'an event type: 1-32 characters of a-z or "_"' })),
    zone: Type.Optional(Type.String({ pattern: ZONE_NAME_PATTERN.source, expected: ZONE_NAME_EXPECTED })),
    from: Type.Optional(Time('milliseconds since the epoch: events that start at or after it')),
    to: Type.Optional(Time('milliseconds since the epoch: events that start before it')),
    limit: Type.Integer({ minimum: 1, maximum: MAX_QUERY_LIMIT, expected: `a whole number from 1 to ${MAX_QUERY_LIMIT}` }),
    cursor: Type.Optional(Type.String({ expected: 'the "next" value of a previous page' })),
  },
  { additionalProperties: false, expected: 'a query object' },
);

/** Filters combine with AND; `from` is inclusive and `to` exclusive, both on the event's start time. */
export type EventQuery = Static<typeof EventQuerySchema>;

export interface EventPage {
  /** Newest first (by start time, then id order of writing). */
  events: StoredEvent[];
  /** Pass as `cursor` for the next, older page; null on the last page. */
  next: string | null;
}

const checkQuery = validator(EventQuerySchema);

interface Position {
  startTime: number;
  seq: number;
}

/**
 * Keyset paging: a cursor is the (start time, seq) of the last event handed out, and the next page starts
 * strictly below it. Unlike an offset, this neither repeats nor skips events when new ones arrive between
 * pages, and reading page 1000 costs what reading page 1 does.
 */
function encodeCursor(position: Position): string {
  return Buffer.from(`${position.startTime}.${position.seq}`).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  const match = /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  const startTime = Number(match?.[1]);
  const seq = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(startTime) || !Number.isSafeInteger(seq))
    throw new EventValidationError('cursor', 'the "next" value of a previous page', cursor);
  return { startTime, seq };
}

/** Builds each filter combination's statement once and keeps it. */
export class EventQueries {
  private readonly statements = new Map<string, Database.Statement<Record<string, string | number>, EventRow>>();

  constructor(private readonly db: Database.Database) {}

  run(input: unknown): EventPage {
    const query = checkQuery(input, '');
    if (query.from !== undefined && query.to !== undefined && query.from >= query.to)
      throw new EventValidationError('from', `a time before to (${query.to})`, query.from);
    const params: Record<string, string | number> = { limit: query.limit + 1 };
    for (const key of ['camera', 'type', 'zone', 'from', 'to'] as const) if (query[key] !== undefined) params[key] = query[key];
    if (query.cursor !== undefined) {
      const position = decodeCursor(query.cursor);
      params.cursorTime = position.startTime;
      params.cursorSeq = position.seq;
    }
    const rows = this.statement(Object.keys(params)).all(params);
    const more = rows.length > query.limit;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    return { events: rows.map(rowToEvent), next: more ? encodeCursor({ startTime: last.start_time, seq: last.seq }) : null };
  }

  private statement(keys: string[]): Database.Statement<Record<string, string | number>, EventRow> {
    const key = keys.sort().join(',');
    let statement = this.statements.get(key);
    if (!statement) {
      statement = this.db.prepare<Record<string, string | number>, EventRow>(eventQuerySql(keys));
      this.statements.set(key, statement);
    }
    return statement;
  }
}

/** The SQL for a combination of filters (parameter names as `run` binds them); exported for plan checks. */
export function eventQuerySql(parameters: Iterable<string>): string {
  const has = new Set(parameters);
  // With a zone, the zone's rows lead (CROSS JOIN fixes the join order in SQLite): their key is
  // (zone, start_time, seq), already in page order. Without one, the camera, type or time index is walked.
  const byZone = has.has('zone');
  const time = byZone ? 'z.start_time' : 'e.start_time';
  const seq = byZone ? 'z.event_seq' : 'e.seq';
  const where: string[] = [];
  if (byZone) where.push('z.zone = @zone');
  if (has.has('camera')) where.push('e.camera = @camera');
  if (has.has('type')) where.push('e.type = @type');
  if (has.has('from')) where.push(`${time} >= @from`);
  if (has.has('to')) where.push(`${time} < @to`);
  // The first half is a plain range SQLite can seek to; the second drops the events of that same start time
  // already handed out.
  if (has.has('cursorTime')) where.push(`${time} <= @cursorTime AND (${time} < @cursorTime OR ${seq} < @cursorSeq)`);
  const from = byZone ? 'event_zones z CROSS JOIN events e ON e.seq = z.event_seq' : 'events e';
  return `SELECT e.* FROM ${from}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${time} DESC, ${seq} DESC LIMIT @limit`;
}
