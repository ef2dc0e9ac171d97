import type { TObject, TSchema } from '@sinclair/typebox';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { roleAtLeast, roleRefusal, type Access, type Principal } from '../auth/roles';
import { HttpError } from './errors';
import { compileCheck } from './validate';

/**
 * An API route declared once. The same declaration registers the route with its access check, body limit and
 * validation (`mountRoutes`) and describes it in the OpenAPI document (`openApiDocument` in ./openapi), so the
 * two cannot drift apart.
 */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteBody {
  schema: TSchema;
  /** The content types accepted; anything else is answered 415. Default application/json. */
  contentType?: string | readonly string[];
  /**
   * Who reads the body: `route` (default) parses it here within `limitBytes` (JSON parsed, other types as a
   * Buffer); `handler` leaves the stream to the handler, which then owns the type check and the limit (the CAP
   * validator refuses a large document on its Content-Length before reading any of it).
   */
  parsedBy?: 'route' | 'handler';
  /** `handler` when the handler checks the parsed body with refusals worded for it; the schema then documents it. */
  checkedBy?: 'route' | 'handler';
  /** Largest body in bytes; a larger one is answered 413 before it is parsed. */
  limitBytes: number;
  /** A body that must be there (default true). */
  required?: boolean;
}

export interface RouteResponse {
  description: string;
  schema?: TSchema;
  /** Default application/json when a schema is given. */
  contentType?: string;
  /** Response headers worth documenting, e.g. Retry-After. */
  headers?: Readonly<Record<string, { description: string; schema: TSchema }>>;
}

/** A handler may answer synchronously or return a promise; what it throws or rejects with goes to `next`. */
export type RouteHandler = (req: Request, res: Response, next: NextFunction) => unknown;

export interface Route {
  method: HttpMethod;
  /** OpenAPI style, relative to where the router is mounted: `/events/{id}/snapshot.jpg`. */
  path: string;
  /** Unique across the API; clients generated from the document use it as the function name. */
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  /** The least role that may call it; `public` only for sign-in (health checks live outside the API router). */
  access: Access;
  /** Path parameters; the values arrive as strings and are coerced to the schema's types for the check only. */
  params?: TObject;
  /** Query parameters, checked like `params`; the handler still reads `req.query` as it came. */
  query?: TObject;
  /**
   * `handler` when the handler reads the query itself with errors worded for it (the listings' parseListQuery names
   * repeated and nested values); the schema then documents the parameters and is not checked here.
   */
  queryCheckedBy?: 'route' | 'handler';
  body?: RouteBody;
  /** Status → what it means. Error statuses the declaration already implies (401, 403, 405, 413, 415) are added. */
  responses: Readonly<Record<number, RouteResponse>>;
  handler: RouteHandler;
}

/** What `mountRoutes` needs from the authenticator: the middleware that signs a request in or answers 401. */
export interface RouteAuth {
  requireUser(): RequestHandler;
}

export interface MountOptions {
  /** Runs right after sign-in on every signed-in route: the request limits (runtime/api/rate-limit.ts). */
  limit?: RequestHandler;
}

/** `/events/{id}` → `/events/:id`. */
export function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}

/** The path parameters a path names, in order. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
}

/** The signed-in principal of a request that passed the access check (the authenticator sets `req.user`). */
export function principalOf(req: Request): Principal {
  if (!req.user) throw new HttpError(401, 'unauthorized', 'sign in with HTTP Basic, a bearer token or an API key');
  return req.user;
}

/**
 * Registers each route on `router`: the access check first (so nothing about the input is answered before sign-in),
 * then the route's own body parser with its limit and content type, then path, query and body checks that name
 * the wrong field, then the handler. A known path asked with another method answers 405 with `Allow`.
 */
export function mountRoutes(router: Router, routes: readonly Route[], auth: RouteAuth, options: MountOptions = {}): Router {
  assertUnique(routes);
  const requireUser = auth.requireUser();
  const limit = options.limit ? [options.limit] : [];
  const byPath = new Map<string, Route[]>();
  for (const route of routes) {
    byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
    const chain: RequestHandler[] = [];
    if (route.access !== 'public') chain.push(requireUser, ...limit, requireRole(route));
    if (route.body && route.body.parsedBy !== 'handler') chain.push(...bodyParsing(route, route.body));
    chain.push(inputChecks(route), run(route.handler));
    router[route.method](expressPath(route.path), ...chain);
  }
  for (const [path, declared] of byPath) {
    const allow = allowed(declared);
    router.all(expressPath(path), (req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Allow', allow);
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
      next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.baseUrl}${path}; allowed: ${allow}`, { Allow: allow }));
    });
  }
  return router;
}

/** A router with only these routes: what each API module's factory returns for tests and for the API router. */
export function routerOf(routes: readonly Route[], auth: RouteAuth): Router {
  return mountRoutes(express.Router(), routes, auth);
}

function requireRole(route: Route): RequestHandler {
  const need = route.access;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (need === 'public') return next();
    const principal = principalOf(req);
    if (roleAtLeast(principal.role, need)) return next();
    next(new HttpError(403, 'forbidden', roleRefusal(principal, need, `${route.method.toUpperCase()} ${req.baseUrl}${route.path}`)));
  };
}

/** Finding 9: the route's own limit and type, never a router-wide parser that runs first with a larger limit. */
function bodyParsing(route: Route, body: RouteBody): RequestHandler[] {
  const types = contentTypes(body);
  const type = [...types];
  const parse = isJson(body) ? express.json({ limit: body.limitBytes, type, strict: true }) : express.raw({ limit: body.limitBytes, type });
  const contentType: RequestHandler = (req: Request, _res: Response, next: NextFunction) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    if (!hasBody || req.is(type)) return next();
    const sent = req.headers['content-type'];
    const what = `${route.method.toUpperCase()} ${req.baseUrl}${route.path}`;
    next(new HttpError(415, 'unsupported_media_type', `Content-Type: expected ${type.join(' or ')} for ${what}, got ${sent ? JSON.stringify(sent) : 'none'}`));
  };
  return [contentType, parse];
}

function inputChecks(route: Route): RequestHandler {
  const params = route.params ? compileCheck(route.params, 'path', { coerce: true }) : undefined;
  const query = route.query && route.queryCheckedBy !== 'handler' ? compileCheck(route.query, 'query', { coerce: true }) : undefined;
  const parsed = route.body && route.body.parsedBy !== 'handler' ? route.body : undefined;
  const body = parsed && isJson(parsed) && parsed.checkedBy !== 'handler' ? compileCheck(parsed.schema, 'body') : undefined;
  const bodyRequired = parsed?.required ?? true;
  return (req: Request, _res: Response, next: NextFunction) => {
    const problem =
      params?.({ ...req.params }) ??
      query?.({ ...req.query }) ??
      (body && (bodyRequired || !isEmptyBody(req.body)) ? body(req.body) : undefined) ??
      (parsed && !isJson(parsed) && bodyRequired && !(Buffer.isBuffer(req.body) && req.body.length > 0) ? 'body: expected a request body' : undefined);
    next(problem === undefined ? undefined : new HttpError(400, 'invalid_request', problem));
  };
}

export function contentTypes(body: RouteBody): readonly string[] {
  if (body.contentType === undefined) return ['application/json'];
  return typeof body.contentType === 'string' ? [body.contentType] : body.contentType;
}

function isJson(body: RouteBody): boolean {
  const types = contentTypes(body);
  return types.length === 1 && types[0] === 'application/json';
}

function isEmptyBody(body: unknown): boolean {
  return body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
}

function run(handler: RouteHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      const result = handler(req, res, next);
      if (result instanceof Promise) result.catch(next);
    } catch (err) {
      next(err);
    }
  };
}

function allowed(routes: readonly Route[]): string {
  const methods = new Set(routes.map((r) => r.method.toUpperCase()));
  if (methods.has('GET')) methods.add('HEAD');
  methods.add('OPTIONS');
  return [...methods].join(', ');
}

function assertUnique(routes: readonly Route[]): void {
  const seen = new Set<string>();
  const ids = new Set<string>();
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) throw new Error(`route ${key} is declared twice`);
    if (ids.has(route.operationId)) throw new Error(`operationId "${route.operationId}" is used twice (second: ${key})`);
    seen.add(key);
    ids.add(route.operationId);
  }
}
