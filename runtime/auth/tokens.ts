import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer tokens are `base64url(JSON claims).base64url(HMAC-SHA256)`: stateless, they survive restarts, and they
 * expire. What makes one stop working before its expiry is checked by the Authenticator: the user store's
 * generation the token carries (a password or role change moves the user past it; a counter, not a time, so a token
 * issued in the same millisecond as a change is still told apart) and the revocation list of signed-out sessions (a session is one password
 * sign-in and the tokens refreshed from it, so signing out ends them all). Rotating the token secret in
 * secrets.json signs everyone out.
 */
export interface TokenClaims {
  username: string;
  /** Unique per token. */
  id: string;
  /** The user store's generation when the session began; a password or role change moves the user past it. */
  generation: number;
  /** Shared by the tokens of one password sign-in and its refreshes: what sign-out puts on the revocation list. */
  session: string;
  issuedAt: number;
  /** When the user signed in with a password; refreshing never extends a session past this plus the maximum age. */
  sessionStart: number;
  expiresAt: number;
}

export interface IssuedToken {
  token: string;
  claims: TokenClaims;
  expiresAt: number;
}

/** A session may be refreshed for at most this long after the password sign-in, or the token lifetime if longer. */
export const MAX_SESSION_SECONDS = 7 * 24 * 3600;

interface WireClaims {
  u?: unknown;
  jti?: unknown;
  sid?: unknown;
  gen?: unknown;
  iat?: unknown;
  sat?: unknown;
  exp?: unknown;
}

export class TokenSigner {
  readonly maxSessionMs: number;

  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
    maxSessionSeconds = MAX_SESSION_SECONDS,
  ) {
    this.maxSessionMs = Math.max(ttlSeconds, maxSessionSeconds) * 1000;
  }

  /** A token for a fresh password sign-in of `username`, at the user store's current `generation`. */
  issue(username: string, generation = 0): IssuedToken {
    return this.make(username, generation, randomBytes(12).toString('base64url'), this.now())!;
  }

  /** A new token for the session `claims` belongs to; null once the session is older than its maximum age. */
  refresh(claims: TokenClaims): IssuedToken | null {
    return this.make(claims.username, claims.generation, claims.session, claims.sessionStart);
  }

  private make(username: string, generation: number, session: string, sessionStart: number): IssuedToken | null {
    const now = this.now();
    const expiresAt = Math.min(now + this.ttlSeconds * 1000, sessionStart + this.maxSessionMs);
    if (expiresAt <= now) return null;
    const claims: TokenClaims = { username, id: randomBytes(12).toString('base64url'), generation, session, issuedAt: now, sessionStart, expiresAt };
    const wire = { u: username, jti: claims.id, gen: generation, sid: session, iat: now, sat: sessionStart, exp: expiresAt };
    const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
    return { token: `${body}.${this.sign(body)}`, claims, expiresAt };
  }

  /** The claims of a token this signer made that has not expired; null for anything else (tokens of older versions included). */
  verify(token: string): TokenClaims | null {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) return null;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const c = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as WireClaims;
      if (typeof c.u !== 'string' || typeof c.jti !== 'string' || typeof c.sid !== 'string') return null;
      if (typeof c.gen !== 'number' || typeof c.iat !== 'number' || typeof c.sat !== 'number' || typeof c.exp !== 'number') return null;
      if (c.exp <= this.now()) return null;
      return { username: c.u, id: c.jti, generation: c.gen, session: c.sid, issuedAt: c.iat, sessionStart: c.sat, expiresAt: c.exp };
    } catch {
      return null;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}
