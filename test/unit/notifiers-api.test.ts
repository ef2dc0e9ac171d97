import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { parseCap } from '../../core/alerts/cap';
import { generateWebhookSecret, WebhookChannel } from '../../core/alerts/channels/webhook';
import { silentLogger } from '../../core/log/logger';
import { notifiersRouter, type NotifierTestResult } from '../../runtime/api/notifiers';
import type { Role } from '../../runtime/stores/users';
import { openTestAlertService, type TestAlertService } from '../support/alerts';
import { WebhookReceiver } from '../support/webhook-receiver';
import { signedInByHeaders } from '../support/api-auth';
import { expectProblem } from '../support/problem';

/**
 * POST /api/notifiers/:id/test with a real webhook channel (as notify-webhook registers it) against a loopback
 * receiver that verifies each request with the official `standardwebhooks` package.
 */
const secret = generateWebhookSecret();
let alerts: TestAlertService;
let receiver: WebhookReceiver;
let server: Server;
let base: string;
const channels: WebhookChannel[] = [];

function webhookChannel(format: 'json' | 'cap' = 'json'): WebhookChannel {
  const channel = new WebhookChannel({ format, includeSnapshot: false, publicUrl: '', headers: {}, allowHosts: [], secret });
  channels.push(channel);
  return channel;
}

beforeAll(async () => {
  alerts = openTestAlertService();
  receiver = await WebhookReceiver.start(secret);
  const app = express();
  // Stands in for the sign-in middleware: the test names the user and role per request.
  app.use('/api', notifiersRouter({ alerts: alerts.service, log: silentLogger, auth: signedInByHeaders() }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  for (const channel of channels) channel.close();
  await receiver.close();
  await alerts.close();
});

async function test(id: string, body?: unknown, role: Role = 'admin'): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/notifiers/${encodeURIComponent(id)}/test`, {
    method: 'POST',
    headers: {
      'x-test-user': role === 'admin' ? 'admin' : 'viewer',
      'x-test-role': role,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('POST /api/notifiers/:id/test', () => {
  it('sends a signed test alert through the notifier’s channel and reports the receiver’s answer, outside the ledger', async () => {
    const unregister = alerts.service.registerChannel('hook-json', webhookChannel());
    const received = receiver.next();
    const { status, body } = await test('hook-json', { target: receiver.url });
    unregister();
    expect(status).toBe(200);
    expect(body).toEqual({
      notifier: 'hook-json',
      channel: 'webhook',
      target: receiver.url,
      delivered: true,
      statusCode: 200,
      error: null,
      permanent: null,
    } satisfies NotifierTestResult);
    const hook = await received;
    const envelope = JSON.parse(hook.body.toString('utf8')) as { type: string; data: { id: string; headline: string; camera: string } };
    expect(envelope).toMatchObject({ type: 'alert.alert', data: { headline: 'Glimpser test alert', camera: 'test' } });
    expect(hook.id).toBe(`test-${envelope.data.id}`);
    // Not written to the outbox: no alert row, no delivery, no attempt.
    expect(alerts.service.getAlert(envelope.data.id)).toBeNull();
    expect(alerts.service.list({}).alerts).toEqual([]);
  });

  it('sends a CAP 1.2 document with status Test to the notifier’s own target when the request names none', async () => {
    const channel = Object.assign(webhookChannel('cap'), { testTargets: () => [receiver.url] });
    const unregister = alerts.service.registerChannel('hook-cap', channel);
    const received = receiver.next();
    const { body } = await test('hook-cap');
    unregister();
    expect(body).toMatchObject({ delivered: true, statusCode: 200, target: receiver.url });
    const hook = await received;
    expect(hook.contentType).toBe('application/cap+xml; charset=utf-8');
    expect(await parseCap(hook.body)).toMatchObject({ status: 'Test', msgType: 'Alert', info: [{ headline: 'Glimpser test alert' }] });
  });

  it('reports a failed send with the status code and whether a retry could help, and does not retry', async () => {
    const unregister = alerts.service.registerChannel('hook-failing', webhookChannel());
    try {
      receiver.answer({ status: 500 });
      const before = receiver.requests;
      const failed = await test('hook-failing', { target: receiver.url });
      expect(failed.body).toMatchObject({ delivered: false, statusCode: 500, error: expect.stringContaining('500'), permanent: false });
      expect(receiver.requests).toBe(before + 1);
      receiver.answer({ status: 410 });
      expect((await test('hook-failing', { target: receiver.url })).body).toMatchObject({ delivered: false, statusCode: 410, permanent: true });
    } finally {
      receiver.answer({ status: 200 });
      unregister();
    }
  });

  it('answers 404 naming an id no deployed notifier has', async () => {
    expectProblem(await test('a1b2c3d4e5f60718', { target: receiver.url }), 404, {
      code: 'not_found',
      detail: 'no notifier "a1b2c3d4e5f60718": no deployed notify-* node has this id',
    });
  });

  it('answers bad input with 400 naming the field', async () => {
    expectProblem(await test('bad id!'), 400, { detail: /^id: expected a notifier node id/, field: 'id' });
    const unregister = alerts.service.registerChannel('hook-bare', webhookChannel());
    try {
      expectProblem(await test('hook-bare'), 400, {
        code: 'invalid_request',
        detail: /^target: notifier "hook-bare" \(webhook\) has no configured target/,
        field: 'target',
      });
      expectProblem(await test('hook-bare', { target: 5 }), 400, { detail: /^body\.target: /, field: 'body.target' });
      expectProblem(await test('hook-bare', { url: receiver.url }), 400, { detail: 'body: unknown property "url"', field: 'body' });
    } finally {
      unregister();
    }
  });

  it('is for admins only', async () => {
    // Worded by roleRefusal since roles are checked by the route declarations (issue 12), not by this router.
    expectProblem(await test('hook-json', { target: receiver.url }, 'viewer'), 403, {
      code: 'forbidden',
      detail: 'POST /api/notifiers/{id}/test needs the admin role; user "viewer" (role viewer) does not have it',
    });
  });
});
