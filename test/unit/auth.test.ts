import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../core/log/logger';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import { Authenticator } from '../../runtime/auth/middleware';
import { hashPassword, verifyPassword } from '../../runtime/auth/passwords';
import { TokenSigner } from '../../runtime/auth/tokens';
import { UserStore } from '../../runtime/stores/users';
import { buildNodeRedSettings } from '../../settings';

describe('password hashes', () => {
  it('verify the right password only, and never store it in clear', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(hash).not.toContain('correct horse');
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
  });
});

describe('bearer tokens', () => {
  it('are accepted until they expire and refused when tampered with or signed by another secret', () => {
    let now = 1_000_000;
    const signer = new TokenSigner('secret-a', 60, () => now);
    const { token } = signer.issue('admin');
    expect(signer.verify(token)).toMatchObject({ username: 'admin', expiresAt: 1_060_000 });
    const [body, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 'root', exp: 9e12 })).toString('base64url');
    expect(signer.verify(`${forged}.${sig}`)).toBeNull();
    expect(signer.verify(`${body}.${sig}x`)).toBeNull();
    expect(new TokenSigner('secret-b', 60, () => now).verify(token)).toBeNull();
    now += 60_001;
    expect(signer.verify(token)).toBeNull();
  });
});

describe('UserStore', () => {
  it('creates admin once with a generated password, keeps it across reopen, in a 0600 file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-users-'));
    const store = new UserStore(dir);
    await store.open();
    const seed = await store.ensureAdmin(undefined);
    expect(seed.created).toBe(true);
    expect(seed.generatedPassword).toHaveLength(24);
    expect(statSync(path.join(dir, 'glimpser.json')).mode & 0o777).toBe(0o600);

    const reopened = new UserStore(dir);
    await reopened.open();
    expect(await reopened.ensureAdmin('another-password')).toEqual({ created: false });
    expect(await reopened.verify('admin', seed.generatedPassword!)).toEqual({ username: 'admin', role: 'admin', cameras: null, via: 'password' });
    expect(await reopened.verify('admin', 'another-password')).toBeNull();
    expect(await reopened.verify('nobody', seed.generatedPassword!)).toBeNull();
  });

  it('uses the configured admin password and does not report it back', async () => {
    const store = new UserStore(mkdtempSync(path.join(tmpdir(), 'glimpser-users-')));
    await store.open();
    expect(await store.ensureAdmin('configured-secret')).toEqual({ created: true, generatedPassword: undefined });
    expect(await store.verify('admin', 'configured-secret')).not.toBeNull();
  });
});

describe('bearer tokens: refresh and older formats', () => {
  it('refresh within the session, never past its maximum age from the password sign-in', () => {
    const start = 1_000_000;
    const minute = 60_000;
    let now = start;
    const signer = new TokenSigner('secret', 3600, () => now, 4 * 3600);
    let current = signer.issue('alice');
    const expiries: number[] = [];
    for (const at of [50, 100, 150, 200, 239]) {
      now = start + at * minute;
      const next = signer.refresh(signer.verify(current.token)!)!;
      expect(next.claims).toMatchObject({ username: 'alice', session: current.claims.session, sessionStart: start });
      expect(next.claims.id).not.toBe(current.claims.id);
      expiries.push((next.expiresAt - start) / minute);
      current = next;
    }
    // An hour from each refresh until the 4 h cap (240 min after the password sign-in), then no further.
    expect(expiries).toEqual([110, 160, 210, 240, 240]);
    now = start + 240 * minute;
    expect(signer.verify(current.token)).toBeNull();
  });

  it('refuses tokens of the format before issue 12 (no id, no issue time), even signed with the right secret', () => {
    const signer = new TokenSigner('secret', 3600);
    const body = Buffer.from(JSON.stringify({ u: 'admin', exp: Date.now() + 60_000 })).toString('base64url');
    const signature = createHmac('sha256', 'secret').update(body).digest('base64url');
    expect(signer.verify(`${body}.${signature}`)).toBeNull();
  });
});

describe('UserStore: accounts, roles and revocation', () => {
  async function openStore(): Promise<{ dir: string; store: UserStore }> {
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-users-'));
    const store = new UserStore(dir);
    await store.open();
    await store.ensureAdmin('admin-password-1');
    return { dir, store };
  }

  it('reads a version 1 glimpser.json (admin and viewer users) and writes version 2, keeping the password hashes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-users-'));
    const hash = await hashPassword('old-viewer-password');
    const v1 = {
      version: 1,
      users: [{ username: 'watcher', role: 'viewer', passwordHash: hash, createdAt: '2026-01-01T00:00:00.000Z' }],
      settings: { theme: 'dark' },
    };
    writeFileSync(path.join(dir, 'glimpser.json'), JSON.stringify(v1), { mode: 0o600 });
    const store = new UserStore(dir);
    await store.open();
    expect(await store.verify('watcher', 'old-viewer-password')).toEqual({ username: 'watcher', role: 'viewer', cameras: null, via: 'password' });
    const written = JSON.parse(readFileSync(path.join(dir, 'glimpser.json'), 'utf8')) as {
      version: number;
      users: { passwordHash: string }[];
      settings: unknown;
    };
    expect(written).toMatchObject({ version: 2, settings: { theme: 'dark' } });
    expect(written.users[0].passwordHash).toBe(hash);
  });

  it('creates users with a role and camera list, refusing bad names, short passwords and duplicates', async () => {
    const { store } = await openStore();
    await expect(store.create({ username: 'bad name', password: 'long-enough-1', role: 'viewer' })).rejects.toThrow(/username "bad name": expected 1 to 64/);
    await expect(store.create({ username: 'ok', password: 'short', role: 'viewer' })).rejects.toThrow(/password: expected 10 to 1024 characters, got 5/);
    const user = await store.create({ username: 'porch.watcher', password: 'long-enough-1', role: 'viewer', cameras: ['porch', 'porch'] });
    expect(user).toMatchObject({ username: 'porch.watcher', role: 'viewer', cameras: ['porch'], passwordChangedAt: null });
    expect(JSON.stringify(user)).not.toContain('scrypt');
    await expect(store.create({ username: 'porch.watcher', password: 'long-enough-2', role: 'admin' })).rejects.toMatchObject({ kind: 'exists' });
    expect(store.list().map((u) => u.username)).toEqual(['admin', 'porch.watcher']);
  });

  it('refuses demoting or deleting the last admin, and allows it once there is another', async () => {
    const { store } = await openStore();
    await expect(store.setRole('admin', 'operator')).rejects.toThrow('demoting "admin" to operator would leave no admin; make another user admin first');
    await expect(store.delete('admin')).rejects.toMatchObject({ kind: 'last_admin' });
    await store.create({ username: 'second', password: 'second-admin-pw', role: 'admin' });
    await store.setRole('admin', 'operator');
    await expect(store.delete('second')).rejects.toMatchObject({ kind: 'last_admin' });
    await store.delete('admin');
    expect(store.get('admin')).toBeNull();
    await expect(store.delete('admin')).rejects.toThrow('user "admin": no such user');
  });

  it("revokes a user's tokens on a password, role or camera change, and a signed-out token on its own", async () => {
    const { store } = await openStore();
    await store.create({ username: 'alice', password: 'alice-password', role: 'operator' });
    const issued = store.generation();
    expect(store.tokenValid('alice', 'session-1', issued)).toBe(true);
    await store.resetPassword('alice', 'alice-password-2');
    expect(store.tokenValid('alice', 'session-1', issued)).toBe(false);
    const after = store.generation();
    expect(store.tokenValid('alice', 'session-2', after)).toBe(true);
    await store.setCameras('alice', ['yard']);
    expect(store.tokenValid('alice', 'session-2', after)).toBe(false);
    const later = store.generation();
    await store.revokeSession('session-3', Date.now() + 60_000);
    expect(store.tokenValid('alice', 'session-3', later)).toBe(false);
    expect(store.tokenValid('alice', 'session-4', later)).toBe(true);
    expect(store.principal('alice', 'token')).toEqual({ username: 'alice', role: 'operator', cameras: ['yard'], via: 'token' });
  });

  it('changes your own password only with the old one', async () => {
    const { store } = await openStore();
    await expect(store.changeOwnPassword('admin', 'wrong-password', 'admin-password-2')).rejects.toMatchObject({ kind: 'wrong_password' });
    await store.changeOwnPassword('admin', 'admin-password-1', 'admin-password-2');
    expect(await store.verify('admin', 'admin-password-2')).not.toBeNull();
    expect(store.get('admin')?.passwordChangedAt).toEqual(expect.any(String));
  });
});

describe('the editor signs in with Glimpser tokens (Node-RED adminAuth; over HTTP in editor-auth.test.ts)', () => {
  interface EditorUser {
    username: string;
    permissions: string;
    token?: string;
  }
  interface EditorAuth {
    users(username: string): Promise<EditorUser | null>;
    authenticate(username: string, password: string): Promise<EditorUser | null>;
    tokens(token: string): Promise<EditorUser | null>;
  }

  it('hands the editor a token that a password or role change ends (finding 7)', async () => {
    const users = new UserStore(mkdtempSync(path.join(tmpdir(), 'glimpser-editor-')));
    await users.open();
    await users.ensureAdmin('editor-admin-password');
    await users.create({ username: 'viewer1', password: 'viewer-password', role: 'viewer' });
    const auth = new Authenticator(users, new TokenSigner('editor-secret', 3600));
    const settings = buildNodeRedSettings({
      userDir: '/nonexistent',
      credentialSecret: 'x',
      users,
      auth,
      logger: silentLogger,
      logLevel: 'error',
      handles: {} as GlimpserHandles,
    });
    const editor = settings.adminAuth as EditorAuth;
    const admin = await editor.authenticate('admin', 'editor-admin-password');
    expect(admin).toMatchObject({ username: 'admin', permissions: '*', token: expect.any(String) });
    expect(await editor.tokens(admin!.token!)).toEqual({ username: 'admin', permissions: '*' });
    // Node-RED's own sessions (e.g. from .sessions.json) are never honoured: users() cannot tell which session asks.
    expect(await editor.users('admin')).toBeNull();
    // The middleware sends the username on as "username\naddress" (see settings.ts).
    const viewer = await editor.authenticate('viewer1\n127.0.0.1', 'viewer-password');
    expect(await editor.tokens(viewer!.token!)).toEqual({ username: 'viewer1', permissions: 'read' });
    await users.setRole('viewer1', 'operator');
    expect(await editor.tokens(viewer!.token!)).toBeNull();
    await users.resetPassword('admin', 'editor-admin-password-2');
    expect(await editor.tokens(admin!.token!)).toBeNull();
  });
});
