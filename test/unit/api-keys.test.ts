import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Principal, Role } from '../../runtime/auth/roles';
import { ApiKeyStore } from '../../runtime/stores/api-keys';
import { ADMIN_PASSWORD, call, signIn, startAccessApp, type AccessApp } from '../support/access-app';
import { expectProblem } from '../support/problem';

const ADMIN: Principal = { username: 'ada', role: 'admin', cameras: null, via: 'password' };

/** A key store on a clock the test moves, with creators the test can demote or delete. */
async function storeAt(start = Date.UTC(2026, 11, 7)) {
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-keys-'));
  const clock = { now: start };
  const creators = new Map<string, { role: Role; cameras: string[] | null }>([['ada', { role: 'admin', cameras: null }]]);
  const store = new ApiKeyStore(dir, { creators: (u) => creators.get(u) ?? null, now: () => clock.now, lastUsedWriteMs: 60_000 });
  await store.open();
  return { dir, clock, creators, store, file: path.join(dir, 'api-keys.json') };
}

describe('ApiKeyStore', () => {
  it('shows the secret once and stores only its SHA-256, in a 0600 file', async () => {
    const { store, file } = await storeAt();
    const { key, secret } = await store.create(ADMIN, { name: 'backup script', role: 'viewer' });
    expect(secret).toMatch(/^glk_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    expect(secret.split('_')[1]).toBe(key.id);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(15));
    expect(text).toMatch(/"hash": "[0-9a-f]{64}"/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(store.list())).not.toMatch(/hash|glk_/);
    expect(store.verify(secret)).toEqual({ username: 'ada', role: 'viewer', cameras: null, via: 'key', keyId: key.id });
  });

  it('refuses wrong, revoked and expired keys', async () => {
    const { store, clock } = await storeAt();
    const { key, secret } = await store.create(ADMIN, { name: 'short lived', role: 'operator', expiresAt: new Date(clock.now + 3600_000).toISOString() });
    expect(store.verify(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(store.verify('glk_nonsense')).toBeNull();
    expect(store.verify(secret)).not.toBeNull();
    clock.now += 3600_000;
    expect(store.verify(secret)).toBeNull();
    const other = await store.create(ADMIN, { name: 'revoked', role: 'viewer' });
    expect(await store.revoke(other.key.id)).toBe(true);
    expect(store.verify(other.secret)).toBeNull();
    expect(await store.revoke(other.key.id)).toBe(false);
    expect(store.get(key.id)).not.toBeNull();
  });

  it('never grants more than its creator has: not at creation, nor after the creator is demoted or deleted', async () => {
    const { store, creators } = await storeAt();
    await expect(store.create({ username: 'otto', role: 'operator', cameras: null }, { name: 'too much', role: 'admin' })).rejects.toThrow(
      "role: a key cannot have more than its creator's role (operator), asked for admin",
    );
    const { secret } = await store.create(ADMIN, { name: 'admin key', role: 'admin', cameras: ['porch', 'yard'] });
    creators.set('ada', { role: 'viewer', cameras: ['porch'] });
    expect(store.verify(secret)).toMatchObject({ role: 'viewer', cameras: ['porch'] });
    creators.delete('ada');
    expect(store.verify(secret)).toBeNull();
  });

  it('records the last use in memory at once and on disk at most once a minute (flushed on stop)', async () => {
    const { store, clock, file, dir } = await storeAt();
    const { key, secret } = await store.create(ADMIN, { name: 'busy', role: 'viewer' });
    const writes = jest.spyOn(store as unknown as { save(): Promise<void> }, 'save');
    for (let i = 0; i < 100; i += 1) store.verify(secret);
    expect(store.get(key.id)?.lastUsedAt).toBe(new Date(clock.now).toISOString());
    expect(writes).not.toHaveBeenCalled();
    await store.flush();
    expect(writes).toHaveBeenCalledTimes(1);
    const reopened = new ApiKeyStore(dir, { creators: () => ({ role: 'admin', cameras: null }) });
    await reopened.open();
    expect(reopened.get(key.id)?.lastUsedAt).toBe(new Date(clock.now).toISOString());
    expect(JSON.parse(readFileSync(file, 'utf8')).keys[0].lastUsedAt).toBe(new Date(clock.now).toISOString());
  });

  it('names the wrong input: name, role, expiry in the past', async () => {
    const { store } = await storeAt();
    await expect(store.create(ADMIN, { name: '', role: 'viewer' })).rejects.toThrow(/^name: expected 1 to 64/);
    await expect(store.create(ADMIN, { name: 'x', role: 'root' as Role })).rejects.toThrow('role: expected viewer, operator or admin, got "root"');
    await expect(store.create(ADMIN, { name: 'x', role: 'viewer', expiresAt: '2000-01-01T00:00:00Z' })).rejects.toThrow(
      /^expiresAt: expected a date-time in the future/,
    );
  });
});

describe('API keys over HTTP', () => {
  let app: AccessApp;
  let admin: string;

  beforeAll(async () => {
    app = await startAccessApp();
    admin = await signIn(app.port, 'admin', ADMIN_PASSWORD);
  });

  afterAll(async () => {
    await app.close();
  });

  it('creates a key (secret shown once), accepts it as a bearer token, lists it without the secret, revokes it', async () => {
    const created = await call(app.port, 'POST', '/api/keys', { bearer: admin, body: { name: 'grafana', role: 'viewer', cameras: ['porch'] } });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { key, secret } = created.body as { key: { id: string }; secret: string };
    const me = await call(app.port, 'GET', '/api/me', { bearer: secret });
    expect(me.body).toEqual({ user: { username: 'admin', role: 'viewer', cameras: ['porch'], via: 'key', keyId: key.id } });
    expectProblem(await call(app.port, 'GET', '/api/users', { bearer: secret }), 403, { detail: /needs the admin role; this API key \(role viewer\)/ });
    const list = await call(app.port, 'GET', '/api/keys', { bearer: admin });
    expect(JSON.stringify(list.body)).not.toContain(secret.slice(15));
    expect((list.body as { keys: { id: string; lastUsedAt: string | null }[] }).keys.find((k) => k.id === key.id)?.lastUsedAt).toEqual(expect.any(String));
    expect((await call(app.port, 'DELETE', `/api/keys/${key.id}`, { bearer: admin })).status).toBe(204);
    expectProblem(await call(app.port, 'GET', '/api/me', { bearer: secret }), 401, { detail: /API key unknown, revoked or expired/ });
    expectProblem(await call(app.port, 'DELETE', `/api/keys/${key.id}`, { bearer: admin }), 404);
  });

  it('revokes the keys of a deleted user', async () => {
    await app.users.create({ username: 'second', password: 'second-admin-pw', role: 'admin' });
    const second = await signIn(app.port, 'second', 'second-admin-pw');
    const { secret } = (await call(app.port, 'POST', '/api/keys', { bearer: second, body: { name: 'theirs', role: 'admin' } })).body as { secret: string };
    expect((await call(app.port, 'GET', '/api/me', { bearer: secret })).status).toBe(200);
    expect((await call(app.port, 'DELETE', '/api/users/second', { bearer: admin })).status).toBe(204);
    expectProblem(await call(app.port, 'GET', '/api/me', { bearer: secret }), 401);
    expect(app.keys.list().some((k) => k.createdBy === 'second')).toBe(false);
  });
});
