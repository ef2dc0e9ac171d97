import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Bus, BusHandler, PublishOptions } from '../core/bus/bus';
import type { Logger } from '../core/log/logger';
import { metrics } from '../core/metrics';
import { topics } from '../core/topics';
import type { User, UserStore } from './stores/users';

/** The MQTT path on the HTTP port, as Mosquitto, EMQX and browsers' MQTT.js expect. */
export const MQTT_WS_PATH = '/mqtt';

function topicKind(topic: string): string {
  const parts = topic.split('/');
  return parts[0] === 'glimpser' ? (parts[1] === 'cameras' ? `camera_${parts[3] ?? 'other'}` : parts[1] ?? 'other') : 'other';
}

function authError(message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: 4 }) as AuthenticateError;
}

/**
 * The embedded aedes broker: anonymous access is refused, users of the user store sign in with their passwords,
 * and `glimpser/available` is owned by the runtime (retained `online`, `offline` on stop).
 */
export class EmbeddedBroker implements Bus {
  private readonly sessions = new WeakMap<Client, User>();
  private tcp: Server | null = null;
  private readonly ws = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false) });

  private constructor(private readonly aedes: Aedes, private readonly users: UserStore, private readonly log: Logger) {}

  static async create(users: UserStore, log: Logger): Promise<EmbeddedBroker> {
    const aedes = await Aedes.createBroker({ heartbeatInterval: 10000 });
    const broker = new EmbeddedBroker(aedes, users, log);
    aedes.authenticate = (client, username, password, done) => broker.authenticate(client, username, password).then((ok) => done(ok ? null : authError('bad username or password'), ok), () => done(authError('authentication failed'), false));
    aedes.authorizePublish = (client, packet, done) => done(broker.mayPublish(client, packet.topic) ? null : new Error(`not allowed to publish to ${packet.topic}`));
    aedes.authorizeSubscribe = (_client, sub, done) => done(null, sub);
    aedes.on('client', () => metrics.mqttClients.set(aedes.connectedClients));
    aedes.on('clientDisconnect', () => metrics.mqttClients.set(aedes.connectedClients));
    aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    return broker;
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<boolean> {
    if (!username || !password) {
      metrics.mqttAuthFailuresTotal.inc({ reason: 'anonymous' });
      this.log.info({ clientId: client.id }, 'mqtt connection without credentials refused');
      return false;
    }
    const user = await this.users.verify(username, password.toString('utf8'));
    if (!user) {
      metrics.mqttAuthFailuresTotal.inc({ reason: 'credentials' });
      this.log.info({ clientId: client.id, username }, 'mqtt connection with wrong credentials refused');
      return false;
    }
    this.sessions.set(client, user);
    return true;
  }

  private mayPublish(client: Client | null, topic: string): boolean {
    if (!client) return true;
    const user = this.sessions.get(client);
    const allowed = user !== undefined && topic !== topics.available;
    if (!allowed) metrics.mqttAuthFailuresTotal.inc({ reason: 'publish_denied' });
    return allowed;
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
        { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: options.qos ?? 0, retain: options.retain ?? false, dup: false },
        (err) => {
          if (err) return reject(err);
          metrics.mqttPublishedTotal.inc({ kind: topicKind(topic) });
          resolve();
        },
      );
    });
  }

  subscribe(filter: string, handler: BusHandler): Promise<() => Promise<void>> {
    const deliver = (packet: AedesPublishPacket, done: () => void) => {
      try {
        handler(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
      } catch (err) {
        this.log.error({ err: (err as Error).message, topic: packet.topic }, 'bus subscriber failed');
      }
      done();
    };
    return new Promise((resolve) => {
      this.aedes.subscribe(filter, deliver, () => resolve(() => new Promise<void>((done) => this.aedes.unsubscribe(filter, deliver, done))));
    });
  }

  get listening(): boolean {
    return this.tcp?.listening === true && !this.aedes.closed;
  }

  async close(): Promise<void> {
    for (const client of this.ws.clients) client.terminate();
    await new Promise<void>((resolve) => this.ws.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    const tcp = this.tcp;
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    this.tcp = null;
  }
}
