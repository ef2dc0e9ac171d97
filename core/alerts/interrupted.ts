import { silentLogger, type Logger } from '../log/logger';
import type { StoredEvent } from '../store/event';
import type { EventJournal } from '../store/journal';
import { buildAlert, type AlertEvent } from './build';
import { CAP_ALERT_DEFAULTS, type CapAlertSettings } from './build-settings';
import { parseCap, type CapAlert } from './cap';
import type { DeliveryTarget, StoredAlert } from './index';
import type { AlertServiceHandle } from './service';

/**
 * The Cancel (or all-clear) for the alerts of events a crash left open. cap-alert keeps an event's lifecycle in
 * memory, so after a restart it knows nothing of them: their first Alert is read back from the outbox, and the
 * end is built from it with the same builder, so it references the Alert (CAP 1.2 §3.2.1) and carries what the
 * Alert said (sender, scope, addresses, texts, area), validated against the XSD and `oasis-strict` like any other.
 */

export interface InterruptedAlertsOptions {
  logger?: Logger;
  now?: () => number;
  /**
   * How the end goes out, overriding what the first alert kept of its cap-alert node's setting (StoredAlert.endAs;
   * alerts stored before it was kept end with a Cancel).
   */
  endAs?: CapAlertSettings['endAs'];
}

export type InterruptedAlertStore = Pick<AlertServiceHandle, 'alertsOfEvent' | 'detail' | 'enqueue'>;

/** An event's end alert is a Cancel, or an Update whose identifier says all-clear (see alertIdentifier). */
function isEnd(alert: StoredAlert): boolean {
  return alert.msgType === 'Cancel' || alert.identifier.endsWith('.allclear');
}

/** `<base>/api/events/<id>` was built from the node's baseUrl; the base is what is left. */
function baseUrlOf(web: string | undefined, eventId: string): string {
  const suffix = `/api/events/${encodeURIComponent(eventId)}`;
  return web?.endsWith(suffix) ? web.slice(0, -suffix.length) : '';
}

/** The settings that rebuild what `model` said: its texts are used as they were written, as templates without placeholders. */
function settingsOf(model: CapAlert, eventId: string, endAs: CapAlertSettings['endAs']): CapAlertSettings {
  const info = model.info?.[0];
  if (!info) throw new Error(`alert ${model.identifier}: expected an <info> block to build its end from, got none`);
  const area = info.area?.[0];
  const circle = /^(\S+),(\S+)\s+(\S+)$/.exec(area?.circle?.[0]?.trim() ?? '');
  const polygon = area?.polygon?.[0];
  return {
    ...CAP_ALERT_DEFAULTS,
    sender: model.sender,
    status: model.status,
    scope: model.scope,
    addresses: model.addresses ?? '',
    restriction: model.restriction ?? '',
    category: info.category[0],
    event: info.event,
    urgency: info.urgency,
    certainty: info.certainty,
    // No AI description comes with the end, so the "none" severity is the one used: the Alert's.
    severityNone: info.severity,
    headline: info.headline ?? '',
    description: info.description ?? '',
    instruction: info.instruction ?? '',
    language: info.language ?? CAP_ALERT_DEFAULTS.language,
    areaShape: polygon ? 'polygon' : circle ? 'circle' : 'none',
    areaDesc: area?.areaDesc ?? '',
    polygon: polygon ?? '',
    latitude: circle ? Number(circle[1]) : 0,
    longitude: circle ? Number(circle[2]) : 0,
    radiusKm: circle ? Number(circle[3]) : 0,
    baseUrl: baseUrlOf(info.web, eventId),
    endAs,
  };
}

/** The notifier and target of every delivery of the event's alerts, each once. */
function targetsOf(alerts: StoredAlert[], store: InterruptedAlertStore): DeliveryTarget[] {
  const targets = new Map<string, DeliveryTarget>();
  for (const alert of alerts)
    for (const { channel, notifier, target } of store.detail(alert.id)?.deliveries ?? [])
      targets.set(JSON.stringify([notifier, target]), { channel, notifier, target });
  return [...targets.values()];
}

async function endOf(event: StoredEvent, first: StoredAlert, options: InterruptedAlertsOptions): Promise<StoredAlert> {
  const model = await parseCap(first.capXml);
  const info = model.info?.[0];
  const alertEvent: AlertEvent = {
    id: event.id,
    // The Alert's ref, so the end gets the identifier and incident cap-alert would have given it.
    ref: info?.parameter?.find((pair) => pair.valueName === 'glimpser:event')?.value ?? event.id,
    camera: event.camera,
    type: event.type,
    zones: event.zones,
    startTime: event.startTime,
    endTime: event.endTime,
    score: event.score,
  };
  return buildAlert(
    {
      step: { kind: 'end', first: { sender: model.sender, identifier: first.identifier, sent: first.sent } },
      event: alertEvent,
      ai: null,
      gate: null,
      snapshot: null,
      snapshotMissing: null,
      now: (options.now ?? Date.now)(),
    },
    settingsOf(model, event.id, options.endAs ?? first.endAs ?? 'cancel'),
  );
}

/**
 * For each closed event that has an Alert but no end yet, stores its end and sends it to every notifier and target
 * its alerts went to; the deliveries wait in the outbox until those notifiers register. An alert that cannot be
 * ended (its document no longer parses or validates) is logged and skipped: it must not stop Glimpser starting.
 * Returns the ends stored.
 */
export async function cancelInterruptedAlerts(
  events: StoredEvent[],
  store: InterruptedAlertStore,
  options: InterruptedAlertsOptions = {},
): Promise<StoredAlert[]> {
  const log = options.logger ?? silentLogger;
  const ends: StoredAlert[] = [];
  for (const event of events) {
    const alerts = store.alertsOfEvent(event.id);
    const first = alerts.find((alert) => alert.msgType === 'Alert');
    if (!first || alerts.some(isEnd)) continue;
    try {
      const end = await endOf(event, first, options);
      const deliveries = await store.enqueue(end, targetsOf(alerts, store));
      log.info(
        { event: event.id, camera: event.camera, alert: first.id, end: end.id, msgType: end.msgType, deliveries: deliveries.length },
        'end of an interrupted event alerted',
      );
      ends.push(end);
    } catch (err) {
      log.warn({ event: event.id, alert: first.id, err: (err as Error).message }, 'interrupted event left without the end of its alert');
    }
  }
  return ends;
}

/**
 * The start step: closes the events the last run left open (EventJournal.closeInterrupted) and ends their alerts.
 * Run it after the journal, the bus publisher and the alert service are open and before Node-RED raises events.
 */
export async function closeInterruptedEvents(
  journal: Pick<EventJournal, 'closeInterrupted'>,
  store: InterruptedAlertStore,
  options: InterruptedAlertsOptions = {},
): Promise<{ events: StoredEvent[]; ends: StoredAlert[] }> {
  const events = journal.closeInterrupted();
  return { events, ends: events.length === 0 ? [] : await cancelInterruptedAlerts(events, store, options) };
}
