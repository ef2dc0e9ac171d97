import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { MediaLinks, snapshotLink } from '../../core/alerts/media-links';
import { SmsChannel, TwilioAccount } from '../../core/alerts/channels/sms';
import { webhookJson } from '../../core/alerts/channels/webhook';
import { silentLogger } from '../../core/log/logger';
import { EventJournal } from '../../core/store/journal';
import { eventsRouter } from '../../runtime/api/events';
import { sampleAlert } from '../support/alerts';
import { signedInByHeaders } from '../support/api-auth';
import { expectProblem } from '../support/problem';
import { TwilioServer } from '../support/twilio-server';

/**
 * Issue 11: an MMS carries the event's snapshot as a link Twilio fetches without signing in. The link is signed and
 * expires (core/alerts/media-links.ts); GET /api/media/events/{id}/snapshot.jpg opens that one picture with it, and
 * nothing else: not another event, not after the expiry, not with a changed signature. The rest of the events API
 * still needs sign-in (the stand-in answers 401 without its header).
 */
const SECRET = 's'.repeat(64);
let now = Date.parse('2026-12-07T12:00:00Z');
const links = new MediaLinks(SECRET, 3_600_000, () => now);

let dir: string;
let journal: EventJournal;
let server: Server;
let base: string;
const picture = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-media-links-'));
  journal = new EventJournal({ dataDir: dir });
  journal.open();
  const app = express();
  app.use('/api', eventsRouter({ journal, log: silentLogger, auth: signedInByHeaders(), links }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await journal.close();
  rmSync(dir, { recursive: true, force: true });
});

async function eventWithSnapshot(): Promise<string> {
  const event = journal.insert({ camera: 'porch', type: 'motion', startTime: now });
  await journal.saveSnapshot(event.id, picture);
  return event.id;
}

describe('signed snapshot links', () => {
  it('opens the snapshot without sign-in while the link is valid; the API path still needs sign-in', async () => {
    const id = await eventWithSnapshot();
    const res = await fetch(`${base}${links.snapshotPath(id)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await res.arrayBuffer()).equals(picture)).toBe(true);
    await expectProblem(await fetch(`${base}/api/events/${id}/snapshot.jpg`), 401);
  });

  it('refuses a changed signature, another event’s link, a moved expiry and an expired link', async () => {
    const [id, other] = [await eventWithSnapshot(), await eventWithSnapshot()];
    const url = new URL(`${base}${links.snapshotPath(id)}`);
    const sig = url.searchParams.get('sig')!;
    const expires = url.searchParams.get('expires')!;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    await expectProblem(await fetch(`${base}/api/media/events/${id}/snapshot.jpg?expires=${expires}&sig=${flipped}`), 403, { detail: /^sig: / });
    await expectProblem(await fetch(`${base}/api/media/events/${other}/snapshot.jpg?expires=${expires}&sig=${sig}`), 403);
    await expectProblem(await fetch(`${base}/api/media/events/${id}/snapshot.jpg?expires=${Number(expires) + 3600}&sig=${sig}`), 403);
    await expectProblem(await fetch(`${base}/api/media/events/${id}/snapshot.jpg?expires=${expires}`), 400, { field: 'sig' });
    now += 3_600_001;
    try {
      await expectProblem(await fetch(url), 403, { detail: 'this snapshot link has expired' });
    } finally {
      now -= 3_600_001;
    }
  });

  it('puts the signed link in the webhook JSON, so receivers fetch the picture without an account', async () => {
    const id = await eventWithSnapshot();
    const alert = sampleAlert({ eventId: id, snapshot: { path: `events/snapshots/${id}.jpg`, bytes: picture.length } });
    const body = JSON.parse(webhookJson(alert, null, { includeSnapshot: false, publicUrl: `${base}/`, links }).toString('utf8')) as {
      data: { snapshot: { url: string } };
    };
    expect(body.data.snapshot.url).toBe(snapshotLink(alert, base, links));
    expect((await fetch(body.data.snapshot.url)).status).toBe(200);
  });

  it('gives Twilio a link in the MMS that fetches the picture the alert shows', async () => {
    const id = await eventWithSnapshot();
    const twilio = await TwilioServer.start({ accountSid: `AC${'a1'.repeat(16)}`, authToken: 'token-for-tests', apiKeys: {} });
    try {
      const account = new TwilioAccount({ accountSid: `AC${'a1'.repeat(16)}`, authToken: 'token-for-tests', apiBaseUrl: twilio.baseUrl });
      const channel = new SmsChannel(account, {
        from: '+15005550000',
        messagingServiceSid: '',
        template: '{{headline}}',
        maxLength: 160,
        mediaBaseUrl: base,
        links,
      });
      const alert = sampleAlert({ eventId: id, snapshot: { path: `events/snapshots/${id}.jpg`, bytes: picture.length } });
      const delivery = {
        id: 'd1',
        alertId: alert.id,
        channel: 'sms' as const,
        notifier: 'sms',
        target: '+15005550006',
        idempotencyKey: 'k',
        status: 'pending' as const,
      };
      await channel.send({
        alert,
        delivery: { ...delivery, attempts: 0, nextAttemptAt: 0, leaseUntil: null, lastError: null, createdAt: 0, deliveredAt: null },
        snapshot: null,
        signal: new AbortController().signal,
      });
      const [media] = twilio.received[0].MediaUrl;
      expect(media).toBe(snapshotLink(alert, base, links));
      const fetched = await fetch(media);
      expect(fetched.status).toBe(200);
      expect(Buffer.from(await fetched.arrayBuffer()).equals(picture)).toBe(true);
    } finally {
      await twilio.close();
    }
  });
});
