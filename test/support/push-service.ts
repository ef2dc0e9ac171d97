import { createECDH, createHmac, createDecipheriv, randomBytes, verify, createPublicKey, type ECDH } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A loopback Web Push service (RFC 8030) over TLS for tests: it checks the VAPID authorization (RFC 8292: an ES256
 * JWT signed with the key in `k`, `aud` its own origin, `exp` within 24 h) and decrypts the aes128gcm body (RFC 8291
 * over RFC 8188) with each subscription's private key, so a test reads the plaintext a browser would. It can answer
 * 404/410/413/429/5xx instead of 201.
 */

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** RFC 8188 §2: decrypts an aes128gcm body whose input keying material is `ikm`; throws on any malformed part. */
export function decryptContent(body: Buffer, ikm: (keyId: Buffer) => Buffer): Buffer {
  if (body.length < 21) throw new Error('aes128gcm: header shorter than 21 bytes');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  if (rs < 18) throw new Error(`aes128gcm: record size ${rs} below 18`);
  if (body.length < 21 + idlen) throw new Error('aes128gcm: header shorter than its key id');
  const keyId = body.subarray(21, 21 + idlen);
  const prk = hmac(salt, ikm(keyId));
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'latin1')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'latin1')).subarray(0, 12);
  const records = body.subarray(21 + idlen);
  if (records.length === 0) throw new Error('aes128gcm: no records');
  const out: Buffer[] = [];
  for (let offset = 0, seq = 0; offset < records.length; offset += rs, seq++) {
    const record = records.subarray(offset, offset + rs);
    const last = offset + rs >= records.length;
    if (record.length <= 16) throw new Error(`aes128gcm: record ${seq} too short`);
    const iv = Buffer.from(nonce);
    // The sequence number is XORed into the nonce's low bytes; tests never exceed 2^32 records.
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ seq) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', cek, iv);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end--;
    if (end < 0) throw new Error(`aes128gcm: record ${seq} has no padding delimiter`);
    if (padded[end] !== (last ? 2 : 1)) throw new Error(`aes128gcm: record ${seq} has delimiter ${padded[end]}, expected ${last ? 2 : 1}`);
    if (!last && record.length !== rs) throw new Error(`aes128gcm: record ${seq} shorter than the record size`);
    out.push(padded.subarray(0, end));
  }
  return Buffer.concat(out);
}

/** RFC 8291 §3.3–3.4: the user agent's side of Web Push decryption. */
export function decryptPush(body: Buffer, receiver: ECDH, authSecret: Buffer): Buffer {
  return decryptContent(body, (keyId) => {
    if (keyId.length !== 65) throw new Error(`webpush: key id is ${keyId.length} bytes, expected the sender's 65-byte public key`);
    const ecdhSecret = receiver.computeSecret(keyId);
    const prkKey = hmac(authSecret, ecdhSecret);
    const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0', 'latin1'), receiver.getPublicKey(), keyId, Buffer.from([1])]);
    return hmac(prkKey, keyInfo);
  });
}

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

/** RFC 8292 §2–3: checks `vapid t=<jwt>, k=<key>`; returns the claims and key, or throws saying what is wrong. */
export function verifyVapid(authorization: string | undefined, origin: string, nowSeconds = Date.now() / 1000): { claims: VapidClaims; key: string } {
  const match = /^vapid\s+t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!match) throw new Error(`Authorization is not "vapid t=…, k=…": ${authorization ?? 'missing'}`);
  const [, jwt, key] = match;
  const [head, body, signature] = jwt.split('.');
  const header = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: string };
  if (header.alg !== 'ES256') throw new Error(`JWT alg ${header.alg}, expected ES256`);
  const point = Buffer.from(key, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
    format: 'jwk',
  });
  const signed = verify('sha256', Buffer.from(`${head}.${body}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!signed) throw new Error('JWT signature does not verify with k');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as VapidClaims;
  if (claims.aud !== origin) throw new Error(`JWT aud ${claims.aud}, expected ${origin}`);
  if (!(claims.exp > nowSeconds && claims.exp <= nowSeconds + 24 * 3600)) throw new Error(`JWT exp ${claims.exp} is not within the next 24 h`);
  if (!/^(mailto:|https:)/.test(claims.sub ?? '')) throw new Error(`JWT sub ${claims.sub}, expected mailto: or https:`);
  return { claims, key };
}

/** A browser's subscription at this service, with the private half the test decrypts with. */
export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  receiver: ECDH;
  authSecret: Buffer;
}

export interface ReceivedPush {
  endpoint: string;
  headers: IncomingHttpHeaders;
  claims: VapidClaims;
  vapidKey: string;
  plaintext: string;
}

export interface PushService {
  origin: string;
  /** Trusts the service's self-signed certificate for this agent only (pass as web-push's `agent`). */
  agent: Agent;
  subscribe(): TestSubscription;
  /** The next request answers with this status (and headers) instead of 201. */
  answerNext(status: number, headers?: Record<string, string>): void;
  /** Resolves with the next accepted push (or one already received and not yet taken). */
  nextPush(): Promise<ReceivedPush>;
  /** Requests refused because VAPID or decryption failed, with the reason. */
  rejected: string[];
  close(): Promise<void>;
}

function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-push-tls-'));
  try {
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startPushService(): Promise<PushService> {
  const tls = selfSignedCertificate();
  const subscriptions = new Map<string, TestSubscription>();
  const answers: Array<{ status: number; headers: Record<string, string> }> = [];
  const received: ReceivedPush[] = [];
  const waiting: Array<(push: ReceivedPush) => void> = [];
  const rejected: string[] = [];
  let origin = '';

  const server: Server = createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const endpoint = `${origin}${req.url ?? ''}`;
      const subscription = subscriptions.get(endpoint);
      const answer = answers.shift();
      if (answer) return void res.writeHead(answer.status, answer.headers).end(`answered ${answer.status}`);
      if (req.method !== 'POST' || !subscription) return void res.writeHead(404).end('no such subscription');
      try {
        const { claims, key } = verifyVapid(req.headers.authorization, origin);
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`Content-Encoding ${req.headers['content-encoding']}, expected aes128gcm`);
        if (!/^\d+$/.test(String(req.headers.ttl))) throw new Error('TTL header missing');
        const plaintext = decryptPush(Buffer.concat(chunks), subscription.receiver, subscription.authSecret).toString('utf8');
        const push: ReceivedPush = { endpoint, headers: req.headers, claims, vapidKey: key, plaintext };
        res.writeHead(201, { location: `${endpoint}/messages/${received.length}` }).end();
        const taker = waiting.shift();
        if (taker) taker(push);
        else received.push(push);
      } catch (err) {
        rejected.push((err as Error).message);
        res.writeHead(403).end((err as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: tls.cert, keepAlive: false });

  return {
    origin,
    agent,
    rejected,
    subscribe() {
      const receiver = createECDH('prime256v1');
      receiver.generateKeys();
      const authSecret = randomBytes(16);
      const endpoint = `${origin}/push/${randomBytes(12).toString('base64url')}`;
      const subscription = {
        endpoint,
        keys: { p256dh: receiver.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') },
        receiver,
        authSecret,
      };
      subscriptions.set(endpoint, subscription);
      return subscription;
    },
    answerNext(status, headers = {}) {
      answers.push({ status, headers });
    },
    nextPush() {
      const ready = received.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
