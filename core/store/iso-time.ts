/**
 * `new Date(ms).toISOString()`, about 8× faster for lists: event pages format four times per event, and the Date
 * allocation and formatting were a tenth of GET /api/events' time (bench/api). The date part comes from
 * toISOString once per UTC day (a one-entry cache: a page's events are mostly of one day); the time of day is
 * integer arithmetic. UTC has no daylight saving, so every day is 86,400,000 ms here, as in ECMAScript.
 */
const DAY_MS = 86_400_000;
let cachedDay = Number.NaN;
let cachedDate = '';

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

export function isoTime(ms: number): string {
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, -13);
    cachedDay = day;
  }
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${cachedDate}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(rest - seconds * 1000)}Z`;
}
