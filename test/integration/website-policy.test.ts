import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BrowserPool } from '../../core/capture/browser-pool';
import { captureWebsite, type WebsiteCaptureOptions } from '../../core/capture/website';
import { metrics } from '../../core/metrics';
import { eventually, metricValue, recordingLogger } from '../support/tools';
import { selfSignedCertificate } from '../support/smtp-server';
import { BASIC_AUTH, dominantColour } from '../support/web-pages';

/**
 * Issue 12, finding 6: a website camera's page must not make Glimpser's browser reach this machine's other services
 * or the cloud metadata service, by redirect, frame, image, fetch or WebSocket, and its basic-auth credentials go to
 * the configured origin only. Each server here records every connection and request that reaches it.
 */

interface Recorded {
  path: string;
  authorization: string | undefined;
}

interface Site {
  origin: string;
  port: number;
  requests: Recorded[];
  /** TCP connections accepted, CONNECT tunnels and WebSocket attempts included. */
  connections: number;
  close(): Promise<void>;
}

const VIEWPORT = { width: 320, height: 200 };
const AUTH_HEADER = `Basic ${Buffer.from(`${BASIC_AUTH.username}:${BASIC_AUTH.password}`).toString('base64')}`;

async function serve(route: (req: IncomingMessage, res: ServerResponse) => void, tls = false): Promise<Site> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    site.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    route(req, res);
  };
  const server: Server = tls ? createTlsServer(selfSignedCertificate(), handle) : createServer(handle);
  const site: Site = { origin: '', port: 0, requests: [], connections: 0, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  server.on('connection', () => (site.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  site.port = (server.address() as AddressInfo).port;
  site.origin = `${tls ? 'https' : 'http'}://127.0.0.1:${site.port}`;
  return site;
}

function html(res: ServerResponse, body: string, head = ''): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(
    `<!doctype html><html><head><meta charset="utf-8">${head}<style>html,body{margin:0;height:100%;background:rgb(0,200,0)}</style></head><body>${body}</body></html>`,
  );
}

/** A page script that marks the page #settled once every listed load has finished, failed or been refused. */
function settleAfter(loads: string[]): string {
  return `<script>
    const waits = [...document.querySelectorAll('img, iframe')].map((el) => new Promise((done) => { el.onload = done; el.onerror = done; }));
    ${loads.join('\n')}
    Promise.allSettled(waits).then(() => { const mark = document.createElement('div'); mark.id = 'settled'; document.body.appendChild(mark); });
  </script>`;
}

let site: Site;
let victim: Site;
let other: Site;
let tlsSite: Site;
let tlsOther: Site;
let pool: BrowserPool;
const { logger, entries } = recordingLogger();

/** URLs the policy proxy refused, as it logged them, with its reason. */
function refused(): Array<{ url: string; reason: string }> {
  return entries
    .filter((entry) => entry.msg === 'website request refused by the URL policy')
    .map((entry) => ({ url: String(entry.obj.url), reason: String(entry.obj.reason) }));
}

beforeAll(async () => {
  victim = await serve((_req, res) => html(res, 'the victim answered'));
  other = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/svg+xml' });
    res.end('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');
  });
  tlsOther = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/svg+xml' });
    res.end('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');
  }, true);
  tlsSite = await serve((req, res) => {
    if (req.headers.authorization !== AUTH_HEADER) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="glimpser-test"' });
      res.end();
      return;
    }
    html(res, `<img src="${tlsOther.origin}/pixel">` + settleAfter([]));
  }, true);
  const v = victim.origin;
  site = await serve((req, res) => {
    switch (req.url) {
      case '/redirect':
        res.writeHead(302, { location: `${v}/secret-redirect` });
        res.end();
        return;
      case '/meta-refresh':
        return html(res, 'leaving', `<meta http-equiv="refresh" content="0;url=${v}/secret-meta">`);
      case '/script-location':
        return html(res, `<script>location.href = '${v}/secret-script';</script>`);
      case '/embed':
        return html(
          res,
          `<iframe src="${v}/frame"></iframe><img src="${v}/img"><img src="http://victim.test:${victim.port}/by-name">` +
            '<img src="http://169.254.169.254/latest/meta-data/img"><img src="http://[::ffff:169.254.169.254]/latest/meta-data/img">' +
            settleAfter([
              `waits.push(fetch('${v}/fetch'), fetch('http://169.254.169.254/latest/meta-data/fetch'));`,
              `waits.push(new Promise((done) => { const ws = new WebSocket('ws://127.0.0.1:${victim.port}/ws'); ws.onerror = done; ws.onclose = done; }));`,
            ]),
        );
      case '/hop':
        res.writeHead(302, { location: `${other.origin}/after-hop` });
        res.end();
        return;
      case '/private':
        if (req.headers.authorization !== AUTH_HEADER) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="glimpser-test"' });
          res.end();
          return;
        }
        return html(res, `<img src="${other.origin}/pixel"><img src="/hop"><img src="/same-origin">` + settleAfter([]));
      default:
        res.writeHead(204);
        res.end();
    }
  });
  pool = new BrowserPool({
    size: 1,
    logger,
    // The TLS test servers' certificates are self-signed.
    extraArgs: ['--ignore-certificate-errors'],
    // Names under .test reach this machine, as a DNS answer chosen by an attacker would.
    lookup: async (host) => (host.endsWith('.test') ? ['127.0.0.1'] : (await lookup(host, { all: true })).map((entry) => entry.address)),
  });
});

afterAll(async () => {
  await pool.close();
  await Promise.all([site, victim, other, tlsSite, tlsOther].map((each) => each?.close()));
});

function shoot(path: string, options: Partial<WebsiteCaptureOptions> = {}): Promise<Buffer> {
  return captureWebsite(pool, { url: `${site.origin}${path}`, viewport: VIEWPORT, ...options }).then((shot) => shot.jpeg);
}

describe('a website camera behind the URL policy', () => {
  it('refuses a redirect to another service on this machine: the request never reaches it', async () => {
    await expect(shoot('/redirect')).rejects.toThrow(new RegExp(`went to ${victim.origin}/secret-redirect, which is refused: .*loopback`));
    expect(refused()).toContainEqual({ url: `${victim.origin}/secret-redirect`, reason: 'loopback' });
    expect(victim.connections).toBe(0);
  });

  it.each([
    ['/meta-refresh', '/secret-meta'],
    ['/script-location', '/secret-script'],
  ])('refuses the navigation %s makes by itself', async (path, secret) => {
    // networkIdle holds the capture until the page's own navigation has been answered, whatever it became.
    await expect(shoot(path, { networkIdle: true })).rejects.toThrow(new RegExp(`went to ${victim.origin}${secret}, which is refused: .*loopback`));
    expect(refused()).toContainEqual({ url: `${victim.origin}${secret}`, reason: 'loopback' });
    expect(victim.connections).toBe(0);
  });

  it('shoots a page whose frame, images, fetches and WebSocket aim at loopback and the metadata service, refusing each of those', async () => {
    const before = await metricValue(metrics.websiteRequestsRefusedTotal, { reason: 'link-local' });
    const jpeg = await shoot('/embed', { waitFor: '#settled' });
    expect(await dominantColour(jpeg)).toBe('green');
    const urls = refused().map((entry) => `${entry.reason} ${entry.url}`);
    expect(urls).toEqual(
      expect.arrayContaining([
        `loopback ${victim.origin}/frame`,
        `loopback ${victim.origin}/img`,
        `loopback ${victim.origin}/fetch`,
        `loopback http://victim.test:${victim.port}/by-name`,
        // A WebSocket goes through a CONNECT tunnel, which names only the host and port.
        `loopback ${victim.origin}/`,
        'link-local http://169.254.169.254/latest/meta-data/img',
        'link-local http://169.254.169.254/latest/meta-data/fetch',
        'link-local http://[::ffff:a9fe:a9fe]/latest/meta-data/img',
      ]),
    );
    expect(await metricValue(metrics.websiteRequestsRefusedTotal, { reason: 'link-local' })).toBeGreaterThanOrEqual(before + 3);
    expect(victim.connections).toBe(0);
    expect(victim.requests).toEqual([]);
  });

  it('sends basic auth to the configured origin only, not to an allow-listed second origin nor across a redirect', async () => {
    const jpeg = await shoot('/private', { basicAuth: BASIC_AUTH, waitFor: '#settled', allowHosts: [`127.0.0.1:${other.port}`] });
    expect(await dominantColour(jpeg)).toBe('green');
    const own = site.requests.filter((request) => ['/private', '/hop', '/same-origin'].includes(request.path));
    expect(own.map((request) => [request.path, request.authorization])).toEqual(
      expect.arrayContaining([
        ['/private', AUTH_HEADER],
        ['/hop', AUTH_HEADER],
        ['/same-origin', AUTH_HEADER],
      ]),
    );
    await eventually(async () => (other.requests.length >= 2 ? true : undefined), 5000, 'both requests to the second origin');
    expect(other.requests.map((request) => request.path).sort()).toEqual(['/after-hop', '/pixel']);
    expect(other.requests.map((request) => request.authorization)).toEqual([undefined, undefined]);
    expect(victim.connections).toBe(0);
  });

  it('sends basic auth through a TLS tunnel to the configured https origin only', async () => {
    const shot = await captureWebsite(pool, {
      url: `${tlsSite.origin}/private`,
      viewport: VIEWPORT,
      basicAuth: BASIC_AUTH,
      waitFor: '#settled',
      allowHosts: [`127.0.0.1:${tlsOther.port}`],
    });
    expect(await dominantColour(shot.jpeg)).toBe('green');
    expect(tlsSite.requests).toContainEqual({ path: '/private', authorization: AUTH_HEADER });
    expect(tlsOther.requests).toEqual([{ path: '/pixel', authorization: undefined }]);
  });

  it('refuses every request between captures', async () => {
    const session = await pool.acquire();
    try {
      await session.driver.get(`${site.origin}/embed`).catch(() => undefined);
      expect(refused()).toContainEqual({ url: `${site.origin}/embed`, reason: 'idle' });
    } finally {
      await pool.release(session);
    }
    expect(victim.connections).toBe(0);
  });
});
