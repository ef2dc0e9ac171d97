import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashPassword, verifyPassword } from '../../runtime/auth/passwords';
import { TokenSigner } from '../../runtime/auth/tokens';
import { UserStore } from '../../runtime/stores/users';

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
    expect(signer.verify(token)).toEqual({ username: 'admin', expiresAt: 1_060_000 });
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
    expect(await reopened.verify('admin', seed.generatedPassword!)).toEqual({ username: 'admin', role: 'admin' });
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
