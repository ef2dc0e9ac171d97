import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { SuspensionMqtt } from '../../core/alerts/suspend-mqtt';
import { SuspensionStore, type SuspensionState } from '../../core/alerts/suspensions';
import { DeviceRegistry } from '../../core/capture/devices';
import { silentLogger } from '../../core/log/logger';
import { topics } from '../../core/topics';
import { EmbeddedBroker } from '../../runtime/broker';
import { UserStore } from '../../runtime/stores/users';

const ADMIN_PASSWORD = 'admin-password-for-suspend-tests';
const DEVICE = { cameraId: 'porch', username: 'porch-device', password: 'porch-device-secret' };
const SUSPENDED = 'glimpser/cameras/+/notifications/suspended';

interface Echo {
  topic: string;
  state: SuspensionState;
  retain: boolean;
}

function connect(port: number, options: mqtt.IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** The next suspension echo the client gets that matches. */
function nextEcho(client: MqttClient, matches: (echo: Echo) => boolean = () => true): Promise<Echo> {
  return new Promise((resolve) => {
    const onMessage = (topic: string, payload: Buffer, packet: { retain: boolean }) => {
      if (!topic.endsWith('/notifications/suspended')) return;
      const echo: Echo = { topic, state: JSON.parse(payload.toString('utf8')) as SuspensionState, retain: packet.retain };
      if (!matches(echo)) return;
      client.off('message', onMessage);
      resolve(echo);
    };
    client.on('message', onMessage);
  });
}

describe('suspend notifications over MQTT on the embedded broker', () => {
  let usersDir: string;
  let broker: EmbeddedBroker;
  let port: number;
  let store: SuspensionStore;
  let handler: SuspensionMqtt;
  let admin: MqttClient;

  beforeAll(async () => {
    usersDir = mkdtempSync(path.join(tmpdir(), 'glimpser-suspend-mqtt-'));
    const users = new UserStore(usersDir);
    await users.open();
    await users.ensureAdmin(ADMIN_PASSWORD);
    const devices = new DeviceRegistry();
    devices.register(DEVICE);
    broker = await EmbeddedBroker.create(users, silentLogger, devices);
    port = await broker.listenTcp('127.0.0.1', 0);
    store = SuspensionStore.inMemory();
    // A suspension from before the start (the API, or the last run): its state is published on start.
    store.suspend('garage', 90);
    handler = new SuspensionMqtt({ bus: broker, suspensions: store, logger: silentLogger });
    await handler.start();
    admin = await connect(port, { username: 'admin', password: ADMIN_PASSWORD });
  });

  afterAll(async () => {
    admin.end(true);
    await handler.stop();
    store.close();
    await broker.close();
    rmSync(usersDir, { recursive: true, force: true });
  });

  it('publishes the state of cameras already suspended, retained, on start', async () => {
    const client = await connect(port, { username: 'admin', password: ADMIN_PASSWORD });
    const echo = nextEcho(client);
    await client.subscribeAsync(topics.cameraNotificationsSuspended('garage'));
    expect(await echo).toMatchObject({ topic: 'glimpser/cameras/garage/notifications/suspended', retain: true, state: { camera: 'garage', suspended: true } });
    client.end(true);
  });

  it('suspends on minutes from a signed-in user and echoes the state retained; 0, off or {"minutes":0} resume', async () => {
    await admin.subscribeAsync(SUSPENDED);
    let echo = nextEcho(admin, (e) => e.state.camera === 'porch' && e.state.suspended);
    await admin.publishAsync(topics.cameraNotificationsSuspend('porch'), '30', { qos: 1 });
    const on = await echo;
    expect(on.topic).toBe('glimpser/cameras/porch/notifications/suspended');
    expect(on.state.untilMs).toBe(store.get('porch')?.until);
    expect(on.state.until).toBe(new Date(on.state.untilMs!).toISOString());

    // A client that subscribes later gets the state from the broker's retained store.
    const late = await connect(port, { username: 'admin', password: ADMIN_PASSWORD });
    const retained = nextEcho(late, (e) => e.state.camera === 'porch');
    await late.subscribeAsync(topics.cameraNotificationsSuspended('porch'));
    expect(await retained).toMatchObject({ retain: true, state: { camera: 'porch', suspended: true, untilMs: on.state.untilMs } });
    late.end(true);

    for (const resume of ['0', 'off', '{"minutes":0}']) {
      echo = nextEcho(admin, (e) => e.state.camera === 'porch' && !e.state.suspended);
      await admin.publishAsync(topics.cameraNotificationsSuspend('porch'), resume, { qos: 1 });
      expect((await echo).state).toEqual({ camera: 'porch', suspended: false, until: null, untilMs: null });
      expect(store.isSuspended('porch')).toBe(false);
    }

    echo = nextEcho(admin, (e) => e.state.camera === 'porch' && e.state.suspended);
    await admin.publishAsync(topics.cameraNotificationsSuspend('porch'), '{"minutes": 5}', { qos: 1 });
    expect((await echo).state.suspended).toBe(true);
    expect(store.isSuspended('porch')).toBe(true);
    store.resume('porch');
  });

  it('ignores a payload it cannot read, answering with the unchanged state', async () => {
    await admin.subscribeAsync(SUSPENDED);
    const echo = nextEcho(admin, (e) => e.state.camera === 'yard');
    await admin.publishAsync(topics.cameraNotificationsSuspend('yard'), 'forever', { qos: 1 });
    expect((await echo).state).toEqual({ camera: 'yard', suspended: false, until: null, untilMs: null });
    expect(store.isSuspended('yard')).toBe(false);
  });

  it('echoes changes made elsewhere (the API) too', async () => {
    await admin.subscribeAsync(SUSPENDED);
    const echo = nextEcho(admin, (e) => e.state.camera === 'yard' && e.state.suspended);
    store.suspend('yard', 10, 'admin');
    expect((await echo).state.untilMs).toBe(store.get('yard')?.until);
    store.resume('yard');
  });

  it("refuses the command from the camera's own edge device, and the echo topic from anyone", async () => {
    for (const [login, topic] of [
      [{ username: DEVICE.username, password: DEVICE.password }, topics.cameraNotificationsSuspend('porch')],
      [{ username: 'admin', password: ADMIN_PASSWORD }, topics.cameraNotificationsSuspended('porch')],
    ] as const) {
      const client = await connect(port, login);
      // MQTT 3.1.1 has no refusal for a PUBLISH: as Mosquitto does, the broker acknowledges and drops it [MQTT-3.3.5-2].
      await client.publishAsync(topic, topic.endsWith('suspend') ? '60' : '{"camera":"porch","suspended":true}', { qos: 1, retain: true });
      expect(client.connected).toBe(true);
      client.end(true);
    }
    // A marker after both: had either got through, its effect would be in place by now.
    await admin.subscribeAsync(SUSPENDED);
    const marker = nextEcho(admin, (e) => e.state.camera === 'marker');
    await admin.publishAsync(topics.cameraNotificationsSuspend('marker'), 'off', { qos: 1 });
    await marker;
    expect(store.isSuspended('porch')).toBe(false);
    const late = await connect(port, { username: 'admin', password: ADMIN_PASSWORD });
    const retained = nextEcho(late, (e) => e.state.camera === 'porch');
    await late.subscribeAsync(topics.cameraNotificationsSuspended('porch'));
    expect((await retained).state.suspended).toBe(false);
    late.end(true);
  });
});
