import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Bearer tokens are `base64url(JSON{u,exp}).base64url(HMAC-SHA256)`: stateless, they survive restarts, and they
 * expire. Rotating the token secret in secrets.json signs everyone out.
 */
export interface TokenClaims {
  username: string;
  expiresAt: number;
}

export class TokenSigner {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  issue(username: string): { token: string; expiresAt: number } {
    const expiresAt = this.now() + this.ttlSeconds * 1000;
    const body = Buffer.from(JSON.stringify({ u: username, exp: expiresAt })).toString('base64url');
    return { token: `${body}.${this.sign(body)}`, expiresAt };
  }

  verify(token: string): TokenClaims | null {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) return null;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { u?: unknown; exp?: unknown };
      if (typeof claims.u !== 'string' || typeof claims.exp !== 'number' || claims.exp <= this.now()) return null;
      return { username: claims.u, expiresAt: claims.exp };
    } catch {
      return null;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}
