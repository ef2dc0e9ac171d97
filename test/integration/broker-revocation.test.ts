import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { silentLogger } from '../../core/log/logger';
import { EmbeddedBroker } from '../../runtime/broker';
import { ApiKeyStore } from '../../runtime/stores/api-keys';
import { UserStore } from '../../runtime/stores/users';
import { connectClient } from '../support/mqtt-attack';

/**
 * Issue 12: a password change signs the user out everywhere — also MQTT connections already open, which signed in
 * once with the old password. The real user store and broker: changing a user's password, role or deleting the user
 * closes that user's connections, and no one else's; the old password is then refused. Revoking an API key closes
 * the connections signed in with it, and so does its expiry.
 */
describe('open MQTT connections after an account change', () => {
  let dir: string;
  let users: UserStore;
  let keys: ApiKeyStore;
  let broker: EmbeddedBroker;
  let port: number;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'glimpser-broker-revocation-'));
    users = new UserStore(dir);
    await users.open();
    for (const username of ['ann', 'bob', 'cy', 'dee']) await users.create({ username, password: `${username}-password-1`, role: 'viewer' });
    keys = new ApiKeyStore(dir, { creators: (username) => users.get(username) });
    await keys.open();
    broker = await EmbeddedBroker.create(users, silentLogger, undefined, {
      verifyKey: (secret) => keys.verify(secret),
      onKeyRevoked: (listener) => keys.onRevoked(listener),
      keyExpiresAt: (keyId) => {
        const expiresAt = keys.get(keyId)?.expiresAt;
        return expiresAt ? Date.parse(expiresAt) : null;
      },
    });
    port = await broker.listenTcp('127.0.0.1', 0);
  });
  afterAll(async () => {
    for (const client of clients) client.end(true);
    await broker.close();
    await keys.flush();
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(username: string, password = `${username}-password-1`): Promise<{ client: MqttClient; closed: Promise<void> }> {
    const client = await connectClient(port, { username, password });
    clients.push(client);
    return { client, closed: new Promise((resolve) => client.once('close', () => resolve())) };
  }

  it("closes the user's connection when its password is reset, and leaves another user's open", async () => {
    const ann = await connect('ann');
    const bob = await connect('bob');
    await users.resetPassword('ann', 'ann-password-2');
    await ann.closed;
    // Bob's connection still works: a subscription is acknowledged.
    await expect(bob.client.subscribeAsync('glimpser/cameras/+/state')).resolves.toHaveLength(1);
    expect(bob.client.connected).toBe(true);
    await expect(connectClient(port, { username: 'ann', password: 'ann-password-1' })).rejects.toThrow();
  });

  it('closes the connection of a user whose role changes or who is deleted', async () => {
    const bob = await connect('bob');
    await users.update('bob', { role: 'operator' });
    await bob.closed;
    const cy = await connect('cy');
    await users.delete('cy');
    await cy.closed;
  });

  it("closes the connections signed in with an API key once it is revoked, and no other key's", async () => {
    const creator = { username: 'dee', role: 'viewer' as const, cameras: null };
    const revoked = await keys.create(creator, { name: 'script one', role: 'viewer' });
    const kept = await keys.create(creator, { name: 'script two', role: 'viewer' });
    const one = await connect('script-one', revoked.secret);
    const two = await connect('script-two', kept.secret);
    expect(await keys.revoke(revoked.key.id)).toBe(true);
    await one.closed;
    await expect(two.client.subscribeAsync('glimpser/cameras/+/state')).resolves.toHaveLength(1);
    expect(two.client.connected).toBe(true);
    await expect(connectClient(port, { username: 'script-one', password: revoked.secret })).rejects.toThrow();
  });

  it('closes a connection signed in with an API key when the key expires', async () => {
    const creator = { username: 'dee', role: 'viewer' as const, cameras: null };
    const expiresAt = Date.now() + 1500;
    const short = await keys.create(creator, { name: 'short lived', role: 'viewer', expiresAt: new Date(expiresAt).toISOString() });
    const lasting = await keys.create(creator, { name: 'lasting', role: 'viewer' });
    const soon = await connect('short-lived', short.secret);
    const stays = await connect('lasting', lasting.secret);
    await soon.closed;
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    await expect(stays.client.subscribeAsync('glimpser/cameras/+/state')).resolves.toHaveLength(1);
  });
});
