/**
 * The one assertion for error answers (issue 12, acceptance 3): every error Glimpser's HTTP routes give is RFC 9457
 * problem details. Use it wherever a test expects a 4xx or 5xx, so a change of format is caught everywhere at once.
 */

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  error?: string;
  errors?: { field: string; detail: string }[];
  [member: string]: unknown;
}

export interface ProblemExpectation {
  /** The detail, matched (RegExp) or equal (string). */
  detail?: RegExp | string;
  /** A validation error names this field path in `errors[]` (e.g. `body.keep`, `limit`). */
  field?: string;
  /** The `error` member: Glimpser's stable code (`invalid_request`, `not_found`, …). */
  code?: string;
}

/** An answer a test already read: the status, its headers (fetch's Headers or node's) and the body as text or parsed. */
export interface Answer {
  status: number;
  headers: Headers | Record<string, string | string[] | number | undefined>;
  body: unknown;
}

const RFC9457_STRINGS = ['type', 'title', 'detail', 'instance'] as const;

/**
 * Checks `Content-Type: application/problem+json` and the RFC 9457 members (§3.1: type, title, status, detail,
 * instance), the field path of a validation error, and that nothing leaks a stack trace or install path.
 * A fetch Response is read here (await the result); an Answer is checked at once.
 */
export function expectProblem(response: Response, status: number, expected?: ProblemExpectation): Promise<Problem>;
export function expectProblem(answer: Answer, status: number, expected?: ProblemExpectation): Problem;
export function expectProblem(response: Response | Answer, status: number, expected: ProblemExpectation = {}): Promise<Problem> | Problem {
  if (response instanceof Response) {
    return response.text().then((text) => check({ status: response.status, contentType: response.headers.get('content-type'), text }, status, expected));
  }
  const text =
    typeof response.body === 'string' ? response.body : Buffer.isBuffer(response.body) ? response.body.toString('utf8') : JSON.stringify(response.body);
  return check({ status: response.status, contentType: headerOf(response.headers, 'content-type'), text }, status, expected);
}

function headerOf(headers: Answer['headers'], name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const value = headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return value === undefined ? null : String(value);
}

function check(answer: { status: number; contentType: string | null; text: string }, status: number, expected: ProblemExpectation): Problem {
  expect({ status: answer.status, contentType: answer.contentType, body: answer.text.slice(0, 500) }).toEqual({
    status,
    contentType: expect.stringMatching(/^application\/problem\+json(;|$)/),
    body: expect.anything(),
  });
  const problem = JSON.parse(answer.text) as Problem;
  for (const member of RFC9457_STRINGS) expect({ member, value: typeof problem[member] }).toEqual({ member, value: 'string' });
  expect(problem.status).toBe(status);
  expect(problem.title.length).toBeGreaterThan(0);
  expect(problem.detail.length).toBeGreaterThan(0);
  expect(problem.instance).toMatch(/^\//);
  if (problem.type !== 'about:blank') expect(problem.type).toMatch(/^[a-z][a-z0-9+.-]*:/);
  // No stack frames, no install paths, whatever the member.
  expect(answer.text).not.toMatch(/\bat .+\(.+:\d+:\d+\)|node_modules|"stack"/);
  if (problem.errors !== undefined) {
    expect(Array.isArray(problem.errors)).toBe(true);
    for (const entry of problem.errors) expect(entry).toEqual({ field: expect.any(String), detail: expect.any(String) });
  }
  if (expected.detail instanceof RegExp) expect(problem.detail).toMatch(expected.detail);
  else if (expected.detail !== undefined) expect(problem.detail).toBe(expected.detail);
  if (expected.field !== undefined) expect(problem.errors?.map((e) => e.field)).toContain(expected.field);
  if (expected.code !== undefined) expect(problem.error).toBe(expected.code);
  return problem;
}
