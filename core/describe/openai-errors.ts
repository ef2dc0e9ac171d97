import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { DescribeError } from './vision';

export type SendFailure =
  | { kind: 'rate_limited'; headers: Headers | undefined; message: string }
  | { kind: 'retryable'; error: DescribeError }
  | { kind: 'final'; error: DescribeError };

/**
 * Turns what the SDK throws into what Glimpser does next. Server errors and lost connections are worth one more
 * try; a timeout is not (the picture is stale by then and a slow model stays slow); 4xx replies need the user.
 */
export function classifyFailure(err: unknown, where: { baseURL: string; model: string; timeoutMs: number; closed: boolean; timedOut: boolean }): SendFailure {
  const at = `${where.baseURL} (model ${where.model})`;
  if (where.timedOut && !where.closed) {
    return {
      kind: 'final',
      error: new DescribeError(`no reply from ${at} within ${where.timeoutMs} ms; a slow or busy model needs a longer timeout`, 'timeout'),
    };
  }
  if (err instanceof APIUserAbortError || (where.closed && err instanceof Error && err.name === 'AbortError')) {
    return { kind: 'final', error: new DescribeError(`request to ${at} was abandoned: the AI provider was closed (flow redeployed or stopped)`, 'closed') };
  }
  if (err instanceof APIConnectionTimeoutError) {
    return {
      kind: 'final',
      error: new DescribeError(`no reply from ${at} within ${where.timeoutMs} ms; a slow or busy model needs a longer timeout`, 'timeout'),
    };
  }
  if (err instanceof APIConnectionError) {
    const cause = err.cause instanceof Error ? err.cause.message : err.message;
    return { kind: 'retryable', error: new DescribeError(`cannot reach ${at}: ${cause}`, 'server') };
  }
  if (err instanceof APIError) {
    const status = err.status ?? 0;
    if (status === 429) return { kind: 'rate_limited', headers: err.headers, message: err.message };
    if (status >= 500) return { kind: 'retryable', error: new DescribeError(`${at} failed with HTTP ${status}: ${err.message}`, 'server') };
    if (status === 401 || status === 403)
      return { kind: 'final', error: new DescribeError(`${at} refused the API key (HTTP ${status}): check the key in the glimpser-ai node`, 'request') };
    if (status === 404)
      return {
        kind: 'final',
        error: new DescribeError(`${at} answered HTTP 404: check the base URL and that the model "${where.model}" exists there`, 'request'),
      };
    return {
      kind: 'final',
      error: new DescribeError(`${at} refused the request with HTTP ${status} (does the model accept images and JSON output?): ${err.message}`, 'request'),
    };
  }
  return { kind: 'final', error: new DescribeError(`request to ${at} failed: ${err instanceof Error ? err.message : String(err)}`, 'request') };
}
