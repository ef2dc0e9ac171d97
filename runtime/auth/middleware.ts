import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { metrics } from '../../core/metrics';
import type { User, UserStore } from '../stores/users';
import type { TokenSigner } from './tokens';
import { sendError } from '../api/errors';

declare module 'express-serve-static-core' {
  interface Request {
    user?: User;
  }
}

/** Failed sign-ins per client address within a window before further attempts are answered 429. */
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 5 * 60 * 1000;

export class Authenticator {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly users: UserStore,
    private readonly tokens: TokenSigner,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checks credentials from HTTP Basic or a bearer token; null when absent or wrong. */
  async fromHeader(header: string | undefined): Promise<{ user: User | null; method: 'basic' | 'bearer' | 'none' }> {
    if (!header) return { user: null, method: 'none' };
    const [scheme, value] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'bearer' && value) {
      const claims = this.tokens.verify(value);
      return { user: claims ? this.users.get(claims.username) : null, method: 'bearer' };
    }
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { user: null, method: 'basic' };
      return { user: await this.users.verify(decoded.slice(0, colon), decoded.slice(colon + 1)), method: 'basic' };
    }
    return { user: null, method: 'none' };
  }

  isLockedOut(client: string): boolean {
    const entry = this.failures.get(client);
    if (!entry) return false;
    if (this.now() - entry.since > FAILURE_WINDOW_MS) {
      this.failures.delete(client);
      return false;
    }
    return entry.count >= MAX_FAILURES;
  }

  recordFailure(client: string, method: string): void {
    metrics.authFailuresTotal.inc({ method });
    const entry = this.failures.get(client);
    if (!entry || this.now() - entry.since > FAILURE_WINDOW_MS) this.failures.set(client, { count: 1, since: this.now() });
    else entry.count += 1;
  }

  /** Express middleware: 401 with a WWW-Authenticate challenge unless a valid user signs the request. */
  requireUser(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const client = req.socket.remoteAddress ?? 'unknown';
      if (this.isLockedOut(client)) {
        sendError(res, 429, 'too_many_attempts', 'too many failed sign-ins from this address; try again in a few minutes');
        return;
      }
      this.fromHeader(req.headers.authorization).then(({ user, method }) => {
        if (user) {
          req.user = user;
          next();
          return;
        }
        if (method !== 'none') this.recordFailure(client, method);
        res.setHeader('WWW-Authenticate', 'Basic realm="glimpser", charset="UTF-8"');
        sendError(res, 401, 'unauthorized', method === 'none' ? 'sign in with HTTP Basic or a bearer token from POST /api/auth/login' : 'wrong credentials');
      }, next);
    };
  }
}
