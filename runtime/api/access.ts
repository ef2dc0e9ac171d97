import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import type { Logger } from '../../core/log/logger';
import { cookieOf, SESSION_COOKIE, type Authenticator } from '../auth/middleware';
import type { Principal } from '../auth/roles';
import type { IssuedToken } from '../auth/tokens';
import type { ApiKeyStore } from '../stores/api-keys';
import { MAX_PASSWORD_LENGTH, type UserStore } from '../stores/users';
import { HttpError } from './errors';
import { principalOf, type Route } from './route';
import { Cameras, json, keyRoutes, Password, RoleSchema, storeCall, userRoutes } from './users';

/**
 * Sign-in, tokens, users and API keys under /api:
 *
 * POST   /auth/login                 (public)  a bearer token, or with `cookie: true` the web app's session cookie
 * POST   /auth/refresh               (viewer)  a new token for a valid one, within the session's maximum age
 * POST   /auth/logout                (viewer)  signs the token out (and clears the cookie)
 * GET    /me, PUT /me/password       (viewer)  who is signed in; change one's own password
 * and the admin routes for users and API keys (./users).
 */
export interface AccessRoutesDeps {
  users: UserStore;
  keys: ApiKeyStore;
  auth: Authenticator;
  log: Logger;
}

const PrincipalSchema = Type.Object({
  username: Type.String(),
  role: RoleSchema,
  cameras: Cameras,
  via: Type.Union([Type.Literal('password'), Type.Literal('token'), Type.Literal('session'), Type.Literal('key')]),
  keyId: Type.Optional(Type.String()),
});
const TokenResponse = Type.Object({
  token: Type.Optional(Type.String({ description: 'The bearer token; absent when it was set as the session cookie instead.' })),
  tokenType: Type.Union([Type.Literal('Bearer'), Type.Literal('cookie')]),
  expiresAt: Type.String({ format: 'date-time' }),
  user: PrincipalSchema,
});
const RetryAfter = { 'Retry-After': { description: 'Seconds until another attempt is allowed.', schema: Type.Integer() } };

export function accessRoutes(deps: AccessRoutesDeps): Route[] {
  const { users, auth, log } = deps;
  const address = (req: Request) => req.ip ?? req.socket.remoteAddress ?? '';

  /** Token answers are never stored by caches (finding 9); with a cookie the token stays out of page scripts' reach. */
  const sendToken = (req: Request, res: Response, issued: IssuedToken, principal: Principal, cookie: boolean) => {
    res.setHeader('Cache-Control', 'no-store');
    if (cookie) auth.setSessionCookie(req, res, issued);
    res.json({
      ...(cookie ? { tokenType: 'cookie' } : { token: issued.token, tokenType: 'Bearer' }),
      expiresAt: new Date(issued.expiresAt).toISOString(),
      user: principal,
    });
  };
  const tokenRequired = (req: Request): string => {
    const token = auth.tokenOf(req);
    if (token) return token;
    throw new HttpError(
      400,
      'invalid_request',
      'Authorization: expected a bearer token from POST /api/auth/login or the session cookie; API keys are revoked with DELETE /api/keys/{id}',
    );
  };
  const usesCookie = (req: Request) => principalOf(req).via === 'session';

  return [
    {
      method: 'post',
      path: '/auth/login',
      operationId: 'signIn',
      summary: 'Sign in with a password',
      description:
        'Answers a bearer token, or with `cookie: true` sets the web app session cookie (HttpOnly, SameSite=Strict). Failed sign-ins are limited per username and address (1/s, 5/min, 20/h) and per address; a refusal is 429 with Retry-After.',
      tags: ['access'],
      access: 'public',
      body: json(
        Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 128 }),
            password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
            cookie: Type.Optional(Type.Boolean({ description: 'Set the session cookie instead of answering the token.' })),
          },
          { additionalProperties: false },
        ),
      ),
      responses: {
        200: { description: 'Signed in.', schema: TokenResponse },
        401: { description: 'Wrong username or password.' },
        429: { description: 'Too many failed sign-ins.', headers: RetryAfter },
      },
      handler: async (req: Request, res: Response) => {
        const { username, password, cookie } = req.body as { username: string; password: string; cookie?: boolean };
        const principal = await auth.signIn(username, password, address(req));
        log.info({ username: principal.username, cookie: cookie === true }, 'signed in');
        sendToken(req, res, auth.issue(principal.username), principal, cookie === true);
      },
    },
    {
      method: 'get',
      path: '/auth/session',
      operationId: 'getSession',
      summary: 'Whether this browser is signed in',
      description:
        "The web app's first question: the user of the session cookie, or `null` (200 either way, so a signed-out browser logs no failed request). Only the cookie counts here; other credentials are checked by `GET /api/me`.",
      tags: ['access'],
      access: 'public',
      responses: { 200: { description: 'The signed-in user, or null.', schema: Type.Object({ user: Type.Union([PrincipalSchema, Type.Null()]) }) } },
      handler: (req: Request, res: Response) => {
        const cookie = cookieOf(req, SESSION_COOKIE);
        res.json({ user: (cookie && auth.verifyToken(cookie, 'session')?.principal) || null });
      },
    },
    {
      method: 'post',
      path: '/auth/refresh',
      operationId: 'refreshToken',
      summary: 'Exchange a valid token for a new one',
      description:
        'The old token stays valid until its own expiry; signing out ends both. A session is never extended past its maximum age from the password sign-in.',
      tags: ['access'],
      access: 'viewer',
      responses: { 200: { description: 'The new token.', schema: TokenResponse } },
      handler: async (req: Request, res: Response) => {
        const next = auth.refresh(tokenRequired(req));
        if (!next) throw new HttpError(401, 'unauthorized', 'session: older than its maximum age; sign in again with a password');
        sendToken(req, res, next, principalOf(req), usesCookie(req));
      },
    },
    {
      method: 'post',
      path: '/auth/logout',
      operationId: 'signOut',
      summary: 'Sign the session out',
      description: 'The token (or session cookie) and the tokens refreshed from the same sign-in are refused from now on; other sign-ins of the user stay.',
      tags: ['access'],
      access: 'viewer',
      responses: { 204: { description: 'Signed out.' } },
      handler: async (req: Request, res: Response) => {
        await auth.signOut(tokenRequired(req));
        auth.clearSessionCookie(req, res);
        log.info({ username: principalOf(req).username }, 'signed out');
        res.status(204).end();
      },
    },
    {
      method: 'get',
      path: '/me',
      operationId: 'getMe',
      summary: 'Who is signed in',
      tags: ['access'],
      access: 'viewer',
      responses: { 200: { description: 'The signed-in user or API key.', schema: Type.Object({ user: PrincipalSchema }) } },
      handler: (req: Request, res: Response) => {
        res.json({ user: principalOf(req) });
      },
    },
    {
      method: 'put',
      path: '/me/password',
      operationId: 'changeOwnPassword',
      summary: 'Change your own password',
      description: 'Every token of the user is signed out, editor sessions included; the answer carries a new token for this client.',
      tags: ['access'],
      access: 'viewer',
      body: json(
        Type.Object({ oldPassword: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }), newPassword: Password }, { additionalProperties: false }),
      ),
      responses: {
        200: { description: 'Changed; a new token.', schema: TokenResponse },
        403: { description: 'The old password is wrong, or the caller is an API key.' },
        429: { description: 'Too many failed sign-ins.', headers: RetryAfter },
      },
      handler: async (req: Request, res: Response) => {
        const principal = principalOf(req);
        if (principal.via === 'key') throw new HttpError(403, 'forbidden', 'an API key has no password; sign in as the user to change it');
        const { oldPassword, newPassword } = req.body as { oldPassword: string; newPassword: string };
        // Proving the old password is a password check: limited like a sign-in, so a stolen token cannot guess it.
        const ticket = auth.gate.begin(principal.username, address(req), 'http');
        if (!ticket.ok)
          throw new HttpError(429, 'too_many_attempts', `too many failed sign-ins (${ticket.reason})`, {
            'Retry-After': String(Math.ceil(ticket.retryAfterMs / 1000)),
          });
        let changed = false;
        try {
          await storeCall(() => users.changeOwnPassword(principal.username, oldPassword, newPassword));
          changed = true;
        } finally {
          ticket.finish(changed);
        }
        log.info({ username: principal.username }, 'password changed; the user is signed out everywhere else');
        sendToken(req, res, auth.issue(principal.username), users.principal(principal.username, principal.via) ?? principal, usesCookie(req));
      },
    },
    ...userRoutes(deps),
    ...keyRoutes(deps),
  ];
}
