import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Bus, BusHandler, PublishOptions } from '../core/bus/bus';
import { DeviceRegistry } from '../core/capture/devices';
import type { Logger } from '../core/log/logger';
import { metrics } from '../core/metrics';
import type { Principal } from './auth/roles';
import type { SignInGate } from './auth/sign-in-gate';
import { mayForward, publishRefusal, subscribeRefusal, type Session } from './broker-access';
import { signIn, type BrokerUsers } from './broker-sign-in';
import { brokerLimits, ConnectionAdmission, webSocketMaxPayload, type BrokerLimits } from './broker-limits';
import { logField } from './mqtt-log-fields';
import { MqttPacketGuard } from './mqtt-packet-guard';

/** The MQTT path on the HTTP port, as Mosquitto, EMQX and browsers' MQTT.js expect. */
export const MQTT_WS_PATH = '/mqtt';

function topicKind(topic: string): string {
  const parts = topic.split('/');
  return parts[0] === 'glimpser' ? (parts[1] === 'cameras' ? `camera_${parts[3] ?? 'other'}` : (parts[1] ?? 'other')) : 'other';
}

export type { BrokerUsers };
export { BROKER_LIMIT_DEFAULTS, type BrokerLimits } from './broker-limits';

export interface BrokerOptions {
  /** The shared limit on password guessing; asked before any credential is checked (channel `mqtt`). */
  signInGate?: SignInGate;
  /** Accepts an API key given as the MQTT password; the connection then signs in as the key's principal. */
  verifyKey?: (secret: string) => Principal | null;
  /** Revoked keys (ApiKeyStore.onRevoked): a connection signed in with one is closed. */
  onKeyRevoked?: (listener: (keyId: string) => void) => () => void;
  /** When a key expires (ms since the epoch, null: never): a connection signed in with it is closed then. */
  keyExpiresAt?: (keyId: string) => number | null;
  /** Packet and connection limits; each one left out keeps its default (BROKER_LIMIT_DEFAULTS). */
  limits?: Partial<BrokerLimits>;
}

/** The part of aedes' persistence used here; aedes' typings leave it untyped. */
interface RetainedStore {
  createRetainedStream(pattern: string): AsyncIterable<AedesPublishPacket>;
}

/** aedes' internal publish, which its PUBLISH handler and will delivery call with the sending client. */
type InternalPublish = (packet: PublishPacket, client?: Client | null | ((err?: Error) => void), done?: (err?: Error) => void) => void;

/** How long a connection may take to send its CONNECT (aedes' default is 30 s). */
const CONNECT_TIMEOUT_MS = 10000;

/**
 * The embedded aedes broker: anonymous access is refused, users sign in with their passwords or API keys and act
 * within their role (viewer: subscribe; operator: also commands; admin: also any other topic), edge cameras sign in
 * with their device logins and use only their own camera's topics, and only Glimpser itself publishes
 * `glimpser/available`, events, alerts and summaries. Every connection passes a packet guard first (broker-limits.ts).
 */
export class EmbeddedBroker implements Bus {
  private readonly sessions = new WeakMap<Client, Session>();
  /** Device connections, so unregistering a device (or changing its password) can cut them off. */
  private readonly deviceClients = new Set<Client>();
  private readonly onDeviceRemoved = (username: string) => this.disconnectDevice(username);
  /** Password connections and the user store's generation when each signed in (see recheckUsers). */
  private readonly passwordClients = new Map<Client, number>();
  /** Connections signed in with an API key, closed when it is revoked. */
  private readonly keyClients = new Set<Client>();
  /** Timers that close a key's connection when the key expires. */
  private readonly keyExpiries = new Map<Client, NodeJS.Timeout>();
  private readonly stopRevocations: () => void;
  private tcp: Server | null = null;
  private readonly ws: WebSocketServer;
  private readonly admission: ConnectionAdmission;

  private constructor(
    private readonly aedes: Aedes,
    private readonly users: BrokerUsers,
    readonly devices: DeviceRegistry,
    private readonly log: Logger,
    private readonly options: BrokerOptions,
    readonly limits: BrokerLimits,
  ) {
    devices.on('removed', this.onDeviceRemoved);
    const stopUsers = users.onTokensRevoked?.(() => this.recheckUsers());
    const stopKeys = options.onKeyRevoked?.((keyId) => this.closeKey(keyId));
    this.stopRevocations = () => {
      stopUsers?.();
      stopKeys?.();
    };
    this.admission = new ConnectionAdmission(limits, log);
    this.ws = new WebSocketServer({
      noServer: true,
      maxPayload: webSocketMaxPayload(limits),
      handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
    });
  }

  static async create(users: BrokerUsers, log: Logger, devices = new DeviceRegistry(), options: BrokerOptions = {}): Promise<EmbeddedBroker> {
    const limits = brokerLimits(options.limits);
    const aedes = await Aedes.createBroker({ heartbeatInterval: 10000, connectTimeout: CONNECT_TIMEOUT_MS });
    const broker = new EmbeddedBroker(aedes, users, devices, log, options, limits);
    aedes.authenticate = (client, username, password, done) =>
      broker.authenticate(client, username, password).then(
        (refusal) => done(refusal, refusal === null),
        (err: Error) => {
          // The user store failing is no reason to let anyone in: CONNACK 0x05 (not authorized).
          log.error({ clientId: logField(client.id), err: logField(err.message, 512) }, 'mqtt sign-in failed');
          done(Object.assign(new Error('authentication failed'), { returnCode: 5 as const }), false);
        },
      );
    // MQTT 3.1.1 cannot tell a client that a PUBLISH was refused: the server must acknowledge it as usual or close
    // the connection [MQTT-3.3.5-2]. As Mosquitto does, the refused message is acknowledged, dropped and counted,
    // so one bad topic does not cut off a device's frames (aedes itself would close the connection).
    const dropped = new WeakSet<PublishPacket>();
    aedes.authorizePublish = (client, packet, done) => {
      if (!broker.mayPublish(client, packet.topic)) dropped.add(packet);
      done(null);
    };
    const internal = aedes as unknown as { publish: InternalPublish };
    const publish = internal.publish.bind(aedes);
    internal.publish = (packet, client, done) => {
      if (!dropped.has(packet)) return publish(packet, client, done);
      const callback = typeof client === 'function' ? client : done;
      callback?.();
    };
    // A null subscription is refused in the SUBACK (0x80, MQTT 3.1.1 §3.9.3) without dropping the connection.
    aedes.authorizeSubscribe = (client, sub, done) => done(null, broker.maySubscribe(client, sub.topic) ? sub : null);
    aedes.authorizeForward = (client, packet) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      return mayForward(broker.sessions.get(client), packet.topic, payload) ? packet : null;
    };
    aedes.on('client', () => metrics.mqttClients.set(aedes.connectedClients));
    aedes.on('clientDisconnect', (client) => {
      broker.deviceClients.delete(client);
      broker.passwordClients.delete(client);
      broker.keyClients.delete(client);
      clearTimeout(broker.keyExpiries.get(client));
      broker.keyExpiries.delete(client);
      metrics.mqttClients.set(aedes.connectedClients);
    });
    aedes.on('clientError', (client, err) => log.debug({ clientId: logField(client.id), err: logField(err.message) }, 'mqtt client error'));
    return broker;
  }

  private guardOf(client: Client): MqttPacketGuard | null {
    return client.conn instanceof MqttPacketGuard ? client.conn : null;
  }

  /** null when the client may connect, else the error for its CONNACK. */
  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<AuthenticateError | null> {
    const guard = this.guardOf(client);
    const address = (guard && this.admission.addressOf(guard)) ?? 'unknown';
    const result = await signIn(
      { ...this.options, users: this.users, devices: this.devices, log: this.log },
      { clientId: client.id, address },
      username,
      password,
    );
    if ('error' in result) return result.error;
    this.sessions.set(client, result.session);
    if (guard) this.admission.signedIn(guard);
    if (result.session.kind === 'device') this.deviceClients.add(client);
    else if (result.session.principal.via === 'password' && this.users.generation) this.passwordClients.set(client, this.users.generation());
    else if (result.session.principal.via === 'key') this.watchKey(client, result.session.principal.keyId);
    return null;
  }

  /** Keeps a key's connection to be closed when the key is revoked, and when it expires. */
  private watchKey(client: Client, keyId: string | undefined): void {
    this.keyClients.add(client);
    const expiresAt = keyId === undefined ? null : (this.options.keyExpiresAt?.(keyId) ?? null);
    if (expiresAt === null) return;
    // setTimeout holds at most 2^31-1 ms (24.8 days); a later expiry is looked at again then.
    const timer = setTimeout(
      () => {
        this.keyExpiries.delete(client);
        if (Date.now() < expiresAt) return this.watchKey(client, keyId);
        this.log.info({ clientId: logField(client.id), keyId: logField(keyId ?? '') }, 'mqtt connection closed: its API key expired');
        this.keyClients.delete(client);
        client.close();
      },
      Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1),
    );
    timer.unref();
    this.keyExpiries.set(client, timer);
  }

  /** Closes the connections signed in with a key that was just revoked. */
  private closeKey(keyId: string): void {
    for (const client of this.keyClients) {
      const session = this.sessions.get(client);
      if (session?.kind !== 'user' || session.principal.keyId !== keyId) continue;
      this.log.info({ clientId: logField(client.id), keyId: logField(keyId) }, 'mqtt connection closed: its API key was revoked');
      this.keyClients.delete(client);
      client.close();
    }
  }

  /**
   * Closes the password connections whose sign-in no longer holds: the user's password, role or cameras changed (a
   * stolen password stops working on connections already open, and a changed role applies at the reconnect) or the
   * user was deleted. Other connections are left alone.
   */
  private recheckUsers(): void {
    for (const [client, generation] of this.passwordClients) {
      const session = this.sessions.get(client);
      if (session?.kind !== 'user' || this.users.tokenValid?.(session.principal.username, '', generation) !== false) continue;
      this.log.info(
        { clientId: logField(client.id), username: logField(session.principal.username) },
        'mqtt connection closed: its user changed or was deleted',
      );
      this.passwordClients.delete(client);
      client.close();
    }
  }

  private deviceCamera(session: Session | undefined): string | null {
    return session?.kind === 'device' ? this.devices.cameraOf(session.username) : null;
  }

  private mayPublish(client: Client | null, topic: string): boolean {
    if (!client) return true;
    const session = this.sessions.get(client);
    const refusal = publishRefusal(session, topic, this.deviceCamera(session));
    if (refusal !== null) {
      metrics.mqttAuthFailuresTotal.inc({ reason: 'publish_denied' });
      this.log.info({ clientId: logField(client.id), username: logField(this.usernameOf(session)), topic: logField(topic), refusal }, 'mqtt publish dropped');
    }
    return refusal === null;
  }

  private maySubscribe(client: Client, filter: string): boolean {
    const session = this.sessions.get(client);
    const refusal = subscribeRefusal(session, filter, this.deviceCamera(session));
    if (refusal !== null) {
      metrics.mqttAuthFailuresTotal.inc({ reason: 'subscribe_denied' });
      this.log.info(
        { clientId: logField(client.id), username: logField(this.usernameOf(session)), filter: logField(filter), refusal },
        'mqtt subscription refused',
      );
    }
    return refusal === null;
  }

  private usernameOf(session: Session | undefined): string | undefined {
    return session?.kind === 'device' ? session.username : session?.principal.username;
  }

  private disconnectDevice(username: string): void {
    for (const client of this.deviceClients) {
      const session = this.sessions.get(client);
      if (session?.kind !== 'device' || session.username !== username) continue;
      this.log.info({ clientId: logField(client.id), username: logField(username) }, 'edge device removed: closing its connection');
      this.deviceClients.delete(client);
      client.close();
    }
  }

  /** Hands a connection to aedes behind its packet guard, unless a connection cap refuses it. */
  private accept(stream: Duplex, address: string, transport: 'tcp' | 'websocket', request?: IncomingMessage): void {
    const guard = this.admission.admit(stream, address, transport);
    if (guard) this.aedes.handle(guard, request);
  }

  listenTcp(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket: Socket) => this.accept(socket, socket.remoteAddress ?? 'unknown', 'tcp'));
      server.once('error', reject);
      server.listen(port, host, () => {
        this.tcp = server;
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /**
   * Takes HTTP upgrades on MQTT_WS_PATH; other paths are left to other listeners (the Node-RED editor's comms).
   * `address` is the client's for the per-address limits (behind a trusted proxy, the one X-Forwarded-For names).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, address = request.socket.remoteAddress ?? 'unknown'): boolean {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== MQTT_WS_PATH) return false;
    this.ws.handleUpgrade(request, socket, head, (client) => {
      const stream = createWebSocketStream(client);
      stream.on('error', () => stream.destroy());
      this.accept(stream, address, 'websocket', request);
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
    this.stopRevocations();
    for (const timer of this.keyExpiries.values()) clearTimeout(timer);
    this.keyExpiries.clear();
    for (const client of this.ws.clients) client.terminate();
    await new Promise<void>((resolve) => this.ws.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    const tcp = this.tcp;
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    this.tcp = null;
  }
}
