import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { buildAlert, capSeverity, referenceOf, type AlertEvent, type BuildInput } from '../../core/alerts/build';
import { alertDescriptionOf, alertEventOf, phaseOf } from '../../core/alerts/build-event';
import { AlertLifecycle } from '../../core/alerts/build-lifecycle';
import { CAP_ALERT_DEFAULTS, checkCapAlertSettings, type CapAlertSettings } from '../../core/alerts/build-settings';
import { eventSnapshot } from '../../core/alerts/build-snapshot';
import { fillTemplate } from '../../core/alerts/build-text';
import { checkCapProfile, formatCapTime, parseCap, validateCapXml } from '../../core/alerts/cap';
import type { StoredAlert } from '../../core/alerts';
import { EventJournal } from '../../core/store/journal';

const START = Date.UTC(2026, 11, 7, 20, 0, 0);
const EVENT: AlertEvent = {
  id: '01KBZ0000000000000000000AB',
  ref: '01KBZ0000000000000000000AB',
  camera: 'porch',
  type: 'motion',
  zones: ['door'],
  startTime: START,
  endTime: null,
  score: 0.4,
};
const FIRST = { sender: 'glimpser', identifier: 'glimpser.01KBZ0000000000000000000AB.alert', sent: START + 2000 };
const settings = (overrides: Partial<CapAlertSettings> = {}): CapAlertSettings => ({ ...CAP_ALERT_DEFAULTS, ...overrides });
const input = (overrides: Partial<BuildInput> = {}): BuildInput => ({
  step: { kind: 'alert' },
  event: EVENT,
  ai: { caption: 'A person at the door.', description: 'A person in a red coat rings the bell.', severity: 'medium' },
  gate: { passed: true, rule: 'people at the door', reason: 'a person, at night' },
  snapshot: null,
  snapshotMissing: null,
  now: START + 2500,
  ...overrides,
});

/** CAP 1.2: valid against the OASIS XSD and without `oasis-strict` errors, read back as the same alert. */
async function expectValidCap(alert: StoredAlert) {
  expect(await validateCapXml(alert.capXml)).toEqual([]);
  const model = await parseCap(alert.capXml);
  expect(checkCapProfile(model, 'oasis-strict').errors).toEqual([]);
  return model;
}

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
});

describe('buildAlert: the event lifecycle as CAP message types', () => {
  it('makes an Alert for the start, without references (CAP 1.2 §3.2.1)', async () => {
    const alert = await buildAlert(input(), settings());
    expect(alert).toMatchObject({ msgType: 'Alert', references: null, eventId: EVENT.id, camera: 'porch', sent: START + 2000, severity: 'Moderate' });
    expect(alert.identifier).toBe(FIRST.identifier);
    const model = await expectValidCap(alert);
    expect(model).toMatchObject({
      sender: 'glimpser',
      status: 'Actual',
      msgType: 'Alert',
      scope: 'Private',
      addresses: 'operators',
      sent: '2026-12-07T20:00:02-00:00',
    });
    expect(model.info?.[0]).toMatchObject({
      category: ['Security'],
      event: 'motion',
      urgency: 'Immediate',
      certainty: 'Observed',
      onset: '2026-12-07T20:00:00-00:00',
    });
  });

  it('makes an Update that references the first alert as sender,identifier,sent', async () => {
    const alert = await buildAlert(input({ step: { kind: 'update', first: FIRST, sequence: 2 } }), settings());
    expect(alert.msgType).toBe('Update');
    expect(alert.identifier).toBe('glimpser.01KBZ0000000000000000000AB.update.2');
    expect(alert.references).toBe('glimpser,glimpser.01KBZ0000000000000000000AB.alert,2026-12-07T20:00:02-00:00');
    expect((await expectValidCap(alert)).references).toBe(alert.references);
  });

  it('makes a Cancel for the end by default, with urgency Past', async () => {
    const alert = await buildAlert(input({ step: { kind: 'end', first: FIRST }, event: { ...EVENT, endTime: START + 9000 } }), settings());
    expect(alert).toMatchObject({ msgType: 'Cancel', identifier: 'glimpser.01KBZ0000000000000000000AB.cancel', references: referenceOf(FIRST) });
    expect((await expectValidCap(alert)).info?.[0]).toMatchObject({ urgency: 'Past' });
    expect(alert.headline).toBe('motion on porch (ended)');
  });

  it('makes an all-clear Update (responseType AllClear) for the end when endAs is allclear', async () => {
    const alert = await buildAlert(input({ step: { kind: 'end', first: FIRST } }), settings({ endAs: 'allclear' }));
    expect(alert).toMatchObject({ msgType: 'Update', identifier: 'glimpser.01KBZ0000000000000000000AB.allclear', references: referenceOf(FIRST) });
    expect((await expectValidCap(alert)).info?.[0].responseType).toEqual(['AllClear']);
  });

  it('gives each phase a stable identifier: the same input makes the same identifier and XML', async () => {
    const [a, b] = await Promise.all([buildAlert(input(), settings()), buildAlert(input(), settings())]);
    expect(a.identifier).toBe(b.identifier);
    expect(a.capXml).toBe(b.capXml);
    expect(a.id).not.toBe(b.id);
  });
});

describe('buildAlert: settings', () => {
  it.each([
    ['low', 'Minor'],
    ['medium', 'Moderate'],
    ['high', 'Severe'],
    ['critical', 'Extreme'],
  ] as const)('maps the AI severity %s to the CAP severity %s', async (ai, cap) => {
    const alert = await buildAlert(input({ ai: { caption: 'x', description: '', severity: ai } }), settings());
    expect(alert.severity).toBe(cap);
    expect((await parseCap(alert.capXml)).info?.[0].severity).toBe(cap);
  });

  it('uses the configured severities, and severityNone when there is no description', async () => {
    expect(capSeverity('high', settings({ severityHigh: 'Extreme' }))).toBe('Extreme');
    expect((await buildAlert(input({ ai: null }), settings({ severityNone: 'Minor' }))).severity).toBe('Minor');
  });

  it('fills the templates with camera, type, zones, caption and time, and nothing else', async () => {
    const alert = await buildAlert(
      input(),
      settings({ headline: '{{type}} at {{camera}} ({{zones}})', description: '{{caption}} since {{time}}', instruction: 'Check {{camera}} now.' }),
    );
    expect(alert.headline).toBe('motion at porch (door)');
    expect(alert.description).toBe('A person at the door. since 2026-12-07T20:00:00-00:00');
    expect((await expectValidCap(alert)).info?.[0].instruction).toBe('Check porch now.');
    expect(fillTemplate('{{constructor}} {{toString}} {{camera}}', { camera: 'c', type: '', zones: '', caption: '', time: '' }, 100)).toBe(
      '{{constructor}} {{toString}} c',
    );
  });

  it('bounds the headline to 160 characters and strips control characters', async () => {
    const caption = `${'a very long caption '.repeat(40)}\u0007end`;
    const alert = await buildAlert(input({ ai: { caption, description: '', severity: 'low' } }), settings({ headline: '{{caption}}' }));
    expect([...alert.headline]).toHaveLength(160);
    expect(alert.headline.endsWith('…')).toBe(true);
    expect(alert.description).not.toContain('\u0007');
    await expectValidCap(alert);
  });

  it('falls back to the AI description for an empty description template, without characters XML cannot carry', async () => {
    const ai = { caption: 'c', description: 'A person\u0001 at\uD800 the door.', severity: 'low' as const };
    const alert = await buildAlert(input({ ai }), settings({ description: '' }));
    expect(alert.description).toBe('A person at the door.');
    await expectValidCap(alert);
  });

  it('writes the camera location as a circle or a closed polygon (CAP 1.2 §3.2.4)', async () => {
    const circle = await buildAlert(input(), settings({ areaShape: 'circle', areaDesc: 'Porch', latitude: 52.52, longitude: 13.405, radiusKm: 0.05 }));
    expect((await expectValidCap(circle)).info?.[0].area).toEqual([{ areaDesc: 'Porch', circle: ['52.52,13.405 0.05'] }]);
    const polygon = await buildAlert(input(), settings({ areaShape: 'polygon', areaDesc: 'Yard', polygon: '52.5,13.4 52.6,13.4 52.6,13.5' }));
    expect((await expectValidCap(polygon)).info?.[0].area).toEqual([{ areaDesc: 'Yard', polygon: ['52.5,13.4 52.6,13.4 52.6,13.5 52.5,13.4'] }]);
  });

  it('adds the snapshot as a resource with size and SHA-1 digest (CAP 1.2 §3.2.3), and uri and web when a base URL is set', async () => {
    const snapshot = { bytes: jpeg, path: 'events/snapshots/porch/x.jpg' };
    const alert = await buildAlert(input({ snapshot }), settings({ baseUrl: 'https://cams.example.org/' }));
    const info = (await expectValidCap(alert)).info?.[0];
    expect(info?.resource).toEqual([
      {
        resourceDesc: 'Snapshot of camera porch',
        mimeType: 'image/jpeg',
        size: jpeg.length,
        uri: `https://cams.example.org/api/events/${EVENT.id}/snapshot.jpg`,
        digest: createHash('sha1').update(jpeg).digest('hex'),
      },
    ]);
    expect(info?.web).toBe(`https://cams.example.org/api/events/${EVENT.id}`);
    expect(alert.snapshot).toEqual({ path: snapshot.path, bytes: jpeg.length });

    const local = await buildAlert(input({ snapshot }), settings());
    const localInfo = (await expectValidCap(local)).info?.[0];
    expect(localInfo?.web).toBeUndefined();
    expect(localInfo?.resource?.[0].uri).toBeUndefined();
  });

  it('says in the alert why there is no snapshot', async () => {
    const alert = await buildAlert(input({ snapshotMissing: 'no snapshot of event X within 5000 ms' }), settings());
    expect(alert).toMatchObject({ snapshot: null, snapshotMissing: 'no snapshot of event X within 5000 ms' });
    expect((await expectValidCap(alert)).info?.[0].parameter).toContainEqual({
      valueName: 'glimpser:snapshotMissing',
      value: 'no snapshot of event X within 5000 ms',
    });
  });

  it('writes a Restricted alert with its restriction, and a Public one with neither addresses nor restriction', async () => {
    const restricted = await expectValidCap(await buildAlert(input(), settings({ scope: 'Restricted', restriction: 'site staff only' })));
    expect(restricted).toMatchObject({ scope: 'Restricted', restriction: 'site staff only' });
    expect(restricted.addresses).toBeUndefined();
    const publicAlert = await expectValidCap(await buildAlert(input(), settings({ scope: 'Public' })));
    expect(publicAlert.addresses).toBeUndefined();
  });

  it('refuses to make an alert that breaks oasis-strict, naming the element', async () => {
    await expect(buildAlert(input(), settings({ sender: 'my sender' }))).rejects.toThrow(/not sent: \/alert\/sender/);
  });

  it.each([
    [{ scope: 'Private', addresses: ' ' }, 'setting "addresses": expected the recipients of a Private alert'],
    [{ scope: 'Restricted', restriction: '' }, 'setting "restriction": expected the rule that limits a Restricted alert'],
    [{ headline: '{{camera}} {{process.exit}}' }, 'setting "headline": {{process.exit}} is not a placeholder'],
    [{ areaShape: 'circle', areaDesc: '' }, 'setting "areaDesc"'],
    [{ areaShape: 'polygon', areaDesc: 'x', polygon: '1,2 3,x' }, 'setting "polygon" point 2: expected "lat,lon" in degrees, got "3,x"'],
    [{ areaShape: 'polygon', areaDesc: 'x', polygon: '1,2 3,4' }, 'setting "polygon": polygon: expected at least 3 distinct corners'],
    [{ baseUrl: '/relative' }, 'setting "baseUrl": expected an absolute http(s) URL'],
  ] as const)('refuses the settings %j naming the setting', (overrides, message) => {
    expect(() => checkCapAlertSettings(settings(overrides as Partial<CapAlertSettings>))).toThrow(message);
  });
});

describe('reading event messages', () => {
  it('reads a journal event from the event node: phase from its end time', () => {
    const fields = { id: 'E1', camera: 'porch', type: 'motion', startTime: '2026-12-07T20:00:00.000Z', startTimeMs: START, endTime: null, endTimeMs: null };
    const event = alertEventOf(fields, 0);
    expect(event).toMatchObject({ id: 'E1', ref: 'E1', startTime: START, endTime: null });
    expect(phaseOf(fields, event)).toBe('update');
    const ended = { ...fields, endTime: '2026-12-07T20:00:09.000Z', endTimeMs: START + 9000 };
    expect(phaseOf(ended, alertEventOf(ended, 0))).toBe('end');
  });

  it("reads a motion node's lifecycle event by key and phase, and the description from msg.ai or the event's data", () => {
    const fields = { key: 'm1:porch:motion:1', phase: 'start' as const, camera: 'porch', type: 'motion', startTime: START, endTime: null };
    expect(alertEventOf(fields, 0)).toMatchObject({ id: null, ref: 'm1:porch:motion:1' });
    expect(phaseOf(fields, alertEventOf(fields, 0))).toBe('start');
    expect(alertDescriptionOf({ skipped: 'budget', reason: 'spent' }, { ...fields, data: { ai: { caption: 'c', severity: 'high' } } })).toEqual({
      caption: 'c',
      description: '',
      severity: 'high',
    });
    expect(alertDescriptionOf(undefined, fields)).toBeNull();
  });
});

describe('AlertLifecycle: one alert per event phase', () => {
  it('alerts once, rate-limits updates, always lets the end go, and nothing after it', () => {
    const lifecycle = new AlertLifecycle({ updateEveryMs: 60_000 });
    const first = { sender: 's', identifier: 'i', sent: 0 };
    const alert = lifecycle.step('e', 'start', 0);
    expect(alert).toEqual({ kind: 'alert' });
    lifecycle.record('e', alert, first, 'start', 0);
    expect(lifecycle.step('e', 'update', 30_000)).toEqual({ kind: 'skip', reason: 'rate-limited' });
    const update = lifecycle.step('e', 'update', 60_000);
    expect(update).toEqual({ kind: 'update', first, sequence: 1 });
    lifecycle.record('e', update, { ...first, identifier: 'u1' }, 'update', 60_000);
    expect(lifecycle.step('e', 'update', 61_000)).toEqual({ kind: 'skip', reason: 'rate-limited' });
    const end = lifecycle.step('e', 'end', 61_000);
    expect(end).toEqual({ kind: 'end', first });
    lifecycle.record('e', end, first, 'end', 61_000);
    expect(lifecycle.step('e', 'update', 200_000)).toEqual({ kind: 'skip', reason: 'ended' });
  });

  it('forgets ended events after a while and keeps at most maxEvents', () => {
    const lifecycle = new AlertLifecycle({ updateEveryMs: 0, maxEvents: 3, endedTtlMs: 1000 });
    const first = { sender: 's', identifier: 'i', sent: 0 };
    for (const ref of ['a', 'b', 'c', 'd']) lifecycle.record(ref, { kind: 'alert' }, first, 'start', 0);
    expect(lifecycle.size).toBe(3);
    expect(lifecycle.step('a', 'update', 0)).toEqual({ kind: 'alert' });
    lifecycle.record('b', { kind: 'end', first }, first, 'end', 0);
    expect(lifecycle.step('b', 'update', 999)).toEqual({ kind: 'skip', reason: 'ended' });
    lifecycle.step('c', 'update', 1000);
    expect(lifecycle.size).toBe(2);
  });
});

describe('eventSnapshot: wait for the snapshot', () => {
  let journal: EventJournal;
  beforeAll(() => {
    journal = new EventJournal({ dataDir: mkdtempSync(path.join(tmpdir(), 'glimpser-journal-')) });
    journal.open();
  });
  afterAll(() => journal.close());

  it('waits for the journal to write the snapshot, then reads it with its path relative to the data dir', async () => {
    const event = journal.insert({ camera: 'porch', type: 'motion', startTime: START });
    const waiting = eventSnapshot(journal, event.id, 60_000);
    await journal.saveSnapshot(event.id, jpeg);
    const { snapshot, missing } = await waiting;
    expect(missing).toBeNull();
    expect(snapshot?.bytes.equals(jpeg)).toBe(true);
    expect(snapshot?.path).toBe(path.relative(path.dirname(path.dirname(journal.file)), journal.snapshotPath(event.id)!));
  });

  it('goes without it at the deadline, or at once when it cannot come, and says why', async () => {
    const event = journal.insert({ camera: 'porch', type: 'motion', startTime: START });
    expect(await eventSnapshot(journal, event.id, 20)).toEqual({ snapshot: null, missing: `no snapshot of event ${event.id} within 20 ms` });
    expect((await eventSnapshot(undefined, event.id, 20)).missing).toMatch(/no event journal/);
    expect((await eventSnapshot(journal, null, 20)).missing).toMatch(/no journal id/);
    expect((await eventSnapshot(journal, '01KBZ0000000000000000000ZZ', 20)).missing).toMatch(/is not in the journal/);
    const aborted = new AbortController();
    const waiting = eventSnapshot(journal, event.id, 60_000, aborted.signal);
    aborted.abort();
    expect((await waiting).snapshot).toBeNull();
  });

  it('formats references with the sent time the first alert wrote', () => {
    expect(referenceOf({ sender: 'a', identifier: 'b', sent: START })).toBe(`a,b,${formatCapTime(new Date(START))}`);
  });
});
