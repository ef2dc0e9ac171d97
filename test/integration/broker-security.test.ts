import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { DeviceRegistry } from '../../core/capture/devices';
import { metrics } from '../../core/metrics';
import { SignInLimiter } from '../../runtime/auth/limiter';
import { EmbeddedBroker, MQTT_WS_PATH, type BrokerOptions, type BrokerUsers } from '../../runtime/broker';
import { UserStore } from '../../runtime/stores/users';
import {
  connackCode,
  connectClient,
  connectPacket,
  CountingGate,
  publishPacket,
  RawClient,
  recordingLogger,
  remainingLength,
  type LogRecord,
} from '../support/mqtt-attack';
import { eventually, metricValue } from '../support/tools';

const ADMIN_PASSWORD = 'admin-password-for-broker-security';
const MiB = 1024 * 1024;

let store: UserStore;
let verifyCalls = 0;
/** The user store, counting how often a password is really checked (the slow scrypt hash). */
const users: BrokerUsers = {
  verify: (username, password) => {
    verifyCalls++;
    return store.verify(username, password);
  },
};
const records: LogRecord[] = [];
const brokers: EmbeddedBroker[] = [];

async function startBroker(options: BrokerOptions = {}): Promise<{ broker: EmbeddedBroker; port: number }> {
  const broker = await EmbeddedBroker.create(users, recordingLogger(records), new DeviceRegistry(), options);
  brokers.push(broker);
  return { broker, port: await broker.listenTcp('127.0.0.1', 0) };
}

const refused = (reason: string) => metricValue(metrics.mqttConnectionsRefusedTotal, { reason });
const admin = { username: 'admin', password: ADMIN_PASSWORD };

beforeAll(async () => {
  store = new UserStore(mkdtempSync(path.join(tmpdir(), 'glimpser-broker-security-')));
  await store.open();
  await store.ensureAdmin(ADMIN_PASSWORD);
});

afterAll(async () => {
  for (const broker of brokers) await broker.close();
});

describe('packet size limits, read from the fixed header (MQTT 3.1.1 §2.2.3)', () => {
  let port: number;
  beforeAll(async () => ({ port } = await startBroker()));

  it('cuts off five unauthenticated clients announcing a 200 MB CONNECT at once, without buffering it', async () => {
    const before = await refused('packet_too_large');
    const header = Buffer.concat([Buffer.from([0x10]), remainingLength(200 * 1000 * 1000)]);
    const chunk = Buffer.alloc(MiB, 0x61);
    const clients = await Promise.all(Array.from({ length: 5 }, () => RawClient.open(port)));
    const rssBefore = process.memoryUsage().rss;
    await Promise.all(clients.map((client) => client.flood(header, 200 * 1000 * 1000, chunk)));
    await Promise.all(clients.map((client) => client.closed));
    const grown = process.memoryUsage().rss - rssBefore;
    expect(grown).toBeLessThan(20 * MiB);
    // Cut off on the header: what got through before the reset is what loopback's socket buffers held, not 200 MB.
    for (const client of clients) expect(client.bytesSent).toBeLessThan(32 * MiB);
    expect(await refused('packet_too_large')).toBe(before + 5);
  });

  it('refuses a signed-in PUBLISH over maxPacketBytes and closes the connection; one under it goes through', async () => {
    const { broker, port: small } = await startBroker({ limits: { maxPacketBytes: 2 * MiB } });
    const seen: number[] = [];
    await broker.subscribe('glimpser/test/big', (_topic, payload) => seen.push(payload.length));
    const client = await connectClient(small, admin);
    await client.publishAsync('glimpser/test/big', Buffer.alloc(MiB, 1), { qos: 1 });
    const before = await refused('packet_too_large');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('glimpser/test/big', Buffer.alloc(3 * MiB, 1), { qos: 0 });
    // MQTT 3.1.1 has no reason code for it; Mosquitto's max_packet_size also disconnects.
    await closed;
    client.end(true);
    expect(await refused('packet_too_large')).toBe(before + 1);
    expect(seen).toEqual([MiB]);
  });

  it('holds a large PUBLISH pipelined behind the CONNECT until the sign-in is decided [MQTT 3.1.1 §3.1.4]', async () => {
    const { broker, port: guarded } = await startBroker();
    let arrived: (fill: number) => void = () => undefined;
    const first = new Promise<number>((resolve) => (arrived = resolve));
    await broker.subscribe('glimpser/test/pipelined', (_topic, payload) => arrived(payload[0]));
    const topic = 'glimpser/test/pipelined';
    const wrong = await RawClient.open(guarded);
    wrong.socket.write(
      Buffer.concat([connectPacket({ clientId: 'pipeline-wrong', username: 'admin', password: 'nope' }), publishPacket(topic, Buffer.alloc(MiB, 2))]),
    );
    await wrong.closed;
    expect([...wrong.bytes]).toEqual([0x20, 0x02, 0x00, 0x04]);
    const right = await RawClient.open(guarded);
    right.socket.write(Buffer.concat([connectPacket({ clientId: 'pipeline-right', ...admin }), publishPacket(topic, Buffer.alloc(MiB, 3))]));
    // The first message to arrive is the signed-in client's: the refused one's never did.
    expect(await first).toBe(3);
    right.destroy();
  });
});

describe('connection caps', () => {
  it('refuses a connection over the per-address cap and counts it', async () => {
    const { port } = await startBroker({ limits: { maxConnectionsPerAddress: 3 } });
    const before = await refused('per_address');
    const open = await Promise.all([RawClient.open(port), RawClient.open(port), RawClient.open(port)]);
    const fourth = await RawClient.open(port);
    await fourth.closed;
    expect(fourth.bytes.length).toBe(0);
    expect(await refused('per_address')).toBe(before + 1);
    open[0].destroy();
    // Closing one frees its place once the broker has seen the close.
    const again = await eventually(() => connectClient(port, admin).catch(() => undefined), 5000, 'a place freed');
    again.end(true);
    for (const client of open) client.destroy();
  });

  it('refuses a connection over the cap on unauthenticated connections; signed-in ones do not count', async () => {
    const { port } = await startBroker({ limits: { maxUnauthenticatedConnections: 2 } });
    const before = await refused('unauthenticated');
    const signedIn = await connectClient(port, admin);
    const idle = await Promise.all([RawClient.open(port), RawClient.open(port)]);
    const third = await RawClient.open(port);
    await third.closed;
    expect(await refused('unauthenticated')).toBe(before + 1);
    signedIn.end(true);
    for (const client of idle) client.destroy();
  });
});

describe('MQTT sign-in through the shared sign-in gate', () => {
  it('checks at most the allowed number of wrong passwords, even sent at once, and answers the rest 0x05 without a hash', async () => {
    const gate = new CountingGate(5);
    const { port } = await startBroker({ signInGate: gate });
    const callsBefore = verifyCalls;
    const codes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => connackCode(port, { username: 'admin', password: `wrong-${i}`, clientId: `guess-${i}` })),
    );
    expect(codes.filter((code) => code === 4)).toHaveLength(5);
    // CONNACK 0x05 "not authorized" (MQTT 3.1.1 §3.2.2.3) for the refused attempts.
    expect(codes.filter((code) => code === 5)).toHaveLength(15);
    expect(verifyCalls - callsBefore).toBe(5);
    expect(gate.begun).toHaveLength(20);
    expect(gate.begun.every((key) => key === 'admin@127.0.0.1')).toBe(true);
    // The right password is refused too while the gate says so: it is not checked at all.
    expect(await connackCode(port, admin)).toBe(5);
    expect(verifyCalls - callsBefore).toBe(5);
  });
});

describe('MQTT sign-in through the SignInLimiter the HTTP API and the editor share', () => {
  it('lets one of 60 concurrent wrong passwords be checked (1 per second per user and address) and refuses the rest 0x05', async () => {
    // A fixed clock: the limit is about counting, not about how fast this machine sends 60 connections.
    const { port } = await startBroker({ signInGate: new SignInLimiter({ now: () => 1_000_000 }) });
    const callsBefore = verifyCalls;
    const refusedBefore = await metricValue(metrics.signInRefusalsTotal, { channel: 'mqtt', scope: 'user' });
    const codes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => connackCode(port, { username: 'admin', password: `guess-${i}`, clientId: `spray-${i}` })),
    );
    expect(codes.filter((code) => code === 4)).toHaveLength(1);
    expect(codes.filter((code) => code === 5)).toHaveLength(59);
    expect(verifyCalls - callsBefore).toBe(1);
    expect(await metricValue(metrics.signInRefusalsTotal, { channel: 'mqtt', scope: 'user' })).toBe(refusedBefore + 59);
  });
});

describe('MQTT over WebSocket', () => {
  it('applies the same packet limit to WebSocket connections', async () => {
    const { broker } = await startBroker({ limits: { maxPacketBytes: MiB } });
    const server = createServer();
    server.on('upgrade', (request, socket, head) => {
      if (!broker.handleUpgrade(request, socket, head)) socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${port}${MQTT_WS_PATH}`, { ...admin, reconnectPeriod: 0 });
    await client.publishAsync('glimpser/test/ws', Buffer.alloc(1000), { qos: 1 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('glimpser/test/ws', Buffer.alloc(2 * MiB), { qos: 0 });
    await closed;
    client.end(true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('CONNECT checks the spec requires', () => {
  let port: number;
  beforeAll(async () => ({ port } = await startBroker()));

  it.each([
    ['level 6', 6],
    ['MQTT 5', 5],
    ['level 2', 2],
  ])('answers an unsupported protocol level (%s) with CONNACK 0x01 and closes [MQTT-3.1.2-2]', async (_name, level) => {
    const before = await refused('protocol_level');
    const client = await RawClient.open(port);
    client.socket.write(connectPacket({ clientId: 'level-test', level, protocolName: 'MQTT', ...admin }));
    await client.closed;
    expect([...client.bytes]).toEqual([0x20, 0x02, 0x00, 0x01]);
    expect(await refused('protocol_level')).toBe(before + 1);
  });

  it('answers a zero-length client id with CleanSession 0 with CONNACK 0x02 and closes [MQTT-3.1.3-8]', async () => {
    const client = await RawClient.open(port);
    client.socket.write(connectPacket({ clientId: '', clean: false, ...admin }));
    await client.closed;
    expect([...client.bytes]).toEqual([0x20, 0x02, 0x00, 0x02]);
  });

  it('accepts a zero-length client id with CleanSession 1 and assigns one [MQTT-3.1.3-6]', async () => {
    const client = await RawClient.open(port);
    client.socket.write(connectPacket({ clientId: '', clean: true, ...admin }));
    expect([...(await client.receivedAtLeast(4)).subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x00]);
    client.destroy();
  });

  it('closes a connection whose first packet is not a CONNECT [MQTT-3.1.0-1]', async () => {
    const client = await RawClient.open(port);
    client.socket.write(publishPacket('glimpser/test/early', Buffer.from('x')));
    await client.closed;
    expect(client.bytes.length).toBe(0);
  });
});

describe('bounded log fields', () => {
  it('logs a 16 KB client id with control characters as one short, escaped field with its length', async () => {
    const { port } = await startBroker();
    const from = records.length;
    const clientId = `evil\n{"level":"error"}\u001b[2J${'x'.repeat(16 * 1024)}`;
    const client = await RawClient.open(port);
    client.socket.write(connectPacket({ clientId, username: 'admin', password: 'wrong-password' }));
    await client.closed;
    expect([...client.bytes]).toEqual([0x20, 0x02, 0x00, 0x04]);
    const logged = records.slice(from);
    const refusal = logged.find((record) => record.msg === 'mqtt connection with wrong credentials refused');
    const field = String(refusal?.fields.clientId);
    expect(field.startsWith('evil\\x0a{"level":"error"}\\x1b[2Jxxx')).toBe(true);
    expect(field.endsWith(`xx… (${clientId.length} chars)`)).toBe(true);
    expect(field.length).toBeLessThan(160);
    for (const record of logged) expect(JSON.stringify(record).length).toBeLessThan(1024);
  });
});
