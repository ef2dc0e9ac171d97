import type { Request, RequestHandler } from 'express';
import type { Principal, Role } from '../../runtime/auth/roles';
import { sendError } from '../../runtime/api/errors';
import type { RouteAuth } from '../../runtime/api/route';

/**
 * Stands in for the sign-in middleware in tests of one API module: every request is signed in as this principal.
 * The role checks of the routes still run; sign-in itself is tested with the real Authenticator (api-roles.test.ts).
 */
export function signedInAs(role: Role = 'admin', cameras: readonly string[] | null = null): RouteAuth {
  const principal: Principal = { username: `test-${role}`, role, cameras, via: 'password' };
  return { requireUser: (): RequestHandler => (req: Request, _res, next) => ((req.user = principal), next()) };
}

/**
 * Signs each request in as the user its `x-test-user` / `x-test-role` headers name, limited to the comma-separated
 * cameras of `x-test-cameras` when there is one; 401 without them.
 */
export function signedInByHeaders(): RouteAuth {
  return {
    requireUser: (): RequestHandler => (req: Request, res, next) => {
      const username = req.headers['x-test-user'];
      if (typeof username !== 'string') return sendError(res, 401, 'unauthorized', 'x-test-user: missing header naming the test user');
      const cameras = req.headers['x-test-cameras'];
      req.user = { username, role: req.headers['x-test-role'] as Role, cameras: typeof cameras === 'string' ? cameras.split(',') : null, via: 'password' };
      next();
    },
  };
}
