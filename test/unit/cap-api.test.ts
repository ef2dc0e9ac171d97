import { readFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import type { StoredAlert } from '../../core/alerts/index';
import { activeAlerts } from '../../core/alerts/atom';
import { loadLibxml } from '../../core/alerts/cap/libxml';
import { eventId } from '../../core/store/event-id';
import { silentLogger } from '../../core/log/logger';
import { capRouter, type CapVerdict } from '../../runtime/api/cap';
import { openTestAlertService, sampleAlert, type TestAlertService } from '../support/alerts';
import { signedInAs } from '../support/api-auth';
import { expectProblem } from '../support/problem';

/** The public CAP material beside the clone (see its README.md for sources and expected results). */
const CAP_DATA = path.resolve(__dirname, '../../../shared/testdata/cap');
const read = (file: string) => readFileSync(path.join(CAP_DATA, file));
const ATOM = 'http://www.w3.org/2005/Atom';
const NOW = Date.UTC(2026, 11, 7, 20, 0, 0);

let alerts: TestAlertService;
let server: Server;
let base: string;

beforeAll(async () => {
  alerts = openTestAlertService();
  const app = express();
  app.use('/api', capRouter({ alerts: alerts.service, log: silentLogger, now: () => NOW, auth: signedInAs('viewer') }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await alerts.close();
});

async function validate(
  body: string | Buffer,
  query = '',
  type = 'application/cap+xml',
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/cap/validate${query}`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('POST /api/cap/validate', () => {
  it('finds the CAP 1.2 Appendix A example valid, with each profile’s findings (CAP 1.2 §3.4)', async () => {
    const { status, body } = await validate(read('oasis-spec-examples/cap12_appendix_A1.xml'));
    expect(status).toBe(200);
    const verdict = body as unknown as CapVerdict;
    expect(verdict).toMatchObject({ valid: true, version: '1.2', xsd: [] });
    expect(Object.keys(verdict.profiles).sort()).toEqual(['ipaws-1.0', 'oasis-strict']);
    expect(verdict.profiles['oasis-strict']).toEqual({ errors: expect.any(Array), recommendations: expect.any(Array) });
    // IPAWS wants <code>IPAWSv1.0</code>, which the OASIS example does not carry.
    expect(verdict.profiles['ipaws-1.0']?.errors.map((e) => e.message).join('\n')).toMatch(/IPAWSv1\.0/);
  });

  it('checks only the profiles asked for, and names an unknown one', async () => {
    const { body } = await validate(read('oasis-spec-examples/cap12_appendix_A1.xml'), '?profile=oasis-strict', 'text/xml; charset=utf-8');
    expect(Object.keys((body as unknown as CapVerdict).profiles)).toEqual(['oasis-strict']);
    expectProblem(await validate('<alert/>', '?profile=nws'), 400, {
      code: 'invalid_request',
      detail: /^profile: expected one or more of oasis-strict, ipaws-1.0.*got "nws"/,
      field: 'profile',
    });
    expectProblem(await validate('<alert/>', '?colour=red'), 400, { detail: /^colour: unknown query parameter/, field: 'colour' });
  });

  it('reports each XSD problem of a negative file with its XPath and line, and runs no profile', async () => {
    const { status, body } = await validate(read('negative/wmo_tg_invalid_schema.xml'), '', 'application/xml');
    expect(status).toBe(200);
    const verdict = body as unknown as CapVerdict;
    expect(verdict.valid).toBe(false);
    expect(verdict.xsd[0]).toMatchObject({ xpath: '/alert/info[1]/audience', line: 16, message: expect.stringContaining('audience') });
    expect(verdict.profiles).toEqual({ 'oasis-strict': null, 'ipaws-1.0': null });
  });

  it('reports a schema-valid alert that breaks a profile rule (an Update with empty references, CAP 1.2 §3.2.1)', async () => {
    const verdict = (await validate(read('negative/google_canada_errors.cap'), '?profile=oasis-strict')).body as unknown as CapVerdict;
    expect(verdict.valid).toBe(true);
    expect(verdict.profiles['oasis-strict']?.errors).toContainEqual(expect.objectContaining({ xpath: '/alert/references' }));
  });

  it('refuses a document over 1 MiB with 413 on its Content-Length, before reading the body', async () => {
    // Only the headers are sent: the answer comes without the 2 MB ever being written.
    const answer = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/cap/validate`, { method: 'POST', headers: { 'content-type': 'application/xml', 'content-length': 2_000_000 } });
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
          req.destroy();
        });
      });
      req.flushHeaders();
    });
    expectProblem(answer, 413, { code: 'too_large', detail: 'body: 2000000 bytes; the limit for a CAP document is 1048576 bytes (1 MiB)' });
  });

  it('refuses a 2 MB body sent without a length (chunked) with 413 once it passes 1 MiB', async () => {
    const big = read('oasis-spec-examples/cap12_appendix_A1.xml')
      .toString('utf8')
      .replace('<description>', `<description>${'x'.repeat(2_000_000)}`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/cap/validate`, { method: 'POST', headers: { 'content-type': 'application/xml', 'transfer-encoding': 'chunked' } });
      req.once('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      // The server stops reading and closes: a write that fails after the answer is expected.
      req.once('error', (err: NodeJS.ErrnoException) => (['EPIPE', 'ECONNRESET'].includes(err.code ?? '') ? undefined : reject(err)));
      req.end(big);
    });
    expect(status).toBe(413);
  });

  it('refuses a billion-laughs document with 400 naming its DOCTYPE', async () => {
    const lol = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, n) => `<!ENTITY lol${n + 1} "${`&lol${n === 0 ? '' : n};`.repeat(10)}">`)];
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE alert [\n${lol.join('\n')}\n]>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>&lol9;</note></alert>`;
    expectProblem(await validate(bomb), 400, { code: 'invalid_request', detail: /^body: CAP document refused at line 2: it declares a DOCTYPE/ });
  });

  it('refuses a CAP 1.1 alert with 400 saying it is CAP 1.1', async () => {
    expectProblem(await validate(read('cap11-for-reference/google_weather.cap')), 400, { detail: /CAP 1\.1 is not supported/ });
  });

  it('refuses another content type with 415 naming the header, and an empty body with 400', async () => {
    expectProblem(await validate('{"alert":1}', '', 'application/json'), 415, {
      code: 'unsupported_media_type',
      detail: 'Content-Type: expected application/xml, application/cap+xml, text/xml (a CAP 1.2 document), got "application/json"',
    });
    expectProblem(await validate(''), 400, { detail: 'body: expected a CAP 1.2 document, got an empty body' });
  });
});

/** A stored alert whose CAP document has `extra` inserted before `<headline>` or after `<event>`. */
function withInfo(alert: StoredAlert, beforeHeadline: string, afterEvent = ''): StoredAlert {
  return {
    ...alert,
    capXml: alert.capXml.replace('<headline>', `${beforeHeadline}<headline>`).replace('</event>', `</event>${afterEvent}`),
  };
}

describe('GET /api/cap/alerts.atom', () => {
  it('lists the active alerts newest first, each linking to its CAP document (RFC 4287)', async () => {
    const at = (minutes: number) => NOW - 60 * 60_000 + minutes * 60_000;
    const first = (sent: number, headline = 'Motion at porch') => sampleAlert({ sent, eventId: eventId(sent), headline });
    const ended = first(at(1));
    const updated = first(at(2));
    const expired = withInfo(first(at(3)), '<expires>2026-12-07T19:30:00-00:00</expires>');
    const allClear = withInfo(first(at(4)), '', '<responseType>AllClear</responseType>');
    const escaped = first(at(5), 'Person at <door> & "gate"');
    const later = withInfo(first(at(6)), '<expires>2026-12-07T22:00:00+01:00</expires>');
    const update = sampleAlert({ sent: at(7), eventId: updated.eventId, msgType: 'Update', headline: 'Still moving' });
    const cancel = sampleAlert({ sent: at(8), eventId: ended.eventId, msgType: 'Cancel' });
    for (const alert of [ended, updated, expired, allClear, escaped, later, update, cancel]) await alerts.service.enqueue(alert, []);

    const res = await fetch(`${base}/cap/alerts.atom`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const libxml = await loadLibxml();
    const doc = libxml.XmlDocument.fromString(await res.text());
    try {
      const ns = { a: ATOM };
      const text = (xpath: string) => doc.find(xpath, ns).map((node) => node.content);
      expect(doc.root.name).toBe('feed');
      expect(doc.root.namespaceUri).toBe(ATOM);
      expect(text('/a:feed/a:entry/a:title')).toEqual(['Still moving', 'Motion at porch', 'Person at <door> & "gate"']);
      const ids = [update, later, escaped].map((alert) => alert.id);
      expect(text('/a:feed/a:entry/a:id')).toEqual(ids.map((id) => `${base}/alerts/${id}/cap.xml`));
      expect(text('/a:feed/a:entry/a:link[@rel="alternate"][@type="application/cap+xml"]/@href')).toEqual(ids.map((id) => `${base}/alerts/${id}/cap.xml`));
      expect(text('/a:feed/a:entry[1]/a:updated')).toEqual([new Date(update.sent).toISOString()]);
      expect(text('/a:feed/a:updated')).toEqual([new Date(update.sent).toISOString()]);
      expect(text('/a:feed/a:link[@rel="self"]/@href')).toEqual([`${base}/cap/alerts.atom`]);
      expect(text('/a:feed/a:author/a:name')).toEqual(['Glimpser']);
    } finally {
      doc.dispose();
    }
  });

  it('takes no query parameters', async () => {
    await expectProblem(await fetch(`${base}/cap/alerts.atom?limit=5`), 400, {
      detail: 'limit: unknown query parameter; this feed takes none',
      field: 'limit',
    });
  });
});

describe('active alerts for the feed', () => {
  it('reads the outbox page by page and stops at the bound', async () => {
    const stored = Array.from({ length: 5 }, (_, i) => sampleAlert({ sent: NOW - i * 1000, eventId: eventId(NOW - i * 1000) }));
    const pages = [stored.slice(0, 2), stored.slice(2, 4), stored.slice(4)];
    const cursors: Array<string | undefined> = [];
    const list = (query: { cursor?: string }) => {
      cursors.push(query.cursor);
      const index = query.cursor === undefined ? 0 : Number(query.cursor);
      return {
        alerts: pages[index].map((alert) => ({ alert, deliveries: { pending: 0, delivered: 0, dead: 0 } })),
        next: index + 1 < pages.length ? String(index + 1) : null,
      };
    };
    expect((await activeAlerts(list, NOW, 3)).map((a) => a.id)).toEqual(stored.slice(0, 3).map((a) => a.id));
    expect(cursors).toEqual([undefined, '1']);
    expect(await activeAlerts(list, NOW)).toHaveLength(5);
  });
});
