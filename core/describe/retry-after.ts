/** How long to wait when a 429 says nothing: long enough not to hammer, short enough not to lose an hour. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 30_000;
/** A server asking for more than a day is misconfigured; Glimpser tries again after a day at the latest. */
const MAX_PAUSE_MS = 24 * 3600_000;

type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined> | undefined | null;

function header(headers: HeaderSource, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name);
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

/**
 * The pause a 429 asks for, in ms: `retry-after-ms` (OpenAI's, milliseconds) first, then `Retry-After` as seconds
 * or as an HTTP date (RFC 9110 §10.2.3). Null when neither is present or readable.
 */
export function retryAfterMs(headers: HeaderSource, now: number): number | null {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return clamp(Number(ms));
  const value = header(headers, 'retry-after');
  if (value === null) return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return clamp(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : clamp(date - now);
}

function clamp(ms: number): number {
  return Math.min(MAX_PAUSE_MS, Math.max(0, Math.round(ms)));
}
