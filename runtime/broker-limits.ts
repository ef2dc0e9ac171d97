import type { Duplex } from 'node:stream';
import type { Logger } from '../core/log/logger';
import { metrics } from '../core/metrics';
import { MqttPacketGuard, type GuardRefusal } from './mqtt-packet-guard';

/** The broker's limits on connections and packets; each has a default (BROKER_LIMIT_DEFAULTS). */
export interface BrokerLimits {
  /** The largest packet (MQTT Remaining Length) from a signed-in client. Frames from edge cameras are JPEGs. */
  maxPacketBytes: number;
  /** The largest packet before sign-in, the CONNECT included (RabbitMQ allows 64 KiB). */
  maxConnectBytes: number;
  /** Connections open at once from one address, signed in or not. */
  maxConnectionsPerAddress: number;
  /** Connections not yet signed in, from all addresses together. */
  maxUnauthenticatedConnections: number;
}

export const BROKER_LIMIT_DEFAULTS: BrokerLimits = {
  maxPacketBytes: 4 * 1024 * 1024,
  maxConnectBytes: 64 * 1024,
  maxConnectionsPerAddress: 64,
  maxUnauthenticatedConnections: 256,
};

/** The WebSocket frame a packet of `maxPacketBytes` needs: its fixed header adds at most five bytes. */
export const webSocketMaxPayload = (limits: BrokerLimits) => limits.maxPacketBytes + 5;

export function brokerLimits(overrides: Partial<BrokerLimits> = {}): BrokerLimits {
  const limits = { ...BROKER_LIMIT_DEFAULTS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`broker limit ${name} is ${String(value)}: expected a whole number of at least 1`);
  }
  // The Remaining Length field holds at most 268,435,455 (MQTT 3.1.1 §2.2.3).
  if (limits.maxPacketBytes > 268435455) throw new Error(`broker limit maxPacketBytes is ${limits.maxPacketBytes}: expected at most 268435455`);
  return limits;
}

export type AdmissionRefusal = 'per_address' | 'unauthenticated';

/**
 * Admits connections under the caps, wraps each in a packet guard, and counts and logs every refusal
 * (`glimpser_mqtt_connections_refused_total{reason}`). Nothing from the wire goes into a log field here.
 */
export class ConnectionAdmission {
  private readonly perAddress = new Map<string, number>();
  private unauthenticated = 0;
  private readonly guards = new WeakMap<MqttPacketGuard, string>();

  constructor(
    private readonly limits: BrokerLimits,
    private readonly log: Logger,
  ) {}

  /** The guarded stream to hand to aedes, or null when the connection was refused (and closed). */
  admit(stream: Duplex, address: string, transport: 'tcp' | 'websocket'): MqttPacketGuard | null {
    const refusal = this.refusal(address);
    if (refusal !== null) {
      metrics.mqttConnectionsRefusedTotal.inc({ reason: refusal });
      this.log.warn({ address, transport, reason: refusal }, 'mqtt connection refused: too many connections');
      stream.destroy();
      return null;
    }
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.unauthenticated++;
    const guard = new MqttPacketGuard(stream, {
      maxBytes: this.limits.maxPacketBytes,
      maxBytesBeforeSignIn: this.limits.maxConnectBytes,
      onRefused: (reason: GuardRefusal, details) => {
        metrics.mqttConnectionsRefusedTotal.inc({ reason });
        this.log.warn({ address, transport, reason, signedIn: guard.isSignedIn, ...details }, 'mqtt connection cut off');
      },
    });
    this.guards.set(guard, address);
    guard.once('close', () => this.release(guard));
    return guard;
  }

  /** Called once the connection's credentials were accepted: it no longer counts as unauthenticated. */
  signedIn(guard: MqttPacketGuard): void {
    if (guard.isSignedIn) return;
    guard.markSignedIn();
    if (this.guards.has(guard)) this.unauthenticated--;
  }

  addressOf(guard: MqttPacketGuard): string | undefined {
    return this.guards.get(guard);
  }

  private refusal(address: string): AdmissionRefusal | null {
    if ((this.perAddress.get(address) ?? 0) >= this.limits.maxConnectionsPerAddress) return 'per_address';
    if (this.unauthenticated >= this.limits.maxUnauthenticatedConnections) return 'unauthenticated';
    return null;
  }

  private release(guard: MqttPacketGuard): void {
    const address = this.guards.get(guard);
    if (address === undefined) return;
    this.guards.delete(guard);
    if (!guard.isSignedIn) this.unauthenticated--;
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }
}
