import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import mqtt from 'mqtt';
import { checkCapProfile, parseCap } from '../../core/alerts/cap';
import { apiToken, editorLogin, REPO_ROOT, startGlimpser, type RunningGlimpser } from '../support/glimpser-process';
import { expectProblem } from '../support/problem';
import { eventually, findTool, waitFor } from '../support/tools';

/**
 * Issue 11, acceptance 1: a fresh start's default flow turns a crossing of the demo camera's box into one CAP 1.2
 * alert — an Alert when the motion event starts, then a Cancel (or an all-clear Update) referencing it when it ends —
 * that validates against the official OASIS XSD (checked by libxml2's own xmllint, independently of Glimpser) and the
 * oasis-strict profile, is listed at /api/alerts, announced on MQTT `glimpser/alerts`, and delivered nowhere while the
 * flow's notifiers are disabled.
 */
const CAP_XSD = path.join(REPO_ROOT, '..', 'shared', 'testdata', 'cap', 'schema', 'CAP-v1.2.xsd');
/** The demo box crosses for 8 s of every 30 s; a motion event ends 3 s after it leaves. Two cycles and some slack. */
const CROSSING_MS = 90000;

/** A stored alert as /api/alerts and the `glimpser/alerts` envelope show it. */
interface ApiAlert {
  id: string;
  identifier: string;
  msgType: 'Alert' | 'Update' | 'Cancel';
  references: string | null;
  eventId: string | null;
  camera: string;
  capUrl: string;
  deliveries?: { pending: number; delivered: number; dead: number };
}
interface Envelope {
  type: 'new' | 'update' | 'end';
  alert: ApiAlert & { capXml: string };
}

/** The end of an event in CAP: a Cancel, or the all-clear Update when cap-alert is set to end that way. */
function ends(envelope: Envelope): boolean {
  return envelope.type === 'end' || (envelope.type === 'update' && envelope.alert.capXml.includes('<responseType>AllClear</responseType>'));
}

/** What xmllint says of a document against the OASIS CAP 1.2 XSD (read from stdin, so nothing is written). */
function xmllint(xml: string): { status: number | null; output: string } {
  const run = spawnSync(findTool('xmllint'), ['--noout', '--nonet', '--schema', CAP_XSD, '-'], { input: xml, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('alerts from the default flow of a fresh start (issue 11, acceptance 1)', () => {
  let app: RunningGlimpser;
  let token: string;
  let client: mqtt.MqttClient;
  /** Every `glimpser/alerts` message since the start, in order; `alerts` emits each as it comes. */
  const envelopes: Envelope[] = [];
  const alerts = new EventEmitter();

  const api = async <T>(route: string): Promise<T> => {
    const res = await fetch(`${app.base}${route}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET ${route} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const capXml = async (alert: ApiAlert): Promise<{ type: string | null; xml: string }> => {
    const res = await fetch(`${app.base}/api/alerts/${alert.id}/cap.xml`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return { type: res.headers.get('content-type'), xml: await res.text() };
  };

  /** The first event whose Alert and end both came over MQTT after we subscribed (an earlier start is skipped). */
  const endedEvent = async (): Promise<{ started: Envelope; ended: Envelope }> => {
    const pair = (ended: Envelope) => {
      const started = envelopes.find((e) => e.type === 'new' && e.alert.eventId !== null && e.alert.eventId === ended.alert.eventId);
      return started && ends(ended) ? { started, ended } : undefined;
    };
    const seen = envelopes.map(pair).find(Boolean);
    if (seen) return seen;
    return pair(await waitFor<Envelope>(alerts, 'alert', (e) => pair(e) !== undefined, CROSSING_MS))!;
  };

  beforeAll(async () => {
    app = await startGlimpser();
    token = await apiToken(app);
    client = mqtt.connect(`mqtt://127.0.0.1:${app.mqttPort}`, { username: 'admin', password: app.password, reconnectPeriod: 0, connectTimeout: 5000 });
    client.on('message', (topic, payload) => {
      if (topic !== 'glimpser/alerts') return;
      const envelope = JSON.parse(payload.toString('utf8')) as Envelope;
      envelopes.push(envelope);
      alerts.emit('alert', envelope);
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync('glimpser/alerts', { qos: 1 });
  });

  afterAll(async () => {
    await client?.endAsync(true);
    if (app) await app.stop();
  });

  it('ships the notifiers in the default flow, disabled until configured and never started', async () => {
    const editorToken = await editorLogin(app);
    const flows = (await (await fetch(`${app.base}/editor/flows`, { headers: { authorization: `Bearer ${editorToken}` } })).json()) as Array<
      Record<string, unknown> & { id: string; type: string }
    >;
    const capAlert = flows.find((n) => n.type === 'cap-alert')!;
    const notifiers = flows.filter((n) => n.type.startsWith('notify-'));
    expect(notifiers.map((n) => n.type).sort()).toEqual(['notify-email', 'notify-push', 'notify-sms', 'notify-webhook']);
    for (const notifier of notifiers) {
      expect([notifier.type, notifier.d]).toEqual([notifier.type, true]);
      expect((capAlert.wires as string[][])[0]).toContain(notifier.id);
      // Node-RED never started it, so no channel is registered under its id: the notifier test has nothing to send through.
      const test = await fetch(`${app.base}/api/notifiers/${notifier.id}/test`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      await expectProblem(test, 404, { detail: `no notifier "${notifier.id}": no deployed notify-* node has this id` });
    }
  });

  it(
    'turns one crossing of the demo box into an Alert and a Cancel referencing it, valid per the CAP 1.2 XSD and oasis-strict, on MQTT and delivered nowhere',
    async () => {
      const { started, ended } = await endedEvent();
      const eventId = started.alert.eventId!;

      // The API lists both (they are stored before they are published), and exactly one Alert for the event.
      const listed = await eventually(
        async () => {
          const page = await api<{ alerts: ApiAlert[] }>(`/api/alerts?camera=demo&limit=500`);
          const ofEvent = page.alerts.filter((a) => a.eventId === eventId);
          return ofEvent.some((a) => a.id === ended.alert.id) ? ofEvent : undefined;
        },
        15000,
        `alerts of event ${eventId} at /api/alerts`,
      );
      expect(listed.filter((a) => a.msgType === 'Alert').map((a) => a.id)).toEqual([started.alert.id]);
      const first = listed.find((a) => a.id === started.alert.id)!;
      const last = listed.find((a) => a.id === ended.alert.id)!;
      expect(first).toMatchObject({ msgType: 'Alert', references: null, camera: 'demo', capUrl: `/api/alerts/${first.id}/cap.xml` });
      expect(['Cancel', 'Update']).toContain(last.msgType);

      const firstCap = await capXml(first);
      const lastCap = await capXml(last);
      expect(firstCap.type).toMatch(/^application\/cap\+xml/);

      // CAP 1.2 §3.2.1: references is "sender,identifier,sent" of the alert it cancels or updates.
      const firstParsed = await parseCap(firstCap.xml);
      const lastParsed = await parseCap(lastCap.xml);
      const reference = `${firstParsed.sender},${firstParsed.identifier},${firstParsed.sent}`;
      expect(last.references).toBe(reference);
      expect(lastParsed.references).toBe(reference);
      expect(lastParsed.msgType).toBe(last.msgType);
      if (last.msgType === 'Update') expect(lastParsed.info?.[0].responseType).toContain('AllClear');

      const documents = [
        { name: 'Alert', xml: firstCap.xml, parsed: firstParsed },
        { name: last.msgType, xml: lastCap.xml, parsed: lastParsed },
      ];
      for (const { name, xml, parsed } of documents) {
        const lint = xmllint(xml);
        expect([name, lint.status, lint.output.trim()]).toEqual([name, 0, '- validates']);
        expect([name, checkCapProfile(parsed, 'oasis-strict').errors]).toEqual([name, []]);
      }

      // The MQTT envelopes carry the documents the API serves.
      expect(started.alert).toMatchObject({ id: first.id, msgType: 'Alert', capXml: firstCap.xml });
      expect(ended.alert).toMatchObject({ id: last.id, msgType: last.msgType, references: reference, capXml: lastCap.xml });

      // Disabled notifiers never started, so nothing was queued for either alert.
      for (const alert of [first, last]) {
        expect(alert.deliveries).toEqual({ pending: 0, delivered: 0, dead: 0 });
        const detail = await api<{ deliveries: unknown[]; attempts: unknown[] }>(`/api/alerts/${alert.id}`);
        expect([alert.msgType, detail.deliveries, detail.attempts]).toEqual([alert.msgType, [], []]);
      }
    },
    CROSSING_MS + 60000,
  );
});
