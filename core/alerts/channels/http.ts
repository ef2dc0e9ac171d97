import { STATUS_CODES } from 'node:http';
import { retryAfterMs } from '../../describe/retry-after';
import { DeliveryError } from '../index';

/*
 * How an HTTP answer or failure decides a delivery's fate, shared by the channels that speak HTTP (webhook, web push,
 * SMS): 2xx delivered; 408, 429 and 5xx tried again (after Retry-After when the service says so); every other 4xx
 * permanent, since sending the same request again cannot succeed; a redirect permanent too, because deliveries
 * never follow one (the place it points at was not checked against the URL policy).
 */
type HeaderSource = Parameters<typeof retryAfterMs>[0];

/** Whether a status code may succeed when the same request is sent again later. */
export function isRetryableStatus(statusCode: number): boolean {
  return statusCode === 408 || statusCode === 429 || statusCode >= 500;
}

/**
 * The DeliveryError for a non-2xx answer, or null for 2xx. `detail` is a short excerpt of the answer's body (what
 * the service said), `what` names the receiver in the message ("the webhook receiver").
 */
export function httpStatusError(statusCode: number, headers: HeaderSource, what: string, detail = '', now = Date.now()): DeliveryError | null {
  if (statusCode >= 200 && statusCode < 300) return null;
  const said = detail ? `: ${detail}` : '';
  const status = `HTTP ${statusCode} ${STATUS_CODES[statusCode] ?? ''}`.trim();
  if (statusCode >= 300 && statusCode < 400) {
    const location = header(headers, 'location');
    return new DeliveryError(
      `${what} answered ${status}${location ? ` to ${location}` : ''}: redirects are not followed, set the URL to where it points`,
      true,
      statusCode,
    );
  }
  if (isRetryableStatus(statusCode)) return new DeliveryError(`${what} answered ${status}${said}`, false, statusCode, retryAfterMs(headers, now));
  return new DeliveryError(`${what} answered ${status}${said}`, true, statusCode);
}

/** A failure before any answer (refused connection, reset, DNS, timeout): always worth another try. */
export function networkError(err: unknown, what: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const error = err as NodeJS.ErrnoException;
  if (error?.name === 'AbortError' || error?.name === 'TimeoutError') return new DeliveryError(`${what} did not answer in time`, false);
  const message = error?.message ?? String(err);
  const code = error?.code && !message.includes(error.code) ? ` (${error.code})` : '';
  return new DeliveryError(`${what} could not be reached: ${message}${code}`, false);
}

function header(headers: HeaderSource, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name);
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}
