import { Duplex } from 'node:stream';

/**
 * Why the guard cut a connection off. `protocol_level` and `client_id` are answered with a CONNACK first; the
 * others close at once (MQTT 3.1.1 has no way to refuse them).
 */
export type GuardRefusal = 'packet_too_large' | 'malformed' | 'not_connect_first' | 'protocol_name' | 'protocol_level' | 'client_id';

export interface PacketGuardOptions {
  /** The largest packet (Remaining Length) before the connection has signed in: the CONNECT and anything pipelined. */
  maxBytesBeforeSignIn: number;
  /** The largest packet once signed in. */
  maxBytes: number;
  /** Called once when the guard cuts the connection off; `details` are safe to log (numbers and short codes only). */
  onRefused(reason: GuardRefusal, details: Record<string, number>): void;
}

const CONNECT = 1;
/** Protocol levels aedes speaks: 3 (MQTT 3.1), 4 (3.1.1), and Mosquitto's bridge variants with the top bit set. */
const SUPPORTED_LEVELS = new Set([3, 4, 0x83, 0x84]);
const PROTOCOL_NAMES: Record<number, string> = { 3: 'MQIsdp', 4: 'MQTT' };
/** CONNACK packets of MQTT 3.1.1 §3.2: fixed header 0x20, Remaining Length 2, no session present, return code. */
const connack = (returnCode: number) => Buffer.from([0x20, 0x02, 0x00, returnCode]);

/**
 * Sits between a TCP socket (or a WebSocket stream) and aedes, and reads each packet's fixed header as it arrives
 * (MQTT 3.1.1 §2.2.3, 5.0 §2.1.4: a Remaining Length of one to four bytes, seven bits each). A packet that announces
 * more than the limit is refused before its body is read, so nothing buffers it: mqtt-packet (which aedes uses) would
 * otherwise collect a whole announced 200 MB CONNECT before anyone checked the login.
 *
 * Before sign-in the limit is small; a larger packet pipelined behind the CONNECT (allowed by MQTT 3.1.1 §3.1.4)
 * is held back, unread, until the sign-in is decided. The CONNECT itself is held until complete (it is at most the
 * small limit) and checked for what aedes gets wrong: an unsupported protocol level gets CONNACK 0x01
 * [MQTT-3.1.2-2] (aedes' parser closed without one), and a zero-length client id with CleanSession 0 gets CONNACK
 * 0x02 [MQTT-3.1.3-8] (aedes accepted it).
 */
export class MqttPacketGuard extends Duplex {
  private signedIn = false;
  private connectSeen = false;
  /** Bytes of the CONNECT while it is incomplete. */
  private held: Buffer[] = [];
  /** Bytes of the current fixed header read so far (0: the next byte starts a packet). */
  private headerBytes = 0;
  private packetType = 0;
  private announced = 0;
  private multiplier = 1;
  /** Body bytes of the current packet still to come. */
  private remaining = 0;
  /** Set while a large packet waits for the sign-in; the rest of its chunk waits in `stash`. */
  private waiting = false;
  private stash: Buffer[] = [];
  private backpressured = false;
  private answering = false;
  private refused = false;

  constructor(
    private readonly inner: Duplex,
    private readonly options: PacketGuardOptions,
  ) {
    super({ allowHalfOpen: false });
    inner.on('data', (chunk: Buffer) => this.receive(chunk));
    inner.on('end', () => this.push(null));
    inner.on('close', () => this.destroy());
    inner.on('error', (err: Error) => this.destroy(err));
  }

  /** Lifts the limit to `maxBytes`, and lets a packet that waited for it through. */
  markSignedIn(): void {
    if (this.signedIn) return;
    this.signedIn = true;
    if (!this.waiting) return;
    this.waiting = false;
    const stash = Buffer.concat(this.stash);
    this.stash = [];
    this.scan(stash);
    if (!this.backpressured && !this.waiting && !this.destroyed) this.inner.resume();
  }

  get isSignedIn(): boolean {
    return this.signedIn;
  }

  override _read(): void {
    this.backpressured = false;
    if (!this.waiting) this.inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // While a CONNACK is on its way the inner stream closes itself once it is written.
    if (!this.answering) this.inner.destroy();
    callback(error);
  }

  private receive(chunk: Buffer): void {
    if (this.refused) return;
    if (this.waiting) {
      this.stash.push(chunk);
      return;
    }
    this.scan(chunk);
  }

  private scan(chunk: Buffer): void {
    let offset = 0;
    let passFrom = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        offset += take;
        this.remaining -= take;
        if (this.remaining === 0 && !this.connectSeen) {
          const connect = Buffer.concat([...this.held, chunk.subarray(passFrom, offset)]);
          this.held = [];
          passFrom = offset;
          if (!this.checkConnect(connect)) return;
          this.connectSeen = true;
          this.forward(connect);
        }
        continue;
      }
      const byte = chunk[offset++];
      if (this.headerBytes === 0) {
        this.packetType = byte >> 4;
        this.headerBytes = 1;
        this.announced = 0;
        this.multiplier = 1;
        // [MQTT-3.1.0-1]: the first packet a client sends is its CONNECT.
        if (!this.connectSeen && this.packetType !== CONNECT) return this.refuse('not_connect_first', { packetType: this.packetType });
        continue;
      }
      this.announced += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.headerBytes++;
      if (byte & 0x80) {
        // At most four Remaining Length bytes (MQTT 3.1.1 §2.2.3); a fifth continuation is a malformed packet.
        if (this.headerBytes > 4) return this.refuse('malformed', { packetType: this.packetType });
        continue;
      }
      this.headerBytes = 0;
      this.remaining = this.announced;
      // After the CONNECT a packet up to the full limit may wait for the sign-in (below); the CONNECT itself may not.
      const limit = this.connectSeen ? this.options.maxBytes : this.options.maxBytesBeforeSignIn;
      if (this.announced > limit) return this.refuse('packet_too_large', { packetType: this.packetType, announced: this.announced, limit });
      if (!this.connectSeen && this.announced === 0) return this.refuse('malformed', { packetType: this.packetType });
      if (!this.signedIn && this.connectSeen && this.announced > this.options.maxBytesBeforeSignIn) {
        // Read no further until the sign-in is decided: the kernel's buffers hold the rest, not this process.
        this.forward(chunk.subarray(passFrom, offset));
        this.stash = [chunk.subarray(offset)];
        this.waiting = true;
        this.inner.pause();
        return;
      }
    }
    if (this.connectSeen) this.forward(chunk.subarray(passFrom));
    else this.held.push(chunk.subarray(passFrom));
  }

  private forward(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (!this.push(bytes)) {
      this.backpressured = true;
      this.inner.pause();
    }
  }

  /** Checks the CONNECT's variable header (MQTT 3.1.1 §3.1.2) and its client id (§3.1.3.1); false once it refused it. */
  private checkConnect(packet: Buffer): boolean {
    const refusal = this.connectRefusal(packet);
    if (refusal === null) return true;
    if (refusal.returnCode === undefined) this.refuse(refusal.reason, refusal.details);
    else this.answer(refusal.returnCode, refusal.reason, refusal.details);
    return false;
  }

  private connectRefusal(packet: Buffer): { reason: GuardRefusal; details: Record<string, number>; returnCode?: number } | null {
    let pos = 1;
    while (packet[pos] & 0x80) pos++;
    pos++;
    const malformed = { reason: 'malformed' as const, details: { packetType: CONNECT } };
    if (packet.length < pos + 2) return malformed;
    const nameLength = packet.readUInt16BE(pos);
    const levelAt = pos + 2 + nameLength;
    if (packet.length < levelAt + 6) return malformed;
    const name = packet.toString('latin1', pos + 2, levelAt);
    const level = packet[levelAt];
    const flags = packet[levelAt + 1];
    const clientIdLength = packet.readUInt16BE(levelAt + 4);
    // [MQTT-3.1.2-1]: a server may close without a CONNACK when the protocol name is not one it knows.
    if (name !== 'MQTT' && name !== 'MQIsdp') return { reason: 'protocol_name', details: { nameLength } };
    if (!SUPPORTED_LEVELS.has(level) || PROTOCOL_NAMES[level & 0x7f] !== name) return { reason: 'protocol_level', details: { level }, returnCode: 0x01 };
    const cleanSession = (flags & 0x02) !== 0;
    // [MQTT-3.1.3-8]; MQTT 3.1 requires 1 to 23 characters whatever the CleanSession flag.
    if (clientIdLength === 0 && (!cleanSession || (level & 0x7f) === 3)) return { reason: 'client_id', details: { level }, returnCode: 0x02 };
    return null;
  }

  /** Sends a refusing CONNACK, then closes the connection once it is written. */
  private answer(returnCode: number, reason: GuardRefusal, details: Record<string, number>): void {
    this.refused = true;
    this.answering = true;
    this.options.onRefused(reason, { ...details, returnCode });
    this.inner.end(connack(returnCode), () => this.inner.destroy());
  }

  private refuse(reason: GuardRefusal, details: Record<string, number>): void {
    this.refused = true;
    this.options.onRefused(reason, details);
    this.inner.destroy();
    this.destroy();
  }
}
