import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Bus, BusHandler, PublishOptions } from '../core/bus/bus';
import { DeviceRegistry } from '../core/capture/devices';
import type { Logger } from '../core/log/logger';
import { metrics } from '../core/metrics';
import { parseCameraTopic, publishersOf } from '../core/topics';
import type { User, UserStore } from './stores/users';

/** The MQTT path on the HTTP port, as Mosquitto, EMQX and browsers' MQTT.js expect. */
export const MQTT_WS_PATH = '/mqtt';

function topicKind(topic: string): string {
  const parts = topic.split('/');
  return parts[0] === 'glimpser' ? (parts[1] === 'cameras' ? `camera_${parts[3] ?? 'other'}` : (parts[1] ?? 'other')) : 'other';
}

function authError(message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: 4 }) as AuthenticateError;
}

/** Who a connection signed in as: a user of the user store, or an edge camera's device login. */
type Session = { kind: 'user'; user: User } | { kind: 'device'; username: string; camera: string };

/** The part of aedes' persistence used here; aedes' typings leave it untyped. */
interface RetainedStore {
  createRetainedStream(pattern: string): AsyncIterable<AedesPublishPacket>;
}

/**
 * The embedded aedes broker: anonymous access is refused, users of the user store sign in with their passwords,
 * edge cameras sign in with their device logins and may use only their own camera's topics, and
 * `glimpser/available` is owned by the runtime (retained `online`, `offline` on stop).
 */
export class EmbeddedBroker implements Bus {
  private readonly sessions = new WeakMap<Client, Session>();
  /** Device connections, so unregistering a device (or changing its password) can cut them off. */
  private readonly deviceClients = new Set<Client>();
  private readonly onDeviceRemoved = (username: string) => this.disconnectDevice(username);
  private tcp: Server | null = null;
  private readonly ws = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });

  private constructor(
    private readonly aedes: Aedes,
    private readonly users: UserStore,
    readonly devices: DeviceRegistry,
    private readonly log: Logger,
  ) {
    devices.on('removed', this.onDeviceRemoved);
  }

  static async create(users: UserStore, log: Logger, devices = new DeviceRegistry()): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker({ heartbeatInterval: 10000 });
    const broker = new EmbeddedBroker(aedes, users, devices, log);
    aedes.authenticate = (client, username, password, done) =>
      broker.authenticate(client, username, password).then(
        (ok) => done(ok ? null : authError('bad username or password'), ok),
        () => done(authError('authentication failed'), false),
      );
    aedes.authorizePublish = (client, packet, done) =>
      done(broker.mayPublish(client, packet.topic) ? null : new Error(`not allowed to publish to ${packet.topic}`));
    // A null subscription is refused in the SUBACK (0x80, MQTT 3.1.1 §3.9.3) without dropping the connection.
    aedes.authorizeSubscribe = (client, sub, done) => done(null, broker.maySubscribe(client, sub.topic) ? sub : null);
    aedes.on('client', () => metrics.mqttClients.set(aedes.connectedClients));
    aedes.on('clientDisconnect', (client) => {
      broker.deviceClients.delete(client);
      metrics.mqttClients.set(aedes.connectedClients);
    });
    aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    return broker;
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<boolean> {
    if (!username || !password) {
      metrics.mqttAuthFailuresTotal.inc({ reason: 'anonymous' });
      this.log.info({ clientId: client.id }, 'mqtt connection without credentials refused');
      return false;
    }
    // A device login is checked first: it grants less than a user, so a name used by both cannot gain by it.
    const camera = this.devices.verify(username, password);
    if (camera !== null) {
      this.sessions.set(client, { kind: 'device', username, camera });
      this.deviceClients.add(client);
      this.log.info({ clientId: client.id, username, camera }, 'edge device connected');
      return true;
    }
    const user = await this.users.verify(username, password.toString('utf8'));
    if (!user) {
      metrics.mqttAuthFailuresTotal.inc({ reason: 'credentials' });
      this.log.info({ clientId: client.id, username }, 'mqtt connection with wrong credentials refused');
      return false;
    }
    this.sessions.set(client, { kind: 'user', user });
    return true;
  }

  private mayPublish(client: Client | null, topic: string): boolean {
    if (!client) return true;
    const session = this.sessions.get(client);
    // Runtime-owned topics (availability, the suspension echo) take no client's word; user commands none of a device's.
    const publishers = publishersOf(topic);
    const allowed = session !== undefined && publishers !== 'nobody' && (session.kind === 'user' || (publishers === 'any' && this.isOwnTopic(session, topic)));
    if (!allowed) {
      metrics.mqttAuthFailuresTotal.inc({ reason: 'publish_denied' });
      this.log.info({ clientId: client.id, topic }, 'mqtt publish refused');
    }
    return allowed;
  }

  private maySubscribe(client: Client, filter: string): boolean {
    const session = this.sessions.get(client);
    const allowed = session !== undefined && (session.kind === 'user' || this.isOwnTopic(session, filter));
    if (!allowed) {
      metrics.mqttAuthFailuresTotal.inc({ reason: 'subscribe_denied' });
      this.log.info({ clientId: client.id, filter }, 'mqtt subscription refused');
    }
    return allowed;
  }

  /**
   * Whether a topic or filter lies inside the device's own camera subtree. Wildcards before the leaf never parse
   * as a camera id, and the device must still be registered for that camera (not removed since it connected).
   */
  private isOwnTopic(session: Extract<Session, { kind: 'device' }>, topic: string): boolean {
    return parseCameraTopic(topic)?.camera === session.camera && this.devices.cameraOf(session.username) === session.camera;
  }

  private disconnectDevice(username: string): void {
    for (const client of this.deviceClients) {
      const session = this.sessions.get(client);
      if (session?.kind !== 'device' || session.username !== username) continue;
      this.log.info({ clientId: client.id, username }, 'edge device removed: closing its connection');
      this.deviceClients.delete(client);
      client.close();
    }
  }

  listenTcp(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket: Socket) => this.aedes.handle(socket));
      server.once('error', reject);
      server.listen(port, host, () => {
        this.tcp = server;
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Takes HTTP upgrades on MQTT_WS_PATH; other paths are left to other listeners (the Node-RED editor's comms). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== MQTT_WS_PATH) return false;
    this.ws.handleUpgrade(request, socket, head, (client) => {
      const stream = createWebSocketStream(client);
      stream.on('error', () => stream.destroy());
      this.aedes.handle(stream, request);
    });
    return true;
  }

  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        {
          cmd: 'publish',
          topic,
          payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
          qos: options.qos ?? 0,
          retain: options.retain ?? false,
          dup: false,
        },
        (err) => {
          if (err) return reject(err);
          metrics.mqttPublishedTotal.inc({ kind: topicKind(topic) });
          resolve();
        },
      );
    });
  }

  /** Like an MQTT client's subscription, the retained messages matching the filter are delivered first. */
  async subscribe(filter: string, handler: BusHandler): Promise<() => Promise<void>> {
    let replaying = true;
    const live = new Set<string>();
    const call = (packet: AedesPublishPacket) => {
      try {
        handler(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
      } catch (err) {
        this.log.error({ err: (err as Error).message, topic: packet.topic }, 'bus subscriber failed');
      }
    };
    const deliver = (packet: AedesPublishPacket, done: () => void) => {
      if (replaying) live.add(packet.topic);
      call(packet);
      done();
    };
    await new Promise<void>((resolve) => this.aedes.subscribe(filter, deliver, resolve));
    // Subscribed before reading the retained store, so nothing is missed; a topic that already had a live message
    // meanwhile keeps that newer one instead of being handed the older retained copy after it.
    const store = (this.aedes as unknown as { persistence: RetainedStore }).persistence;
    for await (const packet of store.createRetainedStream(filter)) {
      if (!live.has(packet.topic)) call(packet);
    }
    replaying = false;
    live.clear();
    return () => new Promise<void>((done) => this.aedes.unsubscribe(filter, deliver, done));
  }

  get listening(): boolean {
    return this.tcp?.listening === true && !this.aedes.closed;
  }

  async close(): Promise<void> {
    this.devices.off('removed', this.onDeviceRemoved);
    for (const client of this.ws.clients) client.terminate();
    await new Promise<void>((resolve) => this.ws.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    const tcp = this.tcp;
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    this.tcp = null;
  }
}
