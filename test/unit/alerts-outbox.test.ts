import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeliveryTarget } from '../../core/alerts/index';
import { AlertQueryError, idempotencyKey, Outbox } from '../../core/alerts/outbox';
import { parseRetryAfter, retryDelayMs, httpDeliveryError, DEFAULT_RETRY_POLICY } from '../../core/alerts/backoff';
import { sampleAlert } from '../support/alerts';

const T0 = Date.UTC(2026, 0, 1);
const hook: DeliveryTarget = { channel: 'webhook', notifier: 'n1', target: 'http://127.0.0.1:1/hook' };
const mail: DeliveryTarget = { channel: 'email', notifier: 'n2', target: 'ops@example.org' };

describe('alert outbox', () => {
  let dir: string;
  let file: string;
  let outbox: Outbox;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'glimpser-outbox-'));
    file = path.join(dir, 'alerts.db');
    outbox = new Outbox(file);
  });
  afterEach(() => {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the alert and one pending delivery per target in one enqueue', () => {
    const alert = sampleAlert({ sent: T0 });
    const result = outbox.enqueue(alert, [hook, mail], T0);
    expect(result.alertIsNew).toBe(true);
    expect(result.inserted).toBe(2);
    expect(result.deliveries.map((d) => [d.notifier, d.status, d.attempts, d.nextAttemptAt])).toEqual([
      ['n1', 'pending', 0, T0],
      ['n2', 'pending', 0, T0],
    ]);
    expect(outbox.getAlert(alert.id)).toEqual(alert);
    expect(outbox.depth()).toEqual({ pending: 2, dead: 0 });
  });

  it('does not insert the same alert, notifier and target twice, and keeps the idempotency key stable', () => {
    const alert = sampleAlert({ sent: T0 });
    const first = outbox.enqueue(alert, [], T0);
    expect(first).toEqual({ deliveries: [], alertIsNew: true, inserted: 0 });
    const [a] = outbox.enqueue(alert, [hook], T0 + 1).deliveries;
    const again = outbox.enqueue({ ...alert, headline: 'changed' }, [hook, mail], T0 + 2);
    expect(again.alertIsNew).toBe(false);
    expect(again.inserted).toBe(1);
    expect(again.deliveries[0]).toEqual(a);
    expect(a.idempotencyKey).toBe(idempotencyKey(alert.id, 'n1', hook.target));
    expect(again.deliveries[1].idempotencyKey).not.toBe(a.idempotencyKey);
    expect(outbox.getAlert(alert.id)?.headline).toBe('changed');
  });

  it('rolls the whole enqueue back when one delivery cannot be written', () => {
    const alert = sampleAlert({ sent: T0 });
    const broken = { ...mail, channel: 'fax' } as unknown as DeliveryTarget;
    expect(() => outbox.enqueue(alert, [hook, broken], T0)).toThrow(/CHECK constraint/);
    expect(outbox.getAlert(alert.id)).toBeNull();
    expect(outbox.depth()).toEqual({ pending: 0, dead: 0 });
  });

  it('stores a group of enqueues in one commit, each in its own savepoint: a failing one is refused alone', () => {
    const [good, bad] = [sampleAlert(), sampleAlert()];
    const broken = { ...hook, channel: 'fax' } as unknown as DeliveryTarget;
    const results = outbox.enqueueMany(
      [
        { alert: good, targets: [hook] },
        { alert: bad, targets: [mail, broken] },
      ],
      T0,
    );
    expect(results[0]).toMatchObject({ alertIsNew: true, inserted: 1 });
    expect(results[1]).toBeInstanceOf(Error);
    expect((results[1] as Error).message).toMatch(/CHECK constraint/);
    expect(outbox.getAlert(good.id)).not.toBeNull();
    expect(outbox.getAlert(bad.id)).toBeNull();
    expect(outbox.detail(good.id)!.deliveries).toHaveLength(1);
  });

  it('migrates an outbox of schema version 1: old alerts stay and read without endAs, new ones keep it', () => {
    outbox.close();
    const db = new Database(file);
    db.exec('ALTER TABLE alerts DROP COLUMN end_as');
    db.pragma('user_version = 1');
    const old = sampleAlert();
    db.prepare(
      `INSERT INTO alerts (id, identifier, msg_type, refs, event_id, camera, sent, headline, description, severity, cap_xml, snapshot, snapshot_missing,
        created_at, updated_at) VALUES (?, ?, 'Alert', NULL, NULL, ?, ?, ?, '', 'Unknown', ?, NULL, NULL, ?, ?)`,
    ).run(old.id, old.identifier, old.camera, old.sent, old.headline, old.capXml, T0, T0);
    db.close();
    outbox = new Outbox(file);
    expect(outbox.getAlert(old.id)).toMatchObject({ id: old.id, headline: old.headline });
    expect(outbox.getAlert(old.id)).not.toHaveProperty('endAs');
    const kept = sampleAlert({ endAs: 'allclear' });
    outbox.enqueue(kept, [], T0);
    expect(outbox.getAlert(kept.id)?.endAs).toBe('allclear');
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    check.close();
  });

  it('leases due deliveries of registered notifiers only, once until the lease expires', () => {
    const alert = sampleAlert({ sent: T0 });
    outbox.enqueue(alert, [hook, mail], T0);
    const leased = outbox.lease(['n1'], T0, 1000, 10);
    expect(leased.map((d) => [d.notifier, d.leaseUntil])).toEqual([['n1', T0 + 1000]]);
    expect(outbox.lease(['n1'], T0 + 999, 1000, 10)).toEqual([]);
    expect(outbox.nextDueAt(['n1'])).toBe(T0 + 1000);
    // A crash leaves the lease behind; once it runs out the delivery is due again.
    expect(
      outbox
        .lease(['n1', 'n2'], T0 + 1000, 1000, 10)
        .map((d) => d.notifier)
        .sort(),
    ).toEqual(['n1', 'n2']);
    expect(outbox.lease([], T0 + 5000, 1000, 10)).toEqual([]);
  });

  it('survives a reopen with pending deliveries and their leases', () => {
    const alert = sampleAlert({ sent: T0 });
    outbox.enqueue(alert, [hook], T0);
    outbox.lease(['n1'], T0, 1000, 10);
    outbox.close();
    outbox = new Outbox(file);
    expect(outbox.lease(['n1'], T0 + 500, 1000, 10)).toEqual([]);
    expect(outbox.lease(['n1'], T0 + 1000, 1000, 10)).toHaveLength(1);
  });

  it('records attempts: retry schedules the next one, delivered and dead are final', () => {
    const alert = sampleAlert({ sent: T0 });
    const [d1, d2] = outbox.enqueue(alert, [hook, mail], T0).deliveries;
    outbox.lease(['n1', 'n2'], T0, 1000, 10);
    const retried = outbox.record(d1.id, { at: T0, durationMs: 5, outcome: 'retry', statusCode: 503, error: 'HTTP 503', nextAttemptAt: T0 + 100 });
    expect(retried).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: T0 + 100, leaseUntil: null, lastError: 'HTTP 503' });
    expect(outbox.lease(['n1'], T0 + 99, 1000, 10)).toEqual([]);
    outbox.lease(['n1'], T0 + 100, 1000, 10);
    expect(outbox.record(d1.id, { at: T0 + 100, durationMs: 7, outcome: 'delivered', statusCode: 200, error: null })).toMatchObject({
      status: 'delivered',
      attempts: 2,
      deliveredAt: T0 + 107,
      lastError: null,
    });
    expect(outbox.record(d2.id, { at: T0, durationMs: 1, outcome: 'dead', statusCode: 550, error: 'mailbox unavailable' })).toMatchObject({
      status: 'dead',
      lastError: 'mailbox unavailable',
    });
    const detail = outbox.detail(alert.id)!;
    expect(detail.attempts.map((a) => [a.deliveryId, a.outcome, a.statusCode])).toEqual([
      [d1.id, 'retry', 503],
      [d2.id, 'dead', 550],
      [d1.id, 'delivered', 200],
    ]);
    expect(outbox.depth()).toEqual({ pending: 0, dead: 1 });
    expect(outbox.lease(['n1', 'n2'], T0 + 10_000, 1000, 10)).toEqual([]);
  });

  it('retries dead-lettered deliveries with a fresh set of attempts', () => {
    const alert = sampleAlert({ sent: T0 });
    const [d] = outbox.enqueue(alert, [hook], T0).deliveries;
    outbox.record(d.id, { at: T0, durationMs: 1, outcome: 'dead', statusCode: 404, error: 'HTTP 404' });
    const [again] = outbox.retryDead(alert.id, T0 + 50);
    expect(again).toMatchObject({ id: d.id, status: 'pending', attempts: 0, nextAttemptAt: T0 + 50, lastError: 'HTTP 404' });
    expect(outbox.retryDead(alert.id, T0 + 60)).toEqual([]);
  });

  it('lists alerts newest first with cursor paging and filters', () => {
    const alerts = [0, 1, 2, 3, 4].map((i) => sampleAlert({ sent: T0 + i * 1000, camera: i % 2 ? 'garage' : 'porch' }));
    for (const alert of alerts) outbox.enqueue(alert, [hook], T0);
    outbox.record(outbox.detail(alerts[1].id)!.deliveries[0].id, { at: T0, durationMs: 1, outcome: 'dead', statusCode: 410, error: 'gone' });
    const first = outbox.list({ limit: 2 });
    expect(first.alerts.map((a) => a.alert.id)).toEqual([alerts[4].id, alerts[3].id]);
    const second = outbox.list({ limit: 2, cursor: first.next! });
    expect(second.alerts.map((a) => a.alert.id)).toEqual([alerts[2].id, alerts[1].id]);
    expect(outbox.list({ limit: 2, cursor: second.next! })).toEqual({ alerts: [expect.objectContaining({ alert: alerts[0] })], next: null });
    expect(outbox.list({ camera: 'garage' }).alerts.map((a) => a.alert.id)).toEqual([alerts[3].id, alerts[1].id]);
    expect(outbox.list({ status: 'dead' }).alerts).toEqual([{ alert: alerts[1], deliveries: { pending: 0, delivered: 0, dead: 1 } }]);
    expect(outbox.list({ from: T0 + 1000, to: T0 + 3000 }).alerts.map((a) => a.alert.id)).toEqual([alerts[2].id, alerts[1].id]);
  });

  it('names the filter it cannot use', () => {
    expect(() => outbox.list({ status: 'lost' })).toThrow(new AlertQueryError('status', 'one of pending, delivered, dead', 'lost'));
    expect(() => outbox.list({ camera: 'Porch/1' })).toThrow(/^camera: expected a camera id/);
    expect(() => outbox.list({ cursor: 'nonsense' })).toThrow(/^cursor: expected the "next" value of a previous page/);
  });
});

describe('retry timing and HTTP classification', () => {
  it('backs off exponentially with jitter, never beyond the cap', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, initialDelayMs: 100, maxDelayMs: 2000 };
    for (let attempts = 1; attempts <= 12; attempts++) {
      const delay = retryDelayMs(policy, attempts);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(2000);
    }
    expect(retryDelayMs(policy, 30)).toBe(2000);
    const wide = { ...policy, maxDelayMs: 1_000_000 };
    const later = Array.from({ length: 50 }, () => retryDelayMs(wide, 4));
    const first = Array.from({ length: 50 }, () => retryDelayMs(wide, 1));
    expect(later.reduce((a, b) => a + b) / 50).toBeGreaterThan(first.reduce((a, b) => a + b) / 50);
    expect(new Set(later).size).toBeGreaterThan(1);
  });

  it('reads Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3)', () => {
    expect(parseRetryAfter('3', T0)).toBe(3000);
    expect(parseRetryAfter(new Date(T0 + 5000).toUTCString(), T0)).toBe(5000);
    expect(parseRetryAfter('soon', T0)).toBeNull();
    expect(parseRetryAfter(undefined, T0)).toBeNull();
  });

  it('treats 4xx as permanent except 408 and 429, and retries 5xx', () => {
    expect(httpDeliveryError(404, null, T0)).toMatchObject({ permanent: true, statusCode: 404, message: 'HTTP 404' });
    expect(httpDeliveryError(408, null, T0).permanent).toBe(false);
    expect(httpDeliveryError(429, '2', T0)).toMatchObject({ permanent: false, retryAfterMs: 2000 });
    expect(httpDeliveryError(503, null, T0, 'down')).toMatchObject({ permanent: false, retryAfterMs: null, message: 'HTTP 503: down' });
  });
});
