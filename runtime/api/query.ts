import type { Request } from 'express';
import { EventValidationError } from '../../core/store/event';
import type { EventJournal, EventPage, EventQuery } from '../../core/store/journal';
import { MAX_QUERY_LIMIT } from '../../core/store/journal-query';
import { badRequest } from './errors';

const TIME_EXPECTED = 'expected an ISO 8601 time or milliseconds';
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** What every listing reads the same way: a page size and a time range. */
export interface ListQuery {
  limit?: number;
  from?: number;
  to?: number;
}

export interface ListQueryOptions<Q extends ListQuery> {
  /** The query parameters the endpoint accepts; any other is refused by name. */
  parameters: readonly string[];
  /** Parameters passed on as they are, for the store to check (camera, cursor, ...). */
  copied: ReadonlyArray<Exclude<keyof Q, keyof ListQuery> & string>;
  /** Where the query starts: the default limit, and fixed filters (e.g. type "summary"). */
  base: Q;
  /** The largest page (default: the journal's, MAX_QUERY_LIMIT). */
  maxLimit?: number;
}

/** Reads a listing's query string (limit, from, to and the copied parameters), naming any bad parameter. */
export function parseListQuery<Q extends ListQuery>(query: Request['query'], options: ListQueryOptions<Q>): Q {
  const maxLimit = options.maxLimit ?? MAX_QUERY_LIMIT;
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!options.parameters.includes(name)) throw badRequest(`${name}: unknown query parameter; expected one of ${options.parameters.join(', ')}`);
    if (Array.isArray(value)) throw badRequest(`${name}: expected one value, got ${value.length}`);
    if (typeof value !== 'string') throw badRequest(`${name}: expected a plain value, got a nested one`);
    values[name] = value;
  }
  const parsed: Q = { ...options.base };
  if (values.limit !== undefined) {
    // At most as many digits as the largest page, so no huge number is ever parsed.
    const digits = new RegExp(`^\\d{1,${String(maxLimit).length}}$`);
    if (!digits.test(values.limit) || Number(values.limit) < 1 || Number(values.limit) > maxLimit) {
      throw badRequest(`limit: expected a whole number from 1 to ${maxLimit}, got ${JSON.stringify(values.limit)}`);
    }
    parsed.limit = Number(values.limit);
  }
  for (const name of options.copied) if (values[name] !== undefined) (parsed as Record<string, unknown>)[name] = values[name];
  if (values.from !== undefined) parsed.from = parseTime('from', values.from);
  if (values.to !== undefined) parsed.to = parseTime('to', values.to);
  if (parsed.from !== undefined && parsed.to !== undefined && parsed.from >= parsed.to) {
    throw badRequest(`from must be before to (got from ${JSON.stringify(values.from)} and to ${JSON.stringify(values.to)})`);
  }
  return parsed;
}

/** A journal listing; the journal's refusal of a filter value (camera, type, zone, cursor) is the client's error. */
export function queryJournal(journal: EventJournal, query: EventQuery): EventPage {
  try {
    return journal.query(query);
  } catch (err) {
    if (err instanceof EventValidationError) throw badRequest(err.message);
    throw err;
  }
}

/** Milliseconds, or ISO 8601: a date (midnight UTC) or a date-time with its zone, since a zone-less one is ambiguous. */
export function parseTime(name: string, text: string): number {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const match = ISO_TIME.exec(text);
  const ms = match ? Date.parse(text) : Number.NaN;
  const [year, month, day] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  // Date.parse rolls 2024-02-30 over to 1 March instead of refusing it.
  if (!match || Number.isNaN(ms) || ms < 0 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) {
    throw badRequest(`${name}: ${TIME_EXPECTED}, got ${JSON.stringify(text)}`);
  }
  if (match[4] !== undefined && match[7] === undefined)
    throw badRequest(`${name}: ${TIME_EXPECTED}, got ${JSON.stringify(text)} (a date-time needs a zone: Z or +02:00)`);
  return ms;
}
