import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../../core/log/logger';

/** What went wrong, for programs: the `error` field of every error answer. The message is for people. */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'unsupported_media_type'
  | 'not_found'
  | 'too_many_attempts'
  | 'too_many_clients'
  | 'too_large'
  | 'no_frame'
  | 'timeout'
  | 'internal';

/**
 * Writes an error answer. Every error the API gives goes through here, so a change of format (to RFC 9457
 * problem details, say) is a change to this one function.
 */
export function sendError(res: Response, status: number, code: ErrorCode, message: string): void {
  res.status(status).json({ error: code, message });
}

/**
 * Thrown by a handler (or passed to `next` from an async one) to answer with this status. The message is shown
 * to the client, so it names the input that was wrong and what was expected, and never carries internals.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** Headers the answer needs, e.g. Retry-After on a 503. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function badRequest(message: string): HttpError {
  return new HttpError(400, 'invalid_request', message);
}

export function notFound(message: string): HttpError {
  return new HttpError(404, 'not_found', message);
}

/** What body-parser's errors carry beside the message. */
interface BodyParserError extends Error {
  type?: string;
  limit?: number;
}

/**
 * The API's one error middleware, last in every router that can be mounted on its own: HttpError answers as
 * it says, a body that is not JSON or is too large answers 400 or 413, anything else 500 with its detail only
 * in the log under `failure` (e.g. "event request failed").
 */
export function apiErrors(log: Logger, failure: string): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) {
      res.set(err.headers);
      sendError(res, err.status, err.code, err.message);
      return;
    }
    const { type, limit, message } = err instanceof Error ? (err as BodyParserError) : { type: undefined, limit: undefined, message: String(err) };
    if (type === 'entity.parse.failed') return sendError(res, 400, 'invalid_request', `body: not valid JSON (${message})`);
    if (type === 'entity.too.large') return sendError(res, 413, 'too_large', `body: larger than ${kib(limit)}`);
    log.error({ err: message }, failure);
    sendError(res, 500, 'internal', 'internal error; see the server log');
  };
}

function kib(bytes: number | undefined): string {
  return bytes === undefined ? 'the limit' : `${Math.round(bytes / 1024)} KiB`;
}
