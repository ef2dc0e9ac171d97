import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { silentLogger } from '../../core/log/logger';
import { EventJournal, type StoredEvent } from '../../core/store/journal';
import { eventsRouter, type EventResponse } from '../../runtime/api/events';
import { signedInAs } from '../support/api-auth';
import { expectProblem } from '../support/problem';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const HOUR = 3600000;

let dataDir: string;
let journal: EventJournal;
let server: Server;
let base: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-journal-api-'));
  journal = new EventJournal({ dataDir, now: () => T0 });
  journal.open();
  const app = express();
  app.use('/api', eventsRouter({ journal, log: silentLogger, auth: signedInAs('admin') }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await journal.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function get(url: string): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${url}`);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function badRequest(query: string): Promise<string> {
  const answer = await get(`/events?${query}`);
  expect({ query, status: answer.status }).toEqual({ query, status: 400 });
  return expectProblem(answer, 400, { code: 'invalid_request' }).detail;
}

function jpeg(size: number): Buffer {
  const bytes = Buffer.alloc(size, 0x42);
  bytes.set([0xff, 0xd8, 0xff, 0xdb]);
  return bytes;
}

describe('GET /api/events', () => {
  let events: StoredEvent[];

  beforeAll(() => {
    events = journal.insertMany(
      Array.from({ length: 120 }, (_, i) => ({
        camera: i % 2 === 0 ? 'porch' : 'garage',
        type: i % 10 === 0 ? 'tamper' : 'motion',
        startTime: T0 + i * 60000,
        zones: i % 3 === 0 ? ['yard'] : [],
      })),
    );
  });

  it('pages newest first, 50 by default, with ISO and millisecond times', async () => {
    const first = await get('/events');
    expect(first.status).toBe(200);
    const page = first.body.events as EventResponse[];
    expect(page).toHaveLength(50);
    expect(page[0]).toMatchObject({
      id: events[119].id,
      startTime: new Date(T0 + 119 * 60000).toISOString(),
      startTimeMs: T0 + 119 * 60000,
      endTime: null,
      snapshotUrl: null,
    });
    const ids = page.map((e) => e.id);
    for (let next = first.body.next as string | null; next !== null;) {
      const more = await get(`/events?cursor=${encodeURIComponent(next)}`);
      ids.push(...(more.body.events as EventResponse[]).map((e) => e.id));
      next = more.body.next as string | null;
    }
    expect(ids).toEqual(events.map((e) => e.id).reverse());
  });

  it('filters by camera, type, zone and a time range given as ISO 8601 or milliseconds', async () => {
    const ids = async (query: string) => ((await get(`/events?limit=500&${query}`)).body.events as EventResponse[]).map((e) => e.id);
    const expected = (keep: (e: StoredEvent) => boolean) =>
      events
        .filter(keep)
        .map((e) => e.id)
        .reverse();
    expect(await ids('camera=garage')).toEqual(expected((e) => e.camera === 'garage'));
    expect(await ids('type=tamper&camera=porch')).toEqual(expected((e) => e.type === 'tamper' && e.camera === 'porch'));
    expect(await ids('zone=yard')).toEqual(expected((e) => e.zones.includes('yard')));
    const from = T0 + HOUR;
    const to = T0 + 90 * 60000;
    const inRange = expected((e) => e.startTime >= from && e.startTime < to);
    expect(inRange).toHaveLength(30);
    expect(await ids(`from=${from}&to=${to}`)).toEqual(inRange);
    expect(await ids('from=2024-05-01T13:00:00Z&to=2024-05-01T15:30:00%2B02:00')).toEqual(inRange);
    expect(await ids('from=2024-05-02')).toEqual([]);
    expect(await ids('to=2024-05-01')).toEqual([]);
  });

  it.each([
    ['from=yesterday', 'from: expected an ISO 8601 time or milliseconds, got "yesterday"'],
    ['to=2024-02-30', 'to: expected an ISO 8601 time or milliseconds, got "2024-02-30"'],
    ['from=2024-05-01T12:00', 'from: expected an ISO 8601 time or milliseconds, got "2024-05-01T12:00" (a date-time needs a zone: Z or +02:00)'],
    ['from=2024-05-02&to=2024-05-01', 'from must be before to (got from "2024-05-02" and to "2024-05-01")'],
    ['limit=0', 'limit: expected a whole number from 1 to 500, got "0"'],
    ['limit=501', 'limit: expected a whole number from 1 to 500, got "501"'],
    ['limit=ten', 'limit: expected a whole number from 1 to 500, got "ten"'],
    ['camera=Front%20Door', 'camera: expected a camera id: 1-64 characters of a-z, 0-9, "_" or "-", starting with a letter or digit, got "Front Door"'],
    ['type=Motion', 'type: expected an event type: 1-32 characters of a-z or "_", got "Motion"'],
    ['zone=../x', 'zone: expected a zone name: 1-64 characters of a-z, 0-9, "_" or "-", starting with a letter or digit, got "../x"'],
    ['cursor=page2', 'cursor: expected the "next" value of a previous page, got "page2"'],
    ['camera=porch&camera=garage', 'camera: expected one value, got 2'],
    ['camera[a]=porch', 'camera: expected a plain value, got a nested one'],
    ['cam=porch', 'cam: unknown query parameter; expected one of camera, type, zone, from, to, limit, cursor'],
  ])('answers 400 for ?%s, naming the parameter', async (query, message) => {
    expect(await badRequest(query)).toBe(message);
  });
});

describe('GET /api/events lists what the journal holds now', () => {
  it('shows a change made in the same millisecond as the last one (each change moves updatedAt)', async () => {
    const stored = journal.insert({ camera: 'cache', type: 'motion', startTime: T0 + 9 * HOUR });
    const before = ((await get('/events?camera=cache')).body.events as EventResponse[])[0];
    expect(before).toMatchObject({ id: stored.id, hasSnapshot: false, kept: false });
    // The journal's clock stands still in this file (now: T0): both changes happen "at once".
    await journal.saveSnapshot(stored.id, jpeg(100));
    journal.keep(stored.id, true);
    const after = ((await get('/events?camera=cache')).body.events as EventResponse[])[0];
    expect(after).toMatchObject({ id: stored.id, hasSnapshot: true, kept: true, snapshotUrl: `/api/events/${stored.id}/snapshot.jpg` });
    expect(after.updatedAtMs).toBe(before.updatedAtMs + 2);
  });
});

describe('GET /api/events answers from the journal as it is, never a page made before a change', () => {
  it('shows a new event and forgets one retention deleted, for the very same query', async () => {
    let now = T0;
    const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-journal-api-pages-'));
    const aging = new EventJournal({ dataDir: dir, now: () => now, maxAgeDays: 1, enforceEveryMs: null });
    aging.open();
    const app = express();
    app.use('/api', eventsRouter({ journal: aging, log: silentLogger, auth: signedInAs('admin') }));
    const local = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => local.once('listening', resolve));
    const list = async (): Promise<string[]> => {
      const res = await fetch(`http://127.0.0.1:${(local.address() as AddressInfo).port}/api/events?camera=yard`);
      return ((await res.json()) as { events: EventResponse[] }).events.map((e) => e.id);
    };
    try {
      const old = aging.insert({ camera: 'yard', type: 'motion', startTime: T0 });
      expect(await list()).toEqual([old.id]);
      expect(await list()).toEqual([old.id]);
      const fresh = aging.insert({ camera: 'yard', type: 'motion', startTime: T0 + 2 * 24 * HOUR });
      expect(await list()).toEqual([fresh.id, old.id]);
      now = T0 + 2 * 24 * HOUR + HOUR;
      expect(aging.enforceRetention().deleted.age).toBe(1);
      expect(await list()).toEqual([fresh.id]);
    } finally {
      local.closeAllConnections();
      await new Promise((resolve) => local.close(resolve));
      await aging.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GET /api/events/:id and its snapshot', () => {
  it('answers the event, and 404 naming an id it does not have', async () => {
    const stored = journal.insert({ camera: 'porch', type: 'motion', startTime: T0, endTime: T0 + 4000, score: 0.5, data: { ai: 'a person' } });
    const found = await get(`/events/${stored.id}`);
    expect(found.status).toBe(200);
    expect(found.body.event).toMatchObject({
      id: stored.id,
      endTime: '2024-05-01T12:00:04.000Z',
      endTimeMs: T0 + 4000,
      score: 0.5,
      data: { ai: 'a person' },
      hasSnapshot: false,
    });
    expectProblem(await get('/events/01HZZZZZZZZZZZZZZZZZZZZZZZ'), 404, { code: 'not_found', detail: 'no event "01HZZZZZZZZZZZZZZZZZZZZZZZ"' });
    expectProblem(await get('/events/..%2F..%2Fetc'), 404);
  });

  it('serves the snapshot as image/jpeg, and 404 when there is none or it is gone', async () => {
    const stored = journal.insert({ camera: 'porch', type: 'motion', startTime: T0 });
    expectProblem(await get(`/events/${stored.id}/snapshot.jpg`), 404, { code: 'not_found', detail: `event "${stored.id}" has no snapshot` });
    await journal.saveSnapshot(stored.id, jpeg(5000));
    const event = (await get(`/events/${stored.id}`)).body.event as EventResponse;
    expect(event.snapshotUrl).toBe(`/api/events/${stored.id}/snapshot.jpg`);
    const res = await fetch(`http://${new URL(base).host}${event.snapshotUrl}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await res.arrayBuffer()).equals(jpeg(5000))).toBe(true);
    unlinkSync(journal.snapshotPath(stored.id)!);
    expectProblem(await get(`/events/${stored.id}/snapshot.jpg`), 404);
    expectProblem(await get('/events/01HZZZZZZZZZZZZZZZZZZZZZZZ/snapshot.jpg'), 404, { detail: 'no event "01HZZZZZZZZZZZZZZZZZZZZZZZ"' });
  });
});

describe('POST /api/events/:id/keep', () => {
  const post = async (id: string, body: string) => {
    const res = await fetch(`${base}/events/${id}/keep`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };

  it('keeps and releases an event', async () => {
    const { id } = journal.insert({ camera: 'porch', type: 'motion', startTime: T0 });
    expect(await post(id, '{"keep":true}')).toMatchObject({ status: 200, body: { event: { id, kept: true } } });
    expect(journal.get(id)?.kept).toBe(true);
    expect(await post(id, '{"keep":false}')).toMatchObject({ status: 200, body: { event: { id, kept: false } } });
  });

  it('answers 400 for a wrong body and 404 for an unknown event', async () => {
    const { id } = journal.insert({ camera: 'porch', type: 'motion', startTime: T0 });
    expectProblem(await post(id, '{"keep":"yes"}'), 400, { code: 'invalid_request', detail: 'body.keep: must be boolean', field: 'body.keep' });
    expectProblem(await post(id, '{}'), 400, { code: 'invalid_request', detail: 'body: missing property "keep"', field: 'body' });
    expectProblem(await post(id, '{keep'), 400, { detail: /^body: not valid JSON/ });
    expectProblem(await post('01HZZZZZZZZZZZZZZZZZZZZZZZ', '{"keep":true}'), 404, { code: 'not_found', detail: 'no event "01HZZZZZZZZZZZZZZZZZZZZZZZ"' });
  });
});
