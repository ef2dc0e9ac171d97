import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { HttpError, sendError } from '../api/errors';
import { ApiKeyStore } from '../stores/api-keys';
import type { UserStore } from '../stores/users';
import { SignInLimiter } from './limiter';
import type { Principal } from './roles';
import type { SignInGate } from './sign-in-gate';
import type { IssuedToken, TokenClaims, TokenSigner } from './tokens';

declare module 'express-serve-static-core' {
  interface Request {
    /** Who signed the request, set by Authenticator.requireUser(). */
    user?: Principal;
  }
}

/** The web app's session cookie: the same bearer token, HttpOnly so page scripts cannot read it. */
export const SESSION_COOKIE = 'glimpser_session';

export interface AuthenticatorOptions {
  /** API keys, accepted as `Authorization: Bearer glk_…`. */
  keys?: Pick<ApiKeyStore, 'verify'>;
  /** The sign-in limit shared with the editor and the broker; a private one when not given. */
  gate?: SignInGate;
  log?: Logger;
}

/** What a request's credentials came to. */
export type AuthOutcome = { principal: Principal } | { refused: HttpError; method: string; challenge?: string };

export class Authenticator {
  readonly gate: SignInGate;
  private readonly keys?: Pick<ApiKeyStore, 'verify'>;
  private readonly log?: Logger;

  constructor(
    private readonly users: UserStore,
    private readonly tokens: TokenSigner,
    options: AuthenticatorOptions = {},
  ) {
    this.gate = options.gate ?? new SignInLimiter();
    this.keys = options.keys;
    this.log = options.log;
  }

  /**
   * A password sign-in (POST /api/auth/login, HTTP Basic): counted by the gate before the hash, so concurrent guesses
   * cannot all be checked. Throws 429 with Retry-After when limited, 401 when wrong.
   */
  async signIn(username: string, password: string, address: string): Promise<Principal> {
    const ticket = this.gate.begin(username, address, 'http');
    if (!ticket.ok) throw tooMany(ticket.reason, ticket.retryAfterMs);
    let principal: Principal | null = null;
    try {
      principal = await this.users.verify(username, password);
    } finally {
      ticket.finish(principal !== null);
    }
    if (!principal) {
      metrics.authFailuresTotal.inc({ method: 'password' });
      this.log?.info({ username: username.slice(0, 64), client: address }, 'sign-in refused');
      throw new HttpError(401, 'unauthorized', 'wrong username or password');
    }
    return principal;
  }

  /** The principal and claims of a bearer token that still holds: signed, unexpired, not signed out, issued after the last password or role change. */
  verifyToken(token: string, via: 'token' | 'session' = 'token'): { principal: Principal; claims: TokenClaims } | null {
    const claims = this.tokens.verify(token);
    if (!claims || !this.users.tokenValid(claims.username, claims.session, claims.generation)) return null;
    const principal = this.users.principal(claims.username, via);
    return principal ? { principal, claims } : null;
  }

  issue(username: string): IssuedToken {
    return this.tokens.issue(username, this.users.generation());
  }

  /**
   * A new token of the same session for a valid one, within the session's maximum age; null when refused. The old
   * token is left to expire: revoking each would grow the revocation list with every refresh, and signing out
   * ends the whole session anyway.
   */
  refresh(token: string): IssuedToken | null {
    const current = this.verifyToken(token);
    return current ? this.tokens.refresh(current.claims) : null;
  }

  /** Signs a token's session out: it and the tokens refreshed from it are refused from now on, here and in the editor. */
  async signOut(token: string): Promise<boolean> {
    const current = this.verifyToken(token);
    if (!current) return false;
    await this.users.revokeSession(current.claims.session, current.claims.sessionStart + this.tokens.maxSessionMs);
    return true;
  }

  /** The bearer token or session cookie a request carries (not API keys), for refresh and sign-out. */
  tokenOf(req: Request): string | undefined {
    const [scheme, value] = (req.headers.authorization ?? '').split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer' && value && !ApiKeyStore.looksLikeKey(value)) return value;
    return cookieOf(req, SESSION_COOKIE);
  }

  /** HttpOnly, SameSite=Strict, Secure when the request came over HTTPS (X-Forwarded-Proto counts only with trust proxy). */
  setSessionCookie(req: Request, res: Response, issued: IssuedToken): void {
    const maxAge = Math.max(0, Math.floor((issued.expiresAt - Date.now()) / 1000));
    res.append('Set-Cookie', `${SESSION_COOKIE}=${issued.token}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`);
  }

  clearSessionCookie(req: Request, res: Response): void {
    res.append('Set-Cookie', `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`);
  }

  /** Checks the credentials a request carries: HTTP Basic, a bearer token or API key, or the session cookie. */
  async authenticate(req: Request): Promise<AuthOutcome | null> {
    const address = req.ip ?? req.socket.remoteAddress ?? '';
    const [scheme, value] = (req.headers.authorization ?? '').split(' ', 2);
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { refused: new HttpError(401, 'unauthorized', 'HTTP Basic: expected base64 of "username:password"'), method: 'basic' };
      try {
        return { principal: await this.signIn(decoded.slice(0, colon), decoded.slice(colon + 1), address) };
      } catch (err) {
        if (err instanceof HttpError) return { refused: err, method: 'basic' };
        throw err;
      }
    }
    if (scheme?.toLowerCase() === 'bearer' && value) return this.byToken(value, address, 'bearer');
    const cookie = cookieOf(req, SESSION_COOKIE);
    if (cookie) return this.byToken(cookie, address, 'cookie');
    return null;
  }

  /**
   * Whether the token, session cookie or API key a request was signed in with still holds (not signed out, no
   * password or role change since, key not revoked or expired), checked without counting a failure: for requests
   * that outlast such a change (the live stream). Null for a password (HTTP Basic): not hashed again.
   */
  stillSignedIn(req: Request): boolean | null {
    const [scheme, value] = (req.headers.authorization ?? '').split(' ', 2);
    if (scheme?.toLowerCase() === 'basic') return null;
    const credential = scheme?.toLowerCase() === 'bearer' && value ? value : cookieOf(req, SESSION_COOKIE);
    if (!credential) return false;
    if (ApiKeyStore.looksLikeKey(credential)) return (this.keys?.verify(credential) ?? null) !== null;
    return this.verifyToken(credential) !== null;
  }

  /** Express middleware: 401 with a WWW-Authenticate challenge unless valid credentials sign the request. */
  requireUser(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      this.authenticate(req).then((outcome) => {
        if (outcome && 'principal' in outcome) {
          req.user = outcome.principal;
          next();
          return;
        }
        const error =
          outcome?.refused ?? new HttpError(401, 'unauthorized', 'sign in with HTTP Basic, a bearer token from POST /api/auth/login, or an API key');
        if (error.status === 401) res.setHeader('WWW-Authenticate', outcome?.challenge ?? challengeFor(req));
        res.set(error.headers);
        sendError(res, error.status, error.code, error.message);
      }, next);
    };
  }

  /**
   * Bad tokens and keys are counted per address in a bucket of their own (the gate's username ''), so they never
   * lock anyone out of password sign-in (finding 4). A token is checked before it is counted: the check is a cheap
   * HMAC or SHA-256 of a 256-bit secret, not worth guessing, so a valid token is never refused because someone
   * behind the same address sent junk; past the limit, junk is answered 429 instead of 401.
   */
  private byToken(value: string, address: string, method: 'bearer' | 'cookie'): AuthOutcome {
    const isKey = ApiKeyStore.looksLikeKey(value);
    const principal = isKey ? (this.keys?.verify(value) ?? null) : (this.verifyToken(value, method === 'cookie' ? 'session' : 'token')?.principal ?? null);
    if (principal) return { principal };
    const ticket = this.gate.begin('', address, 'http');
    if (!ticket.ok) return { refused: tooMany(ticket.reason, ticket.retryAfterMs), method };
    ticket.finish(false);
    const kind = isKey ? 'key' : method === 'cookie' ? 'session' : 'token';
    metrics.authFailuresTotal.inc({ method: kind });
    const words = isKey ? 'API key unknown, revoked or expired' : 'token expired, signed out or not valid; sign in again';
    return { refused: new HttpError(401, 'unauthorized', words), method, challenge: 'Bearer realm="glimpser", error="invalid_token"' };
  }
}

/**
 * The challenge of a 401 without credentials: Basic, so curl users and the browser's address bar get a password
 * prompt, except for a page script's fetch (Sec-Fetch-Mode other than navigate): a Basic challenge would make the
 * browser open its own password dialog over the web app, which signs in with its form instead.
 */
function challengeFor(req: Request): string {
  const mode = req.headers['sec-fetch-mode'];
  return mode !== undefined && mode !== 'navigate' ? 'Bearer realm="glimpser"' : 'Basic realm="glimpser", charset="UTF-8"';
}

function tooMany(reason: string, retryAfterMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new HttpError(429, 'too_many_attempts', `too many failed sign-ins (${reason}); try again in ${seconds} s`, { 'Retry-After': String(seconds) });
}

/** One cookie's value from the Cookie header (RFC 6265 §5.4), without a cookie-parsing dependency. */
export function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
