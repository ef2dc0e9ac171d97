import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../core/log/logger';
import { instancePath, PROBLEM_CONTENT_TYPE, problemOf } from '../../core/net/problem';

/**
 * What went wrong, for programs: the `error` member of every problem answer (the same codes the API gave before it
 * answered RFC 9457 problem details, so programs that read `error` keep working). The `detail` is for people.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'unsupported_media_type'
  | 'not_found'
  | 'method_not_allowed'
  | 'too_many_attempts'
  | 'too_many_requests'
  | 'too_many_clients'
  | 'too_large'
  | 'no_frame'
  | 'timeout'
  | 'not_configured'
  | 'provider_failed'
  | 'refused'
  | 'internal';

export { PROBLEM_CONTENT_TYPE, problemOf, type FieldProblem, type Problem } from '../../core/net/problem';

function instanceOf(req: Request | undefined): string {
  return instancePath(req?.originalUrl ?? req?.url);
}

/**
 * Writes an error answer. Every error Glimpser's HTTP routes give goes through here, so the format is this one
 * function. The message is shown to the client: it names the input that was wrong and never carries internals.
 */
export function sendError(res: Response, status: number, code: ErrorCode, message: string): void {
  res
    .status(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problemOf(status, code, message, instanceOf(res.req))));
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
    /** Headers the answer needs, e.g. Retry-After on a 429 or 503, Allow on a 405. */
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

/** What body-parser's errors (http-errors) carry beside the message. */
interface ExposedError extends Error {
  type?: string;
  limit?: number;
  length?: number;
  encoding?: string;
  charset?: string;
  status?: number;
  expose?: boolean;
}

const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/**
 * The HttpError a thrown error answers as: HttpErrors as they are, body-parser's refusals (bad JSON, too large,
 * unsupported encoding or charset) as 400/413/415 naming the header or limit, other client errors that say they
 * may be shown (`expose`) with their own status; null for anything else, which is a 500.
 */
export function httpErrorOf(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (!(err instanceof Error)) return null;
  const e = err as ExposedError;
  switch (e.type) {
    case 'entity.parse.failed':
      return badRequest(`body: not valid JSON (${e.message})`);
    case 'entity.too.large':
      return new HttpError(413, 'too_large', `body: ${e.length === undefined ? 'larger' : `${e.length} bytes is larger`} than the limit of ${size(e.limit)}`);
    case 'encoding.unsupported':
      return new HttpError(415, 'unsupported_media_type', `Content-Encoding: expected identity (an uncompressed body), got ${quoted(e.encoding)}`, {
        'Accept-Encoding': 'identity',
      });
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_media_type', `Content-Type: expected charset utf-8, got ${quoted(e.charset)}`);
  }
  const status = e.status;
  if (e.expose === true && status !== undefined && status >= 400 && status < 500)
    return new HttpError(status, CODE_OF_STATUS[status] ?? 'invalid_request', e.message);
  return null;
}

/**
 * Answers an error as problem details: a client error as httpErrorOf says, anything else 500 with a generic detail
 * and the error (stack included) only in the log under `failure`.
 */
function answer(err: unknown, req: Request, res: Response, log: Logger, failure: string): void {
  const known = httpErrorOf(err);
  if (known) {
    res.set(known.headers);
    sendError(res, known.status, known.code, known.message);
    return;
  }
  const error = err instanceof Error ? err : new Error(String(err));
  log.error({ err: error.message, stack: error.stack, method: req.method, path: instanceOf(req) }, failure);
  sendError(res, 500, 'internal', 'internal error; see the server log');
}

/** The API's one error middleware, last in every router that can be mounted on its own. */
export function apiErrors(log: Logger, failure: string): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    answer(err, req, res, log, failure);
  };
}

/**
 * The last two handlers of the whole HTTP app, after the API, the editor and /hooks: an unknown path is a 404 and
 * an error nothing else answered (the editor's body parser, say) is problem details, never Express' default page,
 * which shows the stack and install paths outside production.
 */
export function lastHandlers(log: Logger): [RequestHandler, ErrorRequestHandler] {
  const unknownPath: RequestHandler = (req, res) => sendError(res, 404, 'not_found', `path: nothing at ${req.method} ${instanceOf(req)}`);
  const lastErrors: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    answer(err, req, res, log, 'http request failed');
  };
  return [unknownPath, lastErrors];
}

function size(bytes: number | undefined): string {
  if (bytes === undefined) return 'this route';
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

function quoted(value: string | undefined): string {
  return JSON.stringify((value ?? '').slice(0, 64));
}
