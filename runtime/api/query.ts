import type { Request } from 'express';
import type { EventQuery } from '../../core/store/journal';
import { MAX_QUERY_LIMIT } from '../../core/store/journal-query';

/** A request the API answers 400 to; the message names the parameter and what was expected. */
export class BadRequest extends Error {}

const TIME_EXPECTED = 'expected an ISO 8601 time or milliseconds';
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export interface ListQueryOptions {
  /** The query parameters the endpoint accepts; any other is refused by name. */
  parameters: readonly string[];
  /** Parameters passed on to the journal query as they are. */
  copied: ReadonlyArray<'camera' | 'type' | 'zone' | 'cursor'>;
  /** Where the query starts: the default limit, and fixed filters (e.g. type "summary"). */
  base: EventQuery;
}

/** Reads a journal listing's query string (camera, type, zone, from, to, limit, cursor), naming any bad parameter. */
export function parseListQuery(query: Request['query'], options: ListQueryOptions): EventQuery {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!options.parameters.includes(name)) throw new BadRequest(`${name}: unknown query parameter; expected one of ${options.parameters.join(', ')}`);
    if (Array.isArray(value)) throw new BadRequest(`${name}: expected one value, got ${value.length}`);
    if (typeof value !== 'string') throw new BadRequest(`${name}: expected a plain value, got a nested one`);
    values[name] = value;
  }
  const parsed: EventQuery = { ...options.base };
  if (values.limit !== undefined) {
    if (!/^\d{1,3}$/.test(values.limit) || Number(values.limit) < 1 || Number(values.limit) > MAX_QUERY_LIMIT) {
      throw new BadRequest(`limit: expected a whole number from 1 to ${MAX_QUERY_LIMIT}, got ${JSON.stringify(values.limit)}`);
    }
    parsed.limit = Number(values.limit);
  }
  for (const name of options.copied) if (values[name] !== undefined) parsed[name] = values[name];
  if (values.from !== undefined) parsed.from = parseTime('from', values.from);
  if (values.to !== undefined) parsed.to = parseTime('to', values.to);
  if (parsed.from !== undefined && parsed.to !== undefined && parsed.from >= parsed.to) {
    throw new BadRequest(`from must be before to (got from ${JSON.stringify(values.from)} and to ${JSON.stringify(values.to)})`);
  }
  return parsed;
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
    throw new BadRequest(`${name}: ${TIME_EXPECTED}, got ${JSON.stringify(text)}`);
  }
  if (match[4] !== undefined && match[7] === undefined) throw new BadRequest(`${name}: ${TIME_EXPECTED}, got ${JSON.stringify(text)} (a date-time needs a zone: Z or +02:00)`);
  return ms;
}
