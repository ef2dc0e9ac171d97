import { mkdtempSync } from 'node:fs';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express, { type Express } from 'express';
import { silentLogger } from '../../core/log/logger';
import { accessRoutes } from '../../runtime/api/access';
import { apiErrors } from '../../runtime/api/errors';
import { routerOf } from '../../runtime/api/route';
import { SignInLimiter } from '../../runtime/auth/limiter';
import { Authenticator } from '../../runtime/auth/middleware';
import { TokenSigner } from '../../runtime/auth/tokens';
import { ApiKeyStore } from '../../runtime/stores/api-keys';
import { UserStore } from '../../runtime/stores/users';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

/**
 * The access routes (sign-in, users, keys) on a loopback server, with the real stores, authenticator and limiter.
 * The limiter's clock stands still, so what it refuses does not depend on how fast the machine is.
 */
export interface AccessApp {
  dir: string;
  app: Express;
  server: Server;
  port: number;
  users: UserStore;
  keys: ApiKeyStore;
  auth: Authenticator;
  limiter: SignInLimiter;
  close(): Promise<void>;
}

export async function startAccessApp(): Promise<AccessApp> {
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-access-'));
  const users = new UserStore(dir);
  await users.open();
  await users.ensureAdmin(ADMIN_PASSWORD);
  const keys = new ApiKeyStore(dir, { creators: (username) => users.get(username) });
  await keys.open();
  const limiter = new SignInLimiter({ now: () => 1_000_000 });
  const auth = new Authenticator(users, new TokenSigner('access-test-secret', 3600), { keys, gate: limiter });
  const app = express();
  app.use('/api', routerOf(accessRoutes({ users, keys, auth, log: silentLogger }), auth));
  app.use('/api', apiErrors(silentLogger, 'access request failed'));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await keys.flush();
  };
  return { dir, app, server, port, users, keys, auth, limiter, close };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the text when it is not JSON, or undefined when empty. */
  body: unknown;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** The client's source address: any 127.x.y.z reaches the server on 127.0.0.1, so tests can be two clients. */
  from?: string;
  basic?: [string, string];
  bearer?: string;
}

/** One HTTP request from a chosen loopback address (fetch cannot choose its source address without undici). */
export function call(port: number, method: string, pathname: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  if (payload) headers['content-type'] = 'application/json';
  if (options.basic) headers.authorization = `Basic ${Buffer.from(options.basic.join(':')).toString('base64')}`;
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: pathname, headers, localAddress: options.from ?? '127.0.0.1', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text === '' ? undefined : text;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          // Not JSON: the text as it came.
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Signs in with a password and returns the bearer token. */
export async function signIn(port: number, username: string, password: string, from?: string): Promise<string> {
  const reply = await call(port, 'POST', '/api/auth/login', { body: { username, password }, from });
  if (reply.status !== 200) throw new Error(`sign-in of ${username} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return (reply.body as { token: string }).token;
}
