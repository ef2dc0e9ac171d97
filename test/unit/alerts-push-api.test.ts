import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { CameraRegistry } from '../../core/capture/registry';
import { silentLogger } from '../../core/log/logger';
import { openPushHandles, type PushHandles } from '../../runtime/api/push';
import { MjpegStreams } from '../../runtime/api/mjpeg';
import { apiRouter } from '../../runtime/api/router';
import { Authenticator } from '../../runtime/auth/middleware';
import { TokenSigner } from '../../runtime/auth/tokens';
import { loadSecrets } from '../../runtime/stores/secrets';
import { UserStore } from '../../runtime/stores/users';
import { expectProblem } from '../support/problem';

let dir: string;
let server: Server;
let base: string;
let token: string;
let push: PushHandles;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-push-api-'));
  const secrets = await loadSecrets(dir);
  const users = new UserStore(dir);
  await users.open();
  await users.ensureAdmin('push-api-password');
  const tokens = new TokenSigner(secrets.tokenSecret, 3600);
  push = openPushHandles(dir, secrets.vapid);
  const app = express();
  const streams = new MjpegStreams({ maxClientsPerCamera: 1, log: silentLogger });
  const auth = new Authenticator(users, tokens);
  app.use('/api', apiRouter({ users, auth, cameras: new CameraRegistry(), push, streams, maxStreamClientsPerCamera: 1, log: silentLogger }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  token = tokens.issue('admin').token;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function send(method: string, route: string, body?: unknown, signedIn = true): Promise<Response> {
  return fetch(`${base}${route}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(signedIn ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function call(method: string, route: string, body?: unknown, signedIn = true): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await send(method, route, body, signedIn);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

describe('push API', () => {
  it('keeps the VAPID key pair in secrets.json (0600) once, and serves its public key', async () => {
    const again = await loadSecrets(dir);
    expect(again.vapid).toEqual(push.keys);
    expect(statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(await call('GET', '/push/vapid-public-key')).toEqual({ status: 200, body: { publicKey: push.keys.publicKey } });
  });

  it('adds a VAPID pair (and the media link secret) to a secrets.json written before web push, keeping its other secrets', async () => {
    const older = mkdtempSync(path.join(tmpdir(), 'glimpser-push-secrets-'));
    try {
      writeFileSync(path.join(older, 'secrets.json'), JSON.stringify({ credentialSecret: 'c'.repeat(64), tokenSecret: 't'.repeat(64) }), { mode: 0o600 });
      const upgraded = await loadSecrets(older);
      expect(upgraded).toMatchObject({ credentialSecret: 'c'.repeat(64), tokenSecret: 't'.repeat(64) });
      expect(JSON.parse(readFileSync(path.join(older, 'secrets.json'), 'utf8'))).toEqual({
        credentialSecret: 'c'.repeat(64),
        tokenSecret: 't'.repeat(64),
        vapid: upgraded.vapid,
        mediaLinkSecret: upgraded.mediaLinkSecret,
      });
      expect(upgraded.mediaLinkSecret).toMatch(/^[0-9a-f]{64}$/);
      expect(await loadSecrets(older)).toMatchObject({ vapid: upgraded.vapid, mediaLinkSecret: upgraded.mediaLinkSecret });
    } finally {
      rmSync(older, { recursive: true, force: true });
    }
  });

  it('needs a signed-in user', async () => {
    await expectProblem(await send('GET', '/push/vapid-public-key', undefined, false), 401);
    await expectProblem(await send('POST', '/push/subscriptions', { endpoint: 'https://push.glimpser.dev/x', keys: browserKeys() }, false), 401);
  });

  it('adds a subscription without echoing its keys, stores it 0600, and removes it by endpoint', async () => {
    const endpoint = 'https://fcm.googleapis.com/fcm/send/abc123';
    const added = await call('POST', '/push/subscriptions', { endpoint, expirationTime: null, keys: browserKeys(), tags: ['night-shift'] });
    expect(added).toEqual({ status: 201, body: { id: expect.any(String), endpoint, tags: ['night-shift'], user: 'admin', createdAt: expect.any(String) } });
    expect(push.subscriptions.get(added.body.id as string)).toMatchObject({ endpoint, tags: ['night-shift'] });
    const file = path.join(dir, 'push-subscriptions.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain(endpoint);
    expect((await call('DELETE', '/push/subscriptions', { endpoint })).status).toBe(204);
    expect(push.subscriptions.list()).toEqual([]);
    await expectProblem(await send('DELETE', '/push/subscriptions', { endpoint }), 404, { code: 'not_found' });
  });

  it('removes a subscription by id', async () => {
    const added = await call('POST', '/push/subscriptions', { endpoint: 'https://updates.push.services.mozilla.com/wpush/v2/x', keys: browserKeys() });
    expect((await call('DELETE', `/push/subscriptions/${String(added.body.id)}`)).status).toBe(204);
  });

  it.each([
    ['no endpoint', { keys: browserKeys() }, /^body: missing property "endpoint"/],
    ['an http: endpoint', { endpoint: 'http://push.glimpser.dev/x', keys: browserKeys() }, /^body\.endpoint: expected an https: push service URL/],
    ['a cloud metadata endpoint', { endpoint: 'https://169.254.169.254/latest', keys: browserKeys() }, /^body\.endpoint.*link-local/],
    ['an endpoint that is no URL', { endpoint: 'not a url', keys: browserKeys() }, /^body\.endpoint/],
    [
      'a short p256dh key',
      { endpoint: 'https://push.glimpser.dev/x', keys: { ...browserKeys(), p256dh: 'AAAA' } },
      /^body\.keys\.p256dh: expected an uncompressed P-256 public key \(65 bytes, base64url\), got 3 bytes/,
    ],
    [
      'a short auth secret',
      { endpoint: 'https://push.glimpser.dev/x', keys: { ...browserKeys(), auth: 'AAAAAAAA' } },
      /^body\.keys\.auth: expected a 16-byte authentication secret \(base64url\), got 6 bytes/,
    ],
    [
      'an auth secret that is not base64url',
      { endpoint: 'https://push.glimpser.dev/x', keys: { ...browserKeys(), auth: 'not base64!' } },
      /^body\.keys\.auth: must match pattern/,
    ],
    ['an unknown property', { endpoint: 'https://push.glimpser.dev/x', keys: browserKeys(), extra: 1 }, /^body: unknown property "extra"/],
    ['a tag with a space', { endpoint: 'https://push.glimpser.dev/x', keys: browserKeys(), tags: ['a b'] }, /^body\.tags\[0\]: must match pattern/],
  ])('refuses %s with a 400 naming the field', async (_what, body, message) => {
    await expectProblem(await send('POST', '/push/subscriptions', body), 400, { code: 'invalid_request', detail: message });
  });
});
