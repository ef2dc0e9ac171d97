import { connect as netConnect, type Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../core/log/logger';
import type { SignInGate, SignInTicket } from '../../runtime/auth/sign-in-gate';

/** An MQTT Remaining Length (MQTT 3.1.1 §2.2.3): seven bits per byte, low bits first. */
export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

function utf8(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export interface RawConnect {
  clientId: string;
  username?: string;
  password?: string;
  clean?: boolean;
  level?: number;
  protocolName?: string;
}

/** A CONNECT packet written byte by byte, so tests can send what mqtt.js refuses to build. */
export function connectPacket(options: RawConnect): Buffer {
  const level = options.level ?? 4;
  let flags = options.clean === false ? 0 : 0x02;
  if (options.username !== undefined) flags |= 0x80;
  if (options.password !== undefined) flags |= 0x40;
  const body = Buffer.concat([
    utf8(options.protocolName ?? (level === 3 ? 'MQIsdp' : 'MQTT')),
    Buffer.from([level, flags, 0, 60]),
    ...(level === 5 ? [Buffer.from([0])] : []),
    utf8(options.clientId),
    ...(options.username !== undefined ? [utf8(options.username)] : []),
    ...(options.password !== undefined ? [utf8(options.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** A QoS 0 PUBLISH packet (MQTT 3.1.1 §3.3). */
export function publishPacket(topic: string, payload: Buffer): Buffer {
  const body = Buffer.concat([utf8(topic), payload]);
  return Buffer.concat([Buffer.from([0x30]), remainingLength(body.length), body]);
}

/** A raw TCP connection to the broker that records every byte it receives and when it closed. */
export class RawClient {
  readonly received: Buffer[] = [];
  readonly closed: Promise<void>;
  bytesSent = 0;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.received.push(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  get bytes(): Buffer {
    return Buffer.concat(this.received);
  }

  /** Resolves once at least `count` bytes arrived (or rejects if the connection closes first). */
  async receivedAtLeast(count: number): Promise<Buffer> {
    while (this.bytes.length < count) {
      const more = await Promise.race([new Promise<boolean>((resolve) => this.socket.once('data', () => resolve(true))), this.closed.then(() => false)]);
      if (!more && this.bytes.length < count) throw new Error(`connection closed after ${this.bytes.length} of ${count} expected bytes`);
    }
    return this.bytes;
  }

  /**
   * Sends `header`, then `total` bytes of body in chunks, waiting for the socket to drain as a well-behaved sender
   * would (so the only large buffers are the server's), until all is sent or the server cut the connection off.
   */
  async flood(header: Buffer, total: number, chunk: Buffer): Promise<void> {
    let open = true;
    void this.closed.then(() => (open = false));
    this.socket.write(header);
    while (open && this.bytesSent < total) {
      const piece = total - this.bytesSent >= chunk.length ? chunk : chunk.subarray(0, total - this.bytesSent);
      this.bytesSent += piece.length;
      if (!this.socket.write(piece)) {
        await Promise.race([new Promise<void>((resolve) => this.socket.once('drain', () => resolve())), this.closed]);
      }
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function connectClient(port: number, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** The CONNACK return code a login gets (0 on success), closing the client again. */
export async function connackCode(port: number, options: IClientOptions): Promise<number> {
  try {
    const client = await connectClient(port, options);
    client.end(true);
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'number') throw err;
    return code;
  }
}

/** A sign-in gate for tests: allows `failures` failed attempts per username, counting each one as it begins. */
export class CountingGate implements SignInGate {
  readonly begun: string[] = [];
  readonly refused: string[] = [];
  private readonly failuresByUser = new Map<string, number>();
  constructor(private readonly failures: number) {}

  begin(username: string, address: string): SignInTicket {
    this.begun.push(`${username}@${address}`);
    const failed = this.failuresByUser.get(username) ?? 0;
    if (failed >= this.failures) {
      this.refused.push(username);
      return { ok: false, retryAfterMs: 60000, reason: `${this.failures} failures for this user` };
    }
    // Counted now, before the hash, and taken back on success: concurrent guesses all see each other.
    this.failuresByUser.set(username, failed + 1);
    return {
      ok: true,
      finish: (success) => {
        if (success) this.failuresByUser.set(username, (this.failuresByUser.get(username) ?? 1) - 1);
      },
    };
  }
}

export interface LogRecord {
  level: string;
  msg?: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every record, to check what reached the log. */
export function recordingLogger(records: LogRecord[] = []): Logger & { records: LogRecord[] } {
  const at =
    (level: string) =>
    (first: Record<string, unknown> | string, msg?: string): void => {
      records.push(typeof first === 'string' ? { level, msg: first, fields: {} } : { level, msg, fields: first });
    };
  const logger: Logger & { records: LogRecord[] } = {
    records,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: () => logger,
  };
  return logger;
}
