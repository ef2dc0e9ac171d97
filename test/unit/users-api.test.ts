import { UserStore } from '../../runtime/stores/users';
import { ADMIN_PASSWORD, call, signIn, startAccessApp, type AccessApp } from '../support/access-app';
import { expectProblem } from '../support/problem';

/**
 * Sign-in, tokens and users over real HTTP on loopback, attacked as issue 12 found them: concurrent guesses,
 * junk tokens from one address, tokens that outlived a password change. Client addresses are 127.0.0.x: each test
 * uses its own, since the limiter's clock stands still.
 */
let app: AccessApp;

beforeAll(async () => {
  app = await startAccessApp();
});

afterAll(async () => {
  await app.close();
});

afterEach(() => {
  jest.restoreAllMocks();
});

function post(path: string, body: unknown, from: string) {
  return call(app.port, 'POST', path, { body, from });
}

describe('sign-in limits', () => {
  it('checks at most the allowed number of 60 concurrent wrong passwords, answering the rest 429 with Retry-After (finding 2)', async () => {
    const checks = jest.spyOn(UserStore.prototype, 'verify');
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => post('/api/auth/login', { username: 'admin', password: `guess-${i}` }, '127.0.0.10')),
    );
    // The per-user limit allows 1 attempt per second: one guess is checked, 59 are refused before any hash.
    expect(checks).toHaveBeenCalledTimes(1);
    expect(replies.filter((r) => r.status === 401)).toHaveLength(1);
    const refused = replies.filter((r) => r.status === 429);
    expect(refused).toHaveLength(59);
    expectProblem(refused[0], 429, { code: 'too_many_attempts', detail: /for this username from this address/ });
    expect(Number(refused[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('limits HTTP Basic the same way, before the hash', async () => {
    const checks = jest.spyOn(UserStore.prototype, 'verify');
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(app.port, 'GET', '/api/me', { basic: ['admin', `guess-${i}`], from: '127.0.0.11' })),
    );
    expect(checks).toHaveBeenCalledTimes(1);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(59);
    expect(replies.every((r) => r.status === 401 || r.headers['retry-after'] !== undefined)).toBe(true);
  });

  it('never refuses a valid password from another address while one address is limited', async () => {
    await post('/api/auth/login', { username: 'admin', password: 'wrong-guess' }, '127.0.0.12');
    expectProblem(await post('/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, '127.0.0.12'), 429);
    expect((await post('/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, '127.0.0.13')).status).toBe(200);
    expect((await call(app.port, 'GET', '/api/me', { basic: ['admin', ADMIN_PASSWORD], from: '127.0.0.14' })).status).toBe(200);
  });

  it('junk bearer tokens from one address do not lock a valid user out of password sign-in there (finding 4)', async () => {
    const token = await signIn(app.port, 'admin', ADMIN_PASSWORD, '127.0.0.20');
    const junk = await Promise.all(Array.from({ length: 100 }, (_, i) => call(app.port, 'GET', '/api/me', { bearer: `junk.${i}`, from: '127.0.0.20' })));
    expect(junk.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    const limited = junk.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0].headers['retry-after']).toMatch(/^\d+$/);
    expect((await post('/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, '127.0.0.20')).status).toBe(200);
    expect((await call(app.port, 'GET', '/api/me', { basic: ['admin', ADMIN_PASSWORD], from: '127.0.0.20' })).status).toBe(200);
    // A valid token is checked before it is counted: the junk does not refuse it either.
    expect((await call(app.port, 'GET', '/api/me', { bearer: token, from: '127.0.0.20' })).status).toBe(200);
  });

  it('keys on the connection address: a spoofed X-Forwarded-For changes nothing while trust proxy is off', async () => {
    await call(app.port, 'POST', '/api/auth/login', {
      body: { username: 'admin', password: 'wrong' },
      from: '127.0.0.21',
      headers: { 'x-forwarded-for': '203.0.113.1' },
    });
    const spoofed = await call(app.port, 'POST', '/api/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
      from: '127.0.0.21',
      headers: { 'x-forwarded-for': '203.0.113.2' },
    });
    expectProblem(spoofed, 429);
  });
});

describe('tokens', () => {
  it('answers tokens with Cache-Control: no-store, and refuses them after sign-out', async () => {
    const login = await post('/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, '127.0.0.30');
    expect(login.headers['cache-control']).toBe('no-store');
    const { token, user } = login.body as { token: string; user: unknown };
    expect(user).toEqual({ username: 'admin', role: 'admin', cameras: null, via: 'password' });
    expect((await call(app.port, 'GET', '/api/me', { bearer: token, from: '127.0.0.30' })).body).toEqual({
      user: { username: 'admin', role: 'admin', cameras: null, via: 'token' },
    });
    expect((await call(app.port, 'POST', '/api/auth/logout', { bearer: token, from: '127.0.0.30' })).status).toBe(204);
    expectProblem(await call(app.port, 'GET', '/api/me', { bearer: token, from: '127.0.0.30' }), 401, { detail: /signed out/ });
  });

  it('refreshes a token within the session; signing out with the new one ends the old one too', async () => {
    const old = await signIn(app.port, 'admin', ADMIN_PASSWORD, '127.0.0.31');
    const otherSession = await signIn(app.port, 'admin', ADMIN_PASSWORD, '127.0.0.31');
    const refreshed = await call(app.port, 'POST', '/api/auth/refresh', { bearer: old, from: '127.0.0.31' });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers['cache-control']).toBe('no-store');
    const fresh = (refreshed.body as { token: string }).token;
    expect((await call(app.port, 'GET', '/api/me', { bearer: fresh, from: '127.0.0.31' })).status).toBe(200);
    expect((await call(app.port, 'POST', '/api/auth/logout', { bearer: fresh, from: '127.0.0.31' })).status).toBe(204);
    for (const ended of [fresh, old]) expectProblem(await call(app.port, 'GET', '/api/me', { bearer: ended, from: '127.0.0.31' }), 401);
    expect((await call(app.port, 'GET', '/api/me', { bearer: otherSession, from: '127.0.0.31' })).status).toBe(200);
  });

  it('a password change signs out every token of the user; the changer gets a new one (finding 7)', async () => {
    await app.users.create({ username: 'changer', password: 'first-password', role: 'viewer' });
    const other = await signIn(app.port, 'changer', 'first-password', '127.0.0.32');
    const mine = await signIn(app.port, 'changer', 'first-password', '127.0.0.32');
    const change = await call(app.port, 'PUT', '/api/me/password', {
      bearer: mine,
      from: '127.0.0.32',
      body: { oldPassword: 'first-password', newPassword: 'second-password' },
    });
    expect(change.status).toBe(200);
    for (const old of [other, mine]) expectProblem(await call(app.port, 'GET', '/api/me', { bearer: old, from: '127.0.0.32' }), 401);
    const replacement = (change.body as { token: string }).token;
    expect((await call(app.port, 'GET', '/api/me', { bearer: replacement, from: '127.0.0.32' })).status).toBe(200);
    const wrong = await call(app.port, 'PUT', '/api/me/password', {
      bearer: replacement,
      from: '127.0.0.32',
      body: { oldPassword: 'not-it-at-all', newPassword: 'third-password' },
    });
    expectProblem(wrong, 403, { detail: 'oldPassword: not the current password' });
  });

  it('an admin password reset or role change signs the user out too', async () => {
    const admin = await signIn(app.port, 'admin', ADMIN_PASSWORD, '127.0.0.33');
    await app.users.create({ username: 'resetme', password: 'first-password', role: 'operator' });
    const before = await signIn(app.port, 'resetme', 'first-password', '127.0.0.33');
    expect(
      (await call(app.port, 'POST', '/api/users/resetme/password', { bearer: admin, from: '127.0.0.33', body: { password: 'reset-password' } })).status,
    ).toBe(200);
    expectProblem(await call(app.port, 'GET', '/api/me', { bearer: before, from: '127.0.0.33' }), 401);
    const after = await signIn(app.port, 'resetme', 'reset-password', '127.0.0.33');
    expect((await call(app.port, 'PATCH', '/api/users/resetme', { bearer: admin, from: '127.0.0.33', body: { role: 'viewer' } })).status).toBe(200);
    expectProblem(await call(app.port, 'GET', '/api/me', { bearer: after, from: '127.0.0.33' }), 401);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie that signs requests, and clears it on sign-out', async () => {
    const login = await post('/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD, cookie: true }, '127.0.0.34');
    expect(login.body).not.toHaveProperty('token');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^glimpser_session=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    const session = cookie.split(';')[0];
    const me = await call(app.port, 'GET', '/api/me', { headers: { cookie: session }, from: '127.0.0.34' });
    expect(me.body).toMatchObject({ user: { username: 'admin', via: 'session' } });
    const out = await call(app.port, 'POST', '/api/auth/logout', { headers: { cookie: session }, from: '127.0.0.34' });
    expect(String(out.headers['set-cookie'])).toMatch(/^glimpser_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
    expectProblem(await call(app.port, 'GET', '/api/me', { headers: { cookie: session }, from: '127.0.0.34' }), 401);
  });

  it('marks the cookie Secure when a trusted proxy says the request came over HTTPS, and only then', async () => {
    const https = { 'x-forwarded-proto': 'https' };
    const untrusted = await call(app.port, 'POST', '/api/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD, cookie: true },
      from: '127.0.0.35',
      headers: https,
    });
    expect(String(untrusted.headers['set-cookie'])).not.toContain('Secure');
    app.app.set('trust proxy', 'loopback');
    try {
      const trusted = await call(app.port, 'POST', '/api/auth/login', {
        body: { username: 'admin', password: ADMIN_PASSWORD, cookie: true },
        from: '127.0.0.35',
        headers: https,
      });
      expect(String(trusted.headers['set-cookie'])).toMatch(/; Secure$/);
    } finally {
      app.app.set('trust proxy', false);
    }
  });
});

describe('users API', () => {
  it('lets an admin create, list, change and delete users, and never delete or demote the last admin', async () => {
    const admin = await signIn(app.port, 'admin', ADMIN_PASSWORD, '127.0.0.40');
    const as = { bearer: admin, from: '127.0.0.40' };
    const created = await call(app.port, 'POST', '/api/users', {
      ...as,
      body: { username: 'porch', password: 'porch-password', role: 'viewer', cameras: ['porch'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ user: { username: 'porch', role: 'viewer', cameras: ['porch'] } });
    expectProblem(await call(app.port, 'POST', '/api/users', { ...as, body: { username: 'porch', password: 'porch-password', role: 'viewer' } }), 409, {
      code: 'refused',
    });
    expectProblem(await call(app.port, 'POST', '/api/users', { ...as, body: { username: 'bad/name', password: 'porch-password', role: 'viewer' } }), 400, {
      detail: /username "bad\/name": expected/,
    });
    expectProblem(await call(app.port, 'POST', '/api/users', { ...as, body: { username: 'x', password: 'short', role: 'viewer' } }), 400, {
      field: 'body.password',
    });
    const list = await call(app.port, 'GET', '/api/users', as);
    expect((list.body as { users: { username: string }[] }).users.map((u) => u.username)).toContain('porch');
    expect(JSON.stringify(list.body)).not.toMatch(/scrypt|passwordHash/);
    expect((await call(app.port, 'PATCH', '/api/users/porch', { ...as, body: { cameras: null } })).body).toMatchObject({ user: { cameras: null } });
    expectProblem(await call(app.port, 'PATCH', '/api/users/admin', { ...as, body: { role: 'viewer' } }), 409, { detail: /would leave no admin/ });
    expectProblem(await call(app.port, 'DELETE', '/api/users/admin', as), 409, { detail: /would leave no admin/ });
    expect((await call(app.port, 'DELETE', '/api/users/porch', as)).status).toBe(204);
    expectProblem(await call(app.port, 'DELETE', '/api/users/porch', as), 404, { detail: 'user "porch": no such user' });
  });

  it('answers a viewer 403 on admin routes, naming the role needed', async () => {
    await app.users.create({ username: 'looker', password: 'looker-password', role: 'viewer' });
    const viewer = await signIn(app.port, 'looker', 'looker-password', '127.0.0.41');
    for (const [method, path] of [
      ['GET', '/api/users'],
      ['POST', '/api/users'],
      ['DELETE', '/api/users/admin'],
      ['GET', '/api/keys'],
    ]) {
      const reply = await call(app.port, method, path, { bearer: viewer, from: '127.0.0.41', body: method === 'POST' ? {} : undefined });
      expectProblem(reply, 403, { code: 'forbidden', detail: /needs the admin role; user "looker" \(role viewer\) does not have it/ });
    }
    expect((await call(app.port, 'GET', '/api/me', { bearer: viewer, from: '127.0.0.41' })).status).toBe(200);
  });
});
