import { buildAlert, referenceOf, type AlertEvent } from '../../core/alerts/build';
import { CAP_ALERT_DEFAULTS, type CapAlertSettings } from '../../core/alerts/build-settings';
import { checkCapProfile, parseCap, validateCapXml } from '../../core/alerts/cap';
import type { DeliveryTarget, StoredAlert } from '../../core/alerts';
import { cancelInterruptedAlerts } from '../../core/alerts/interrupted';
import type { Logger } from '../../core/log/logger';
import type { StoredEvent } from '../../core/store/event';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';

const START = Date.UTC(2026, 11, 7, 20, 0, 0);
const EVENT_ID = '01KBZ0000000000000000000AB';
/** The event as the journal closed it at start: ended at its last update, marked interrupted. */
const CLOSED: StoredEvent = {
  id: EVENT_ID,
  camera: 'porch',
  type: 'motion',
  subtype: null,
  startTime: START,
  endTime: START + 9000,
  score: 0.4,
  boxes: [],
  zones: ['door'],
  snapshot: null,
  kept: false,
  data: { interrupted: true },
  createdAt: START,
  updatedAt: START + 60_000,
};
const OPEN: AlertEvent = { id: EVENT_ID, ref: EVENT_ID, camera: 'porch', type: 'motion', zones: ['door'], startTime: START, endTime: null, score: 0.4 };
const WEBHOOK: DeliveryTarget = { channel: 'webhook', notifier: 'hook', target: 'http://127.0.0.1:9/hook' };
const EMAIL: DeliveryTarget = { channel: 'email', notifier: 'mail', target: 'guard@example.org' };

let alerts: TestAlertService;

beforeEach(() => {
  alerts = openTestAlertService();
});

afterEach(async () => {
  await alerts.close();
});

/** The event's first Alert as cap-alert made and stored it, then as each notifier enqueued it to its targets. */
async function alertOf(settings: Partial<CapAlertSettings> = {}, targets: DeliveryTarget[] = [WEBHOOK, EMAIL]): Promise<StoredAlert> {
  const alert = await buildAlert(
    { step: { kind: 'alert' }, event: OPEN, ai: null, gate: null, snapshot: null, snapshotMissing: null, now: START + 2500 },
    { ...CAP_ALERT_DEFAULTS, description: 'Someone at the door.', ...settings },
  );
  await alerts.service.enqueue(alert, []);
  for (const target of targets) await alerts.service.enqueue(alert, [target]);
  return alert;
}

function warnings(lines: string[]): Logger {
  const log: Logger = {
    error: () => undefined,
    warn: (obj: unknown, msg?: string) => lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`),
    info: () => undefined,
    debug: () => undefined,
    child: () => log,
  };
  return log;
}

describe('cancelInterruptedAlerts', () => {
  it('ends the Alert of an interrupted event with a valid CAP Cancel referencing it (CAP 1.2 §3.2.1)', async () => {
    const first = await alertOf();
    const [cancel] = await cancelInterruptedAlerts([CLOSED], alerts.service, { now: () => START + 61_000 });

    expect(cancel).toMatchObject({
      msgType: 'Cancel',
      identifier: `glimpser.${EVENT_ID}.cancel`,
      references: referenceOf({ sender: 'glimpser', identifier: first.identifier, sent: first.sent }),
      eventId: EVENT_ID,
      camera: 'porch',
      headline: 'motion on porch (ended)',
      description: 'Someone at the door.',
    });
    expect(await validateCapXml(cancel.capXml)).toEqual([]);
    const model = await parseCap(cancel.capXml);
    expect(checkCapProfile(model, 'oasis-strict').errors).toEqual([]);
    expect(model).toMatchObject({ sender: 'glimpser', scope: 'Private', addresses: 'operators', incidents: EVENT_ID });
    expect(model.info?.[0]).toMatchObject({ urgency: 'Past', severity: 'Unknown', event: 'motion' });
    expect(alerts.service.alertsOfEvent(EVENT_ID).map((alert) => alert.msgType)).toEqual(['Alert', 'Cancel']);
  });

  it('sends the Cancel to the same notifiers and targets as the Alert went to', async () => {
    await alertOf();
    const [cancel] = await cancelInterruptedAlerts([CLOSED], alerts.service);
    const deliveries = alerts.service.detail(cancel.id)?.deliveries ?? [];
    expect(deliveries.map(({ channel, notifier, target }) => ({ channel, notifier, target }))).toEqual(expect.arrayContaining([WEBHOOK, EMAIL]));
    expect(deliveries).toHaveLength(2);
    expect(deliveries.every((delivery) => delivery.status === 'pending')).toBe(true);
  });

  it('keeps what the Alert said: its sender, scope, texts, area and links', async () => {
    const settings: Partial<CapAlertSettings> = {
      sender: 'cams@example.org',
      scope: 'Restricted',
      restriction: 'staff only',
      headline: 'Someone at {{camera}}',
      instruction: 'Check the door.',
      areaShape: 'circle',
      areaDesc: 'Front porch',
      latitude: 52.5,
      longitude: 13.4,
      radiusKm: 0.1,
      baseUrl: 'https://cams.example.org',
    };
    await alertOf(settings);
    const [cancel] = await cancelInterruptedAlerts([CLOSED], alerts.service);
    const model = await parseCap(cancel.capXml);
    expect(checkCapProfile(model, 'oasis-strict').errors).toEqual([]);
    expect(model).toMatchObject({ sender: 'cams@example.org', scope: 'Restricted', restriction: 'staff only' });
    expect(model.info?.[0]).toMatchObject({
      headline: 'Someone at porch (ended)',
      instruction: 'Check the door.',
      web: `https://cams.example.org/api/events/${EVENT_ID}`,
      area: [{ areaDesc: 'Front porch', circle: ['52.5,13.4 0.1'] }],
    });
  });

  it('sends an all-clear Update instead when asked to', async () => {
    await alertOf();
    const [end] = await cancelInterruptedAlerts([CLOSED], alerts.service, { endAs: 'allclear' });
    expect(end).toMatchObject({ msgType: 'Update', identifier: `glimpser.${EVENT_ID}.allclear` });
    expect((await parseCap(end.capXml)).info?.[0].responseType).toEqual(['AllClear']);
  });

  it("ends the way the Alert's cap-alert node was set: an all-clear when its end is set to all-clear", async () => {
    const first = await alertOf({ endAs: 'allclear' });
    expect(alerts.service.getAlert(first.id)?.endAs).toBe('allclear');
    const [end] = await cancelInterruptedAlerts([CLOSED], alerts.service);
    expect(end).toMatchObject({ msgType: 'Update', identifier: `glimpser.${EVENT_ID}.allclear`, endAs: 'allclear' });
    expect((await parseCap(end.capXml)).info?.[0].responseType).toEqual(['AllClear']);
  });

  it('sends nothing for an event without alerts or whose alert has ended already', async () => {
    const first = await alertOf();
    await cancelInterruptedAlerts([CLOSED], alerts.service);
    expect(await cancelInterruptedAlerts([CLOSED], alerts.service)).toEqual([]);
    expect(await cancelInterruptedAlerts([{ ...CLOSED, id: '01KBZ0000000000000000000CD' }], alerts.service)).toEqual([]);
    expect(
      alerts.service
        .alertsOfEvent(EVENT_ID)
        .filter((alert) => alert.id !== first.id)
        .map((alert) => alert.msgType),
    ).toEqual(['Cancel']);
  });

  it('logs and skips an alert it cannot end, and ends the others', async () => {
    const broken = sampleAlert({ eventId: '01KBZ0000000000000000000CD', capXml: '<alert>not CAP</alert>' });
    await alerts.service.enqueue(broken, [WEBHOOK]);
    await alertOf();
    const lines: string[] = [];
    const ends = await cancelInterruptedAlerts([{ ...CLOSED, id: '01KBZ0000000000000000000CD' }, CLOSED], alerts.service, { logger: warnings(lines) });
    expect(ends.map((end) => end.eventId)).toEqual([EVENT_ID]);
    expect(lines).toEqual([expect.stringContaining('interrupted event left without the end of its alert')]);
    expect(lines[0]).toContain(broken.id);
  });
});
