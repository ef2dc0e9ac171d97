import { STATUS_CODES } from 'node:http';

/**
 * RFC 9457 problem details, the one format of every error answer Glimpser's HTTP routes give: the API's
 * (runtime/api/errors.ts) and the editor endpoints nodes add. Here, without Express, so nodes can use it too.
 */

/** One wrong input of a 400: where it is (`body.keep`, `limit`, `path.id`) and what was expected there. */
export interface FieldProblem {
  field: string;
  detail: string;
}

/**
 * An error answer as RFC 9457 problem details (`application/problem+json`). `type` is always `about:blank`, so
 * `title` is the HTTP status phrase (§4.2.1); the stable code is the `error` extension member (docs/decisions.md,
 * "API errors").
 */
export interface Problem {
  type: 'about:blank';
  title: string;
  status: number;
  detail: string;
  /** The request path (no query string, which may carry secrets). */
  instance: string;
  /** Glimpser's stable code (`invalid_request`, `not_found`, …): runtime/api/errors.ts lists them. */
  error: string;
  /** Only on a 400 whose detail names the wrong field. */
  errors?: FieldProblem[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

// Errors name the input first ("body.keep: must be boolean", "limit: expected …", "Content-Type: expected …"):
// that prefix is the field path a program can point at.
const FIELD_FIRST = /^([A-Za-z_$][\w$-]*(?:\.[\w$-]+|\[\d+\])*): (.+)$/s;

export function problemOf(status: number, code: string, detail: string, instance: string): Problem {
  const problem: Problem = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, instance, error: code };
  const named = status === 400 ? FIELD_FIRST.exec(detail) : null;
  if (named) problem.errors = [{ field: named[1], detail: named[2] }];
  return problem;
}

/** The request path of a problem's `instance`: without the query string, which may carry secrets. */
export function instancePath(url: string | undefined): string {
  return (url ?? '/').split('?')[0];
}
