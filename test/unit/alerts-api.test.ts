import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { StoredAlert } from '../../core/alerts/index';
import { silentLogger } from '../../core/log/logger';
import { eventId } from '../../core/store/event-id';
import { alertsRouter, type AlertResponse } from '../../runtime/api/alerts';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';
import { postChannel, startAlertReceiver, type AlertReceiver } from '../support/alert-receiver';
import { signedInAs } from '../support/api-auth';
import { expectProblem } from '../support/problem';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

let alerts: TestAlertService;
let receiver: AlertReceiver;
let server: Server;
let base: string;
let stored: StoredAlert[];

beforeAll(async () => {
  alerts = openTestAlertService();
  receiver = await startAlertReceiver();
  const app = express();
  app.use('/api', alertsRouter({ alerts: alerts.service, log: silentLogger, auth: signedInAs('admin') }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  stored = Array.from({ length: 7 }, (_, i) => sampleAlert({ sent: T0 + i * 60000, camera: i % 2 === 0 ? 'porch' : 'garage' }));
  for (const alert of stored) await alerts.service.enqueue(alert, []);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await alerts.close();
  await receiver.close();
});

async function call(url: string, method = 'GET'): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${url}`, { method });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function refused(url: string, status = 400, method = 'GET'): Promise<string> {
  const res = await call(url, method);
  expect({ url, status: res.status }).toEqual({ url, status });
  return expectProblem(res, status, { code: status === 400 ? 'invalid_request' : 'not_found' }).detail;
}

describe('GET /api/alerts', () => {
  it('pages newest first with a cursor, without the CAP document', async () => {
    const first = await call('/alerts?limit=3');
    expect(first.status).toBe(200);
    const page = first.body.alerts as AlertResponse[];
    expect(page.map((a) => a.id)).toEqual([stored[6].id, stored[5].id, stored[4].id]);
    expect(page[0]).toMatchObject({
      sent: new Date(T0 + 6 * 60000).toISOString(),
      sentMs: T0 + 6 * 60000,
      capUrl: `/api/alerts/${stored[6].id}/cap.xml`,
      deliveries: { pending: 0, delivered: 0, dead: 0 },
    });
    expect(page[0]).not.toHaveProperty('capXml');
    const rest = await call(`/alerts?limit=10&cursor=${first.body.next as string}`);
    expect((rest.body.alerts as AlertResponse[]).map((a) => a.id)).toEqual([3, 2, 1, 0].map((i) => stored[i].id));
    expect(rest.body.next).toBeNull();
  });

  it('filters by camera and sent time', async () => {
    const garage = await call('/alerts?camera=garage');
    expect((garage.body.alerts as AlertResponse[]).map((a) => a.id)).toEqual([5, 3, 1].map((i) => stored[i].id));
    const window = await call(`/alerts?from=${new Date(T0 + 60000).toISOString()}&to=${T0 + 3 * 60000}`);
    expect((window.body.alerts as AlertResponse[]).map((a) => a.id)).toEqual([stored[2].id, stored[1].id]);
  });

  it('answers bad input with 400 naming the parameter', async () => {
    expect(await refused('/alerts?status=lost')).toBe('status: expected one of pending, delivered, dead, got "lost"');
    expect(await refused('/alerts?camera=Porch!')).toMatch(/^camera: expected a camera id/);
    expect(await refused('/alerts?cursor=zzz')).toMatch(/^cursor: expected the "next" value of a previous page/);
    expect(await refused('/alerts?limit=0')).toMatch(/^limit: expected a whole number from 1 to 500/);
    expect(await refused('/alerts?from=yesterday')).toMatch(/^from: expected an ISO 8601 time or milliseconds/);
    expect(await refused('/alerts?colour=red')).toMatch(/^colour: unknown query parameter/);
  });
});

describe('GET /api/alerts?event=', () => {
  it("lists one event's alerts (Alert, Update, Cancel) newest first in one page, and nothing of other events", async () => {
    const event = eventId(T0 + 3_600_000);
    const lifecycle = (['Alert', 'Update', 'Cancel'] as const).map((msgType, i) =>
      sampleAlert({ sent: T0 + 3_600_000 + i * 1000, camera: 'porch', eventId: event, msgType }),
    );
    for (const alert of lifecycle) await alerts.service.enqueue(alert, []);
    await alerts.service.enqueue(sampleAlert({ sent: T0 + 3_700_000, camera: 'porch', eventId: eventId(T0 + 3_700_000) }), []);
    const page = await call(`/alerts?event=${event}&limit=500`);
    expect((page.body.alerts as AlertResponse[]).map((a) => a.msgType)).toEqual(['Cancel', 'Update', 'Alert']);
    expect(page.body.next).toBeNull();
    expect((await call(`/alerts?event=${event}&camera=garage`)).body.alerts).toEqual([]);
  });

  it('names a malformed event id, and refuses a cursor with it', async () => {
    expect(await refused('/alerts?event=nope')).toBe('event: expected an event id (a 26-character ULID), got "nope"');
    expect(await refused(`/alerts?event=${eventId(T0)}&cursor=${eventId(T0)}`)).toMatch(/^cursor: /);
  });
});

describe('one alert', () => {
  it('GET /api/alerts/:id gives the alert with its deliveries and attempts', async () => {
    const alert = sampleAlert({ sent: T0 + 3_600_000 });
    const delivered = alerts.results(1);
    alerts.service.registerChannel('api-hook', postChannel());
    const [delivery] = await alerts.service.enqueue(alert, [{ channel: 'webhook', notifier: 'api-hook', target: receiver.url }]);
    await delivered;
    const { status, body } = await call(`/alerts/${alert.id}`);
    expect(status).toBe(200);
    expect(body.alert).toMatchObject({ id: alert.id, headline: alert.headline });
    expect(body.deliveries).toEqual([expect.objectContaining({ id: delivery.id, status: 'delivered', attempts: 1 })]);
    expect(body.attempts).toEqual([expect.objectContaining({ deliveryId: delivery.id, outcome: 'delivered', statusCode: 200 })]);
  });

  it('GET /api/alerts/:id/cap.xml gives the CAP document as stored', async () => {
    const res = await fetch(`${base}/alerts/${stored[0].id}/cap.xml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/cap+xml; charset=utf-8');
    expect(await res.text()).toBe(stored[0].capXml);
  });

  it('POST /api/alerts/:id/retry makes dead-lettered deliveries due again', async () => {
    const alert = sampleAlert({ sent: T0 + 7_200_000 });
    receiver.reply = () => ({ status: 410 });
    alerts.service.registerChannel('gone-hook', postChannel());
    const dead = alerts.results(1, (r) => r.delivery.alertId === alert.id);
    await alerts.service.enqueue(alert, [{ channel: 'webhook', notifier: 'gone-hook', target: receiver.url }]);
    expect((await dead)[0].outcome).toBe('dead');
    receiver.reply = () => ({ status: 200 });
    const delivered = alerts.results(1, (r) => r.delivery.alertId === alert.id);
    const { status, body } = await call(`/alerts/${alert.id}/retry`, 'POST');
    expect(status).toBe(200);
    expect(body.retried).toEqual([expect.objectContaining({ status: 'pending', attempts: 0, lastError: 'HTTP 410' })]);
    expect((await delivered)[0].outcome).toBe('delivered');
    expect((await call(`/alerts/${alert.id}/retry`, 'POST')).body).toEqual({ retried: [] });
  });

  it('answers an unknown alert with 404 and a malformed id with 400 naming it', async () => {
    const missing = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
    expect(await refused(`/alerts/${missing}`, 404)).toBe(`no alert "${missing}"`);
    expect(await refused(`/alerts/${missing}/cap.xml`, 404)).toBe(`no alert "${missing}"`);
    expect(await refused(`/alerts/${missing}/retry`, 404, 'POST')).toBe(`no alert "${missing}"`);
    expect(await refused('/alerts/not-an-id')).toBe('id: expected an alert id (a 26-character ULID), got "not-an-id"');
  });
});
