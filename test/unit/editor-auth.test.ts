import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import RED from 'node-red';
import { silentLogger } from '../../core/log/logger';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import { SignInLimiter } from '../../runtime/auth/limiter';
import { Authenticator } from '../../runtime/auth/middleware';
import { TokenSigner } from '../../runtime/auth/tokens';
import { UserStore } from '../../runtime/stores/users';
import { buildNodeRedSettings } from '../../settings';
import { call } from '../support/access-app';

/**
 * The real Node-RED 5 editor API with Glimpser's adminAuth: its tokens end with a password change and with the
 * editor's log out (finding 7), and its sign-in shares Glimpser's limit, keyed on the client address. Client
 * addresses are 127.0.x.y; the limiter's clock stands still, so each test uses its own addresses.
 */
const PASSWORD = 'editor-admin-password';
let users: UserStore;
let server: Server;
let port: number;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-editor-'));
  users = new UserStore(dir);
  await users.open();
  await users.ensureAdmin(PASSWORD);
  const auth = new Authenticator(users, new TokenSigner('editor-secret', 3600), { gate: new SignInLimiter({ now: () => 1_000_000 }) });
  const settings = buildNodeRedSettings({
    userDir: dir,
    credentialSecret: 'x',
    users,
    auth,
    logger: silentLogger,
    logLevel: 'error',
    handles: {} as GlimpserHandles,
  });
  // Node-RED's core nodes are enough here; Glimpser's own need a build.
  const app = express();
  server = createServer(app);
  RED.init(server, { ...settings, nodesDir: [] } as unknown as Parameters<typeof RED.init>[1]);
  app.use('/editor', RED.httpAdmin);
  await RED.start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await RED.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  jest.restoreAllMocks();
});

function grant(password: string, from: string, username = 'admin') {
  return call(port, 'POST', '/editor/auth/token', { body: { client_id: 'node-red-editor', grant_type: 'password', scope: '*', username, password }, from });
}

async function editorToken(from: string, password = PASSWORD): Promise<string> {
  const reply = await grant(password, from);
  expect(reply.status).toBe(200);
  return (reply.body as { access_token: string }).access_token;
}

it('refuses an editor token after a password change (finding 7)', async () => {
  const token = await editorToken('127.0.3.1');
  expect((await call(port, 'GET', '/editor/flows', { bearer: token })).status).toBe(200);
  await users.resetPassword('admin', 'editor-admin-password-2');
  expect((await call(port, 'GET', '/editor/flows', { bearer: token })).status).toBe(401);
  await users.resetPassword('admin', PASSWORD);
});

it("refuses an editor token after the editor's log out", async () => {
  const token = await editorToken('127.0.3.2');
  expect((await call(port, 'POST', '/editor/auth/revoke', { bearer: token, body: { token } })).status).toBe(200);
  expect((await call(port, 'GET', '/editor/flows', { bearer: token })).status).toBe(401);
});

it('checks at most one of 60 concurrent wrong editor passwords, answering the rest 429 with Retry-After', async () => {
  const checks = jest.spyOn(UserStore.prototype, 'verify');
  const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => grant(`guess-${i}`, '127.0.3.3')));
  expect(checks).toHaveBeenCalledTimes(1);
  const refused = replies.filter((r) => r.status === 429);
  expect(refused).toHaveLength(59);
  expect(refused[0].headers['retry-after']).toMatch(/^\d+$/);
});

it('never refuses a valid editor sign-in because others failed from other addresses (Node-RED alone refuses after 5)', async () => {
  for (let i = 1; i <= 8; i += 1) expect((await grant('wrong-password', `127.0.4.${i}`)).status).toBe(403);
  await editorToken('127.0.4.100');
});
