import type { MqttClient } from 'mqtt';
import { DeviceRegistry } from '../../core/capture/devices';
import { silentLogger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { topics } from '../../core/topics';
import type { Principal, Role } from '../../runtime/auth/roles';
import { EmbeddedBroker, type BrokerUsers } from '../../runtime/broker';
import { connackCode, connectClient } from '../support/mqtt-attack';
import { metricValue } from '../support/tools';

interface Account {
  role: Role;
  cameras: string[] | null;
}

/** Users of every role, one limited to camera porch: the broker codes against the Principal, not the store. */
const ACCOUNTS: Record<string, Account> = {
  vera: { role: 'viewer', cameras: null },
  otto: { role: 'operator', cameras: null },
  ada: { role: 'admin', cameras: null },
  polly: { role: 'viewer', cameras: ['porch'] },
  opal: { role: 'operator', cameras: ['porch'] },
};
const password = (username: string) => `${username}-password`;
const users: BrokerUsers = {
  verify: async (username, offered) => {
    const account = ACCOUNTS[username];
    return account && offered === password(username) ? { username, ...account } : null;
  },
};
const API_KEY = 'gk_test_operator_key_0123456789';
const keyPrincipal: Principal = { username: 'otto', role: 'operator', cameras: ['porch'], via: 'key', keyId: 'k1' };
const DEVICE = { cameraId: 'garden', username: 'garden-device', password: 'garden-device-secret' };

let broker: EmbeddedBroker;
let port: number;
const clients: MqttClient[] = [];
/** Everything delivered in-process, as Glimpser's own subscribers see it. */
const delivered: Array<{ topic: string; payload: string }> = [];

async function signIn(username: string, secret = password(username)): Promise<MqttClient> {
  const client = await connectClient(port, { username, password: secret });
  clients.push(client);
  return client;
}

/**
 * Publishes a marker as Glimpser itself and waits for it: every message published before it has been dealt with by
 * then, so a refused one that is not in `delivered` never will be.
 */
async function settled(): Promise<void> {
  const marker = `marker-${delivered.length}-${Math.random()}`;
  await broker.publish('glimpser/test/marker', marker);
  if (!delivered.some((m) => m.payload === marker)) throw new Error('the marker did not arrive');
}

const dropped = () => metricValue(metrics.mqttAuthFailuresTotal, { reason: 'publish_denied' });

beforeAll(async () => {
  const devices = new DeviceRegistry();
  devices.register(DEVICE);
  broker = await EmbeddedBroker.create(users, silentLogger, devices, { verifyKey: (secret) => (secret === API_KEY ? keyPrincipal : null) });
  port = await broker.listenTcp('127.0.0.1', 0);
  await broker.subscribe('#', (topic, payload) => delivered.push({ topic, payload: payload.toString() }));
});

afterAll(async () => {
  for (const client of clients) client.end(true);
  await broker.close();
});

const suspend = topics.cameraNotificationsSuspend('porch');

describe('publishing by role', () => {
  it("drops a viewer's publish with a PUBACK and keeps the connection, counting it [MQTT-3.3.5-2]", async () => {
    const before = await dropped();
    const viewer = await signIn('vera');
    // MQTT 3.1.1 cannot refuse a PUBLISH: as Mosquitto does, the broker acknowledges it (PUBACK; PUBREC and PUBCOMP at QoS 2) and drops it.
    await viewer.publishAsync(suspend, '30', { qos: 1 });
    await viewer.publishAsync('glimpser/test/viewer', 'x', { qos: 2 });
    await settled();
    expect(viewer.connected).toBe(true);
    expect(delivered.filter((m) => m.topic === suspend || m.topic === 'glimpser/test/viewer')).toEqual([]);
    expect(await dropped()).toBe(before + 2);
    expect(await viewer.subscribeAsync('glimpser/cameras/porch/#')).toEqual([{ topic: 'glimpser/cameras/porch/#', qos: 0 }]);
  });

  it("lets an operator publish a camera's notifications suspend and …/set commands, and nothing else", async () => {
    const operator = await signIn('otto');
    await operator.publishAsync(suspend, '30', { qos: 1 });
    await operator.publishAsync('glimpser/cameras/porch/detect/set', 'OFF', { qos: 1 });
    await operator.publishAsync('glimpser/test/operator', 'x', { qos: 1 });
    await operator.publishAsync(topics.cameraState('porch'), '{"state":"offline"}', { qos: 1 });
    await settled();
    const topicsSeen = delivered.map((m) => m.topic);
    expect(topicsSeen).toContain(suspend);
    expect(topicsSeen).toContain('glimpser/cameras/porch/detect/set');
    expect(topicsSeen).not.toContain('glimpser/test/operator');
    expect(topicsSeen).not.toContain(topics.cameraState('porch'));
  });

  it("keeps an operator limited to camera porch to that camera's commands", async () => {
    const operator = await signIn('opal');
    await operator.publishAsync(topics.cameraNotificationsSuspend('yard'), '30', { qos: 1 });
    await settled();
    expect(delivered.map((m) => m.topic)).not.toContain(topics.cameraNotificationsSuspend('yard'));
  });

  it('refuses an admin fake camera state (retained), frames, glimpser/events, glimpser/alerts and the suspension echo', async () => {
    const before = await dropped();
    const admin = await signIn('ada');
    const forged = [
      topics.cameraState('garden'),
      topics.cameraFrame('garden'),
      topics.cameraMotion('garden'),
      topics.events,
      topics.alerts,
      topics.summaries,
      topics.available,
      topics.cameraNotificationsSuspended('porch'),
    ];
    for (const topic of forged) await admin.publishAsync(topic, '{"state":"offline","forged":true}', { qos: 1, retain: true });
    await admin.publishAsync('glimpser/test/admin', 'allowed', { qos: 1 });
    await settled();
    expect(delivered.filter((m) => m.payload.includes('forged'))).toEqual([]);
    expect(delivered.map((m) => m.topic)).toContain('glimpser/test/admin');
    expect(await dropped()).toBe(before + forged.length);
    // Nothing was retained either: a new subscriber finds no state for the camera.
    const late: string[] = [];
    const unsubscribe = await broker.subscribe(topics.cameraState('garden'), (_t, payload) => late.push(payload.toString()));
    await unsubscribe();
    expect(late).toEqual([]);
  });

  it("lets the camera's own edge device publish its state, and no other camera's", async () => {
    const device = await signIn(DEVICE.username, DEVICE.password);
    await device.publishAsync(topics.cameraState('garden'), '{"state":"online","source":"edge"}', { qos: 1, retain: true });
    await device.publishAsync(topics.cameraState('porch'), '{"state":"offline","source":"spoof"}', { qos: 1, retain: true });
    await device.publishAsync(topics.events, '{"spoof":true}', { qos: 1 });
    await settled();
    expect(delivered.filter((m) => m.payload.includes('"source":"edge"')).map((m) => m.topic)).toEqual([topics.cameraState('garden')]);
    expect(delivered.filter((m) => m.payload.includes('spoof'))).toEqual([]);
  });
});

describe('camera lists', () => {
  it('refuses a camera-limited user every filter that reaches another camera (SUBACK 0x80, MQTT 3.1.1 §3.9.3)', async () => {
    const limited = await signIn('polly');
    for (const filter of ['glimpser/cameras/yard/state', 'glimpser/cameras/+/state', 'glimpser/#', '#', '+/cameras/#', topics.summaries]) {
      await expect(limited.subscribeAsync(filter)).rejects.toMatchObject({ packet: { granted: [128] } });
    }
    for (const filter of ['glimpser/cameras/porch/#', topics.available, topics.events, topics.alerts, 'home/lights/#']) {
      expect(await limited.subscribeAsync(filter)).toEqual([{ topic: filter, qos: 0 }]);
    }
    expect(limited.connected).toBe(true);
  });

  it("sends a camera-limited user only its cameras' events and alerts", async () => {
    const limited = await signIn('polly');
    const got: string[] = [];
    limited.on('message', (topic, payload) => got.push(`${topic} ${(JSON.parse(payload.toString()) as { id: string }).id}`));
    await limited.subscribeAsync([topics.events, topics.alerts]);
    const all = await signIn('vera');
    const gotAll: string[] = [];
    all.on('message', (topic) => gotAll.push(topic));
    await all.subscribeAsync([topics.events, topics.alerts]);
    const event = (id: string, camera: string) => JSON.stringify({ id, type: 'new', before: null, after: { camera } });
    const alert = (id: string, camera: string) => JSON.stringify({ id, type: 'new', alert: { camera } });
    await broker.publish(topics.events, event('e-yard', 'yard'), { qos: 1 });
    await broker.publish(topics.alerts, alert('a-yard', 'yard'), { qos: 1 });
    await broker.publish(topics.events, event('e-porch', 'porch'), { qos: 1 });
    await broker.publish(topics.alerts, alert('a-porch', 'porch'), { qos: 1 });
    await new Promise<void>((resolve) => {
      const done = () => (got.length >= 2 && gotAll.length >= 4 ? resolve() : undefined);
      limited.on('message', done);
      all.on('message', done);
      done();
    });
    // Delivery to one client is in order, so had the yard messages gone out they would have come first.
    expect(got).toEqual([`${topics.events} e-porch`, `${topics.alerts} a-porch`]);
  });
});

describe('API keys as the MQTT password', () => {
  it("signs in as the key's principal with any username, and refuses a wrong key", async () => {
    const keyed = await signIn('scripts', API_KEY);
    await keyed.publishAsync(topics.cameraNotificationsSuspend('porch'), '15', { qos: 1 });
    await keyed.publishAsync(topics.cameraNotificationsSuspend('yard'), '15', { qos: 1 });
    await settled();
    expect(delivered.filter((m) => m.payload === '15').map((m) => m.topic)).toEqual([topics.cameraNotificationsSuspend('porch')]);
    expect(await connackCode(port, { username: 'scripts', password: `${API_KEY}x` })).toBe(4);
  });
});
