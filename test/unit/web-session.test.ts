import { SESSION_COOKIE } from '../../runtime/auth/middleware';
import { ADMIN_PASSWORD, call, startAccessApp, type AccessApp } from '../support/access-app';

/**
 * The web app's session check (issue 14): GET /api/auth/session answers 200 with the cookie's user or null, so a
 * signed-out browser logs no failed request, and it reads nothing but the session cookie — no password is hashed
 * and nothing counts against the sign-in limit. A page script's 401 challenges Bearer, never Basic, so the browser
 * does not open its own password dialog over the app.
 */
describe('the web app session', () => {
  let app: AccessApp;
  beforeAll(async () => {
    app = await startAccessApp();
  });
  afterAll(() => app.close());

  const cookieOf = (reply: { headers: Record<string, unknown> }): string => {
    const set = ([] as string[]).concat((reply.headers['set-cookie'] as string[] | undefined) ?? []);
    const pair = set.map((c) => c.split(';')[0]).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    if (!pair) throw new Error('no session cookie was set');
    return pair;
  };

  it('answers null without a session, and the user once the cookie is set by a sign-in', async () => {
    expect(await call(app.port, 'GET', '/api/auth/session')).toMatchObject({ status: 200, body: { user: null } });
    const login = await call(app.port, 'POST', '/api/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD, cookie: true } });
    expect(login.status).toBe(200);
    const reply = await call(app.port, 'GET', '/api/auth/session', { headers: { cookie: cookieOf(login) } });
    expect(reply).toMatchObject({ status: 200, body: { user: { username: 'admin', role: 'admin', via: 'session' } } });
  });

  it('answers null for a signed-out or forged cookie, and never reads a password or counts a failure', async () => {
    const login = await call(app.port, 'POST', '/api/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD, cookie: true } });
    const cookie = cookieOf(login);
    expect((await call(app.port, 'POST', '/api/auth/logout', { headers: { cookie } })).status).toBe(204);
    expect(await call(app.port, 'GET', '/api/auth/session', { headers: { cookie } })).toMatchObject({ status: 200, body: { user: null } });
    for (let i = 0; i < 30; i++) {
      const forged = await call(app.port, 'GET', '/api/auth/session', { headers: { cookie: `${SESSION_COOKIE}=forged.${i}` }, basic: ['admin', 'wrong'] });
      expect(forged).toMatchObject({ status: 200, body: { user: null } });
    }
    // Thirty forged cookies and wrong Basic passwords later, the right password still signs in: none was counted.
    expect((await call(app.port, 'POST', '/api/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).status).toBe(200);
  });

  it("challenges a page script's fetch with Bearer and a navigation or curl with Basic", async () => {
    const script = await call(app.port, 'GET', '/api/me', { headers: { 'sec-fetch-mode': 'cors' } });
    expect({ status: script.status, challenge: script.headers['www-authenticate'] }).toEqual({ status: 401, challenge: 'Bearer realm="glimpser"' });
    const page = await call(app.port, 'GET', '/api/me', { headers: { 'sec-fetch-mode': 'navigate' } });
    expect(page.headers['www-authenticate']).toMatch(/^Basic /);
    expect((await call(app.port, 'GET', '/api/me')).headers['www-authenticate']).toMatch(/^Basic /);
  });
});
