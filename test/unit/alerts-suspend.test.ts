import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import type { DeliveryTarget } from '../../core/alerts/index';
import { parseSuspendPayload, SuspensionStore, type Suspension, type SuspensionState } from '../../core/alerts/suspensions';
import { silentLogger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { notificationsRouter } from '../../runtime/api/notifications';
import { openTestAlertService, sampleAlert } from '../support/alerts';
import { metricValue } from '../support/tools';
import { signedInAs } from '../support/api-auth';
import { expectProblem } from '../support/problem';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const MINUTE = 60_000;
const TARGET: DeliveryTarget = { channel: 'webhook', notifier: 'n1', target: 'https://hooks.example.org/porch' };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-suspend-'));
});
afterEach(() => {
  jest.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('SuspensionStore', () => {
  it('suspends a camera until its end, survives a reopen in a 0600 file, and lets it run out', () => {
    let now = T0;
    const file = path.join(dir, 'alerts', 'suspensions.json');
    const store = new SuspensionStore(file, () => now);
    const changes: Array<[string, Suspension | null]> = [];
    store.onChange((camera, suspension) => changes.push([camera, suspension]));
    expect(store.suspend('porch', 30, 'admin')).toEqual({ camera: 'porch', until: T0 + 30 * MINUTE, at: T0, by: 'admin' });
    expect(store.isSuspended('porch')).toBe(true);
    expect(store.isSuspended('garage')).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    store.close();

    now = T0 + 29 * MINUTE;
    const reopened = new SuspensionStore(file, () => now);
    expect(reopened.get('porch')).toMatchObject({ until: T0 + 30 * MINUTE, by: 'admin' });
    expect(reopened.list().map((s) => s.camera)).toEqual(['porch']);
    const ended: Array<[string, Suspension | null]> = [];
    reopened.onChange((camera, suspension) => ended.push([camera, suspension]));
    now = T0 + 30 * MINUTE;
    expect(reopened.isSuspended('porch')).toBe(false);
    expect(ended).toEqual([['porch', null]]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, suspensions: [] });
    reopened.close();
    expect(changes).toEqual([['porch', { camera: 'porch', until: T0 + 30 * MINUTE, at: T0, by: 'admin' }]]);
  });

  it('drops suspensions that ran out while Glimpser was stopped', () => {
    let now = T0;
    const file = path.join(dir, 'suspensions.json');
    new SuspensionStore(file, () => now).suspend('porch', 1);
    now = T0 + 2 * MINUTE;
    expect(new SuspensionStore(file, () => now).list()).toEqual([]);
  });

  it('announces the end when its timer fires, and counts suspended cameras in a gauge', async () => {
    jest.useFakeTimers({ now: T0 });
    const store = SuspensionStore.inMemory();
    const ended = new Promise<[string, Suspension | null]>((resolve) => store.onChange((camera, suspension) => suspension || resolve([camera, null])));
    store.suspend('porch', 1);
    store.suspend('garage', 5);
    expect(await metricValue(metrics.alertSuspendedCameras, {})).toBe(2);
    jest.advanceTimersByTime(MINUTE + 10);
    expect(await ended).toEqual(['porch', null]);
    expect(await metricValue(metrics.alertSuspendedCameras, {})).toBe(1);
    expect(store.resume('garage')).toBe(true);
    expect(store.resume('garage')).toBe(false);
    expect(await metricValue(metrics.alertSuspendedCameras, {})).toBe(0);
    store.close();
  });

  it('replaces an earlier end, resumes with 0, and refuses bad minutes or camera ids naming them', () => {
    let now = T0;
    const store = SuspensionStore.inMemory(() => now);
    store.suspend('porch', 60);
    now = T0 + MINUTE;
    expect(store.suspend('porch', 5)?.until).toBe(T0 + 6 * MINUTE);
    expect(store.suspend('porch', 0)).toBeNull();
    expect(store.isSuspended('porch')).toBe(false);
    expect(() => store.suspend('porch', 1441)).toThrow('minutes: expected a whole number of minutes from 1 to 1440, or 0 or "off" to resume, got 1441');
    expect(() => store.suspend('porch', 2.5)).toThrow('minutes: expected a whole number');
    expect(() => store.suspend('Porch!', 5)).toThrow('camera id "Porch!" is invalid');
  });
});

describe('parseSuspendPayload (the MQTT command)', () => {
  it.each([
    ['30', 30],
    [' 1440 ', 1440],
    ['{"minutes": 15}', 15],
    ['0', 0],
    ['off', 0],
    ['OFF', 0],
    ['{"minutes":0}', 0],
  ])('reads %j as %d minutes', (payload, minutes) => {
    expect(parseSuspendPayload(Buffer.from(payload))).toBe(minutes);
  });

  it.each([
    ['soon', 'payload: expected a whole number of minutes from 1 to 1440, or 0 or "off" to resume or JSON {"minutes": n}, got "soon"'],
    ['-5', 'payload: expected a whole number of minutes'],
    ['2000', 'got 2000'],
    ['"30"', 'payload: expected a whole number of minutes from 1 to 1440, or 0 or "off" to resume, got "30"'],
    ['{"minutes":"10"}', 'payload.minutes: expected a whole number'],
    ['{"mins":10}', 'payload.mins: unknown property'],
    ['{}', 'payload.minutes: missing property'],
    ['[5]', 'payload: expected a whole number'],
  ])('refuses %j naming the payload', (payload, message) => {
    expect(() => parseSuspendPayload(payload)).toThrow(message);
  });
});

describe('the alert service while a camera is suspended', () => {
  it('still stores its alerts but enqueues no deliveries, counts why, and survives a restart', async () => {
    const first = openTestAlertService({ dataDir: dir });
    const skipped = await metricValue(metrics.alertDeliveriesSkippedTotal, { channel: 'webhook', reason: 'suspended' });
    first.service.suspensions.suspend('porch', 10, 'admin');
    const held = sampleAlert({ camera: 'porch' });
    expect(await first.service.enqueue(held, [TARGET])).toEqual([]);
    expect(first.service.detail(held.id)).toMatchObject({ alert: { id: held.id, camera: 'porch' }, deliveries: [] });
    expect(first.service.list({ camera: 'porch' }).alerts.map((a) => a.alert.id)).toEqual([held.id]);
    const other = sampleAlert({ camera: 'garage' });
    expect(await first.service.enqueue(other, [{ ...TARGET, target: 'https://hooks.example.org/garage' }])).toHaveLength(1);
    expect(await metricValue(metrics.alertDeliveriesSkippedTotal, { channel: 'webhook', reason: 'suspended' })).toBe(skipped + 1);
    await first.close();

    const second = openTestAlertService({ dataDir: dir });
    expect(second.service.suspensions.isSuspended('porch')).toBe(true);
    expect(await second.service.enqueue(sampleAlert({ camera: 'porch' }), [TARGET])).toEqual([]);
    second.service.suspensions.resume('porch');
    expect(await second.service.enqueue(sampleAlert({ camera: 'porch' }), [TARGET])).toHaveLength(1);
    await second.close();
  });
});

describe('POST/GET/DELETE /api/cameras/:id/notifications/suspend', () => {
  let server: Server;
  let base: string;
  let store: SuspensionStore;
  let now: number;

  beforeEach(async () => {
    now = T0;
    store = new SuspensionStore(path.join(dir, 'suspensions.json'), () => now);
    const app = express();
    app.use('/api', notificationsRouter({ suspensions: store, log: silentLogger, auth: signedInAs('operator') }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });

  afterEach(async () => {
    store.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function send(url: string, method = 'GET', body?: unknown): Promise<Response> {
    const init: RequestInit = { method };
    if (body !== undefined)
      Object.assign(init, { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return fetch(`${base}${url}`, init);
  }

  async function call(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await send(url, method, body);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('suspends, shows, lists and resumes a camera', async () => {
    const off: SuspensionState = { camera: 'porch', suspended: false, until: null, untilMs: null };
    expect(await call('/cameras/porch/notifications/suspend')).toEqual({ status: 200, body: off });
    const until = T0 + 15 * MINUTE;
    const on: SuspensionState = { camera: 'porch', suspended: true, until: new Date(until).toISOString(), untilMs: until };
    expect(await call('/cameras/porch/notifications/suspend', 'POST', { minutes: 15 })).toEqual({ status: 200, body: on });
    expect(store.isSuspended('porch')).toBe(true);
    expect(await call('/cameras/porch/notifications/suspend')).toEqual({ status: 200, body: on });
    expect(await call('/notifications/suspensions')).toEqual({ status: 200, body: { suspensions: [on] } });
    expect(await call('/cameras/porch/notifications/suspend', 'DELETE')).toEqual({ status: 200, body: off });
    expect(store.isSuspended('porch')).toBe(false);
    await call('/cameras/porch/notifications/suspend', 'POST', { minutes: 5 });
    expect(await call('/cameras/porch/notifications/suspend', 'POST', { minutes: 0 })).toEqual({ status: 200, body: off });
    now = T0 + 16 * MINUTE;
    expect(await call('/notifications/suspensions')).toEqual({ status: 200, body: { suspensions: [] } });
  });

  it.each([
    [
      '/cameras/porch/notifications/suspend',
      { minutes: 5000 },
      'body.minutes: expected a whole number of minutes from 1 to 1440, or 0 or "off" to resume, got 5000',
    ],
    ['/cameras/porch/notifications/suspend', { minutes: 'ten' }, 'body.minutes: expected a whole number of minutes from 1 to 1440'],
    ['/cameras/porch/notifications/suspend', { minutes: -1 }, 'body.minutes: expected a whole number'],
    ['/cameras/porch/notifications/suspend', {}, 'body.minutes: missing property'],
    ['/cameras/porch/notifications/suspend', { minutes: 5, reason: 'party' }, 'body.reason: unknown property'],
    ['/cameras/porch/notifications/suspend', [5], 'body: expected a JSON object {"minutes": n}'],
    ['/cameras/Porch!/notifications/suspend', { minutes: 5 }, 'camera: expected a camera id: 1-64 characters of a-z, 0-9'],
  ])('POST %s %j → 400 naming the field', async (url, body, message) => {
    expect((await expectProblem(await send(url, 'POST', body), 400, { code: 'invalid_request' })).detail).toContain(message);
    expect(store.list()).toEqual([]);
  });

  it('refuses a bad camera id on GET and DELETE too', async () => {
    for (const method of ['GET', 'DELETE']) {
      await expectProblem(await send('/cameras/a.b/notifications/suspend', method), 400, { detail: /^camera: expected a camera id/ });
    }
  });
});
