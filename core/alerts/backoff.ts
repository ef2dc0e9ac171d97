import { decorrelatedJitterGenerator, ExponentialBackoff } from 'cockatiel';
import { DeliveryError } from './index';

/** How deliveries are retried: a delay that grows exponentially with jitter up to a cap, and a number of attempts. */
export interface RetryPolicy {
  /** The first retry's delay (ms), before jitter. */
  initialDelayMs: number;
  /** No retry waits longer than this (ms), Retry-After aside. */
  maxDelayMs: number;
  /** Attempts in all, the first included; the last failure dead-letters the delivery. */
  maxAttempts: number;
  /** The longest Retry-After honoured (ms); a service asking for more is retried after this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { initialDelayMs: 1000, maxDelayMs: 5 * 60_000, maxAttempts: 12, maxRetryAfterMs: 60 * 60_000 };

/**
 * The delay before attempt `attempts + 1`, after `attempts` failures. Retries are persisted rather than slept
 * through, so cockatiel's backoff is walked from the start for each: decorrelated jitter ("exponential backoff
 * and jitter", AWS architecture blog) keeps a crowd of deliveries that failed together from retrying together.
 */
export function retryDelayMs(policy: RetryPolicy, attempts: number): number {
  let backoff = new ExponentialBackoff({ initialDelay: policy.initialDelayMs, maxDelay: policy.maxDelayMs, generator: decorrelatedJitterGenerator }).next();
  for (let i = 1; i < attempts; i++) backoff = backoff.next(undefined);
  return Math.min(policy.maxDelayMs, Math.max(0, Math.round(backoff.duration)));
}

/** Retry-After (RFC 9110 §10.2.3): seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Classifies an HTTP answer that was not a success: 4xx are permanent (the request itself is wrong and will be
 * again) except 408 Request Timeout and 429 Too Many Requests; 5xx and the rest are worth retrying. Channels that
 * speak HTTP throw what this returns.
 */
export function httpDeliveryError(status: number, retryAfter: string | null | undefined, now: number, detail = ''): DeliveryError {
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  const message = `HTTP ${status}${detail ? `: ${detail}` : ''}`;
  return new DeliveryError(message, permanent, status, permanent ? null : parseRetryAfter(retryAfter, now));
}
