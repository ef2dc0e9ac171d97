import type { Problem } from '../../core/net/problem';

/** An error answer of the API (RFC 9457 problem details), or a network failure as one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem>,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }
}

/** Called on a 401 from any request: the session ended (expired, signed out elsewhere, password changed). */
let onSignedOut: () => void = () => undefined;
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * One call to the API with the session cookie (same origin, so no token in page scripts). JSON answers are parsed;
 * an error answer throws ApiError with the problem's detail, which names what was wrong.
 */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api${path}`, {
      method: options.method ?? 'GET',
      credentials: 'same-origin',
      headers: options.body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, { detail: 'Glimpser cannot be reached; check the connection' });
  }
  if (res.status === 401 && path !== '/auth/login') onSignedOut();
  const type = res.headers.get('Content-Type') ?? '';
  if (!res.ok) {
    const problem = type.includes('json') ? ((await res.json()) as Partial<Problem>) : { detail: `HTTP ${res.status}` };
    throw new ApiError(res.status, problem);
  }
  if (res.status === 204) return undefined as T;
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

/** Builds a query string from the defined values, for the list routes' filters and cursors. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
