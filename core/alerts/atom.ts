import { parseCap, parseCapTime } from './cap';
import type { StoredAlert } from './index';
import type { AlertPage, AlertQuery } from './outbox';

/**
 * The Atom 1.0 feed (RFC 4287) of active CAP alerts, the way public CAP publishers syndicate (each entry links to the
 * CAP document with type application/cap+xml). An alert is active while the last message about its event is not a
 * Cancel, has no `AllClear` response, and has not expired (every `<info>` with an `<expires>` in the past).
 */

/** At most this many entries: a feed reader polls it, and an alert that drops off is still in GET /api/alerts. */
export const ATOM_MAX_ENTRIES = 100;
/** How many stored alerts are looked through (newest first) to find the active ones. */
export const ATOM_SCAN_ALERTS = 1000;

export const CAP_CONTENT_TYPE = 'application/cap+xml';

/** What an alert is about: its journal event, else the alert it updates or cancels, else itself. */
function eventKey(alert: StoredAlert): string {
  if (alert.eventId) return `event:${alert.eventId}`;
  // CAP §3.2.1 references: "sender,identifier,sent" entries separated by spaces; the first is the original alert.
  const first = alert.references?.trim().split(/\s+/)[0];
  const identifier = first?.split(',')[1];
  return `identifier:${identifier ?? alert.identifier}`;
}

/** Whether a stored alert's CAP document still applies at `now`; a document that no longer parses counts as active. */
async function stillApplies(alert: StoredAlert, now: number): Promise<boolean> {
  let infos;
  try {
    infos = (await parseCap(alert.capXml)).info ?? [];
  } catch {
    return true;
  }
  if (infos.some((info) => info.responseType?.includes('AllClear'))) return false;
  const expiries = infos.map((info) => (info.expires ? parseCapTime(info.expires)?.date.getTime() : undefined));
  // Expired when every info block has expired; one without an expiry keeps the alert active.
  return expiries.length === 0 || expiries.some((at) => at === undefined || at > now);
}

/**
 * The active alerts, newest first, at most `max`: the latest message of each event, when it is not a Cancel and
 * still applies. Reads the outbox page by page, newest first, up to ATOM_SCAN_ALERTS alerts.
 */
export async function activeAlerts(list: (query: AlertQuery) => AlertPage, now: number, max = ATOM_MAX_ENTRIES): Promise<StoredAlert[]> {
  const seen = new Set<string>();
  const active: StoredAlert[] = [];
  let cursor: string | undefined;
  for (let scanned = 0; scanned < ATOM_SCAN_ALERTS && active.length < max;) {
    const page = list({ limit: 500, cursor });
    for (const { alert } of page.alerts) {
      scanned++;
      const key = eventKey(alert);
      if (seen.has(key)) continue;
      seen.add(key);
      if (alert.msgType !== 'Cancel' && (await stillApplies(alert, now))) active.push(alert);
      if (active.length >= max) break;
    }
    if (!page.next) break;
    cursor = page.next;
  }
  return active;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text and attribute values; characters XML 1.0 cannot carry at all (C0 controls but tab/LF/CR) are dropped. */
export function xmlEscape(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export interface AtomFeedOptions {
  /** The absolute URL of the feed itself (its id and rel="self" link). */
  selfUrl: string;
  /** The absolute URL of an alert's CAP document. */
  capUrl(alert: StoredAlert): string;
  /** When the feed was built (ms), its `<updated>` when there are no entries. */
  now: number;
}

/** The Atom 1.0 document for `alerts` (newest first). */
export function atomFeed(alerts: StoredAlert[], options: AtomFeedOptions): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const updated = alerts.length > 0 ? Math.max(...alerts.map((a) => a.sent)) : options.now;
  const entries = alerts.map((alert) => {
    const cap = xmlEscape(options.capUrl(alert));
    return [
      '  <entry>',
      `    <id>${cap}</id>`,
      `    <title>${xmlEscape(alert.headline || `${alert.msgType} from camera ${alert.camera}`)}</title>`,
      `    <updated>${iso(alert.sent)}</updated>`,
      `    <published>${iso(alert.sent)}</published>`,
      `    <link rel="alternate" type="${CAP_CONTENT_TYPE}" href="${cap}"/>`,
      `    <category term="${xmlEscape(alert.severity)}" label="severity"/>`,
      `    <summary>${xmlEscape(alert.description)}</summary>`,
      '  </entry>',
    ].join('\n');
  });
  const self = xmlEscape(options.selfUrl);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>${self}</id>`,
    '  <title>Glimpser active CAP alerts</title>',
    `  <updated>${iso(updated)}</updated>`,
    '  <author><name>Glimpser</name></author>',
    `  <link rel="self" type="application/atom+xml" href="${self}"/>`,
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}
