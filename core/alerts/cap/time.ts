import { CAP_TIME_PATTERN } from './model';

/**
 * CAP 1.2 §3.3.2 times: `YYYY-MM-DDThh:mm:ss±hh:mm`. No fractional seconds, and never "Z": UTC is written "-00:00".
 * JavaScript's `toISOString()` gives both, so every CAP time goes through here.
 */

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * Writes `date` as a CAP time at a fixed offset from UTC (minutes east, e.g. 120 for +02:00; 0 gives "-00:00").
 * Milliseconds are dropped, not rounded, so a time is never written later than it happened.
 */
export function formatCapTime(date: Date, offsetMinutes = 0): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('CAP time: expected a valid Date, got an invalid one');
  if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) >= 24 * 60) {
    throw new RangeError(`CAP time offset: expected whole minutes between -1439 and 1439, got ${offsetMinutes}`);
  }
  const local = new Date(Math.floor(date.getTime() / 1000) * 1000 + offsetMinutes * 60_000);
  const year = local.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`CAP time: expected a year from 0000 to 9999, got ${year}`);
  const sign = offsetMinutes > 0 ? '+' : '-';
  const offset = Math.abs(offsetMinutes);
  return (
    `${pad(year, 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(offset / 60))}:${pad(offset % 60)}`
  );
}

export interface CapTime {
  date: Date;
  /** Minutes east of UTC as written; "-00:00" and "+00:00" both give 0. */
  offsetMinutes: number;
}

/** Reads a CAP time, or returns undefined when `text` is not one (wrong shape, or a date such as Feb 30). */
export function parseCapTime(text: string): CapTime | undefined {
  if (!CAP_TIME_PATTERN.test(text)) return undefined;
  const [year, month, day, hour, minute, second] = [0, 5, 8, 11, 14, 17].map((at) => Number(text.slice(at, at + (at === 0 ? 4 : 2))));
  const offset = Number(text.slice(20, 22)) * 60 + Number(text.slice(23, 25));
  const offsetMinutes = text[19] === '-' && offset !== 0 ? -offset : offset;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || Math.abs(offsetMinutes) >= 24 * 60) return undefined;
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second);
  if (utc.getUTCDate() !== day) return undefined;
  return { date: new Date(utc.getTime() - offsetMinutes * 60_000), offsetMinutes };
}
