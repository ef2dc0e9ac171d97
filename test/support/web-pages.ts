import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import sharp from 'sharp';

/** Colours the pages paint, so tests can tell by pixels which state a screenshot caught. */
export const COLOURS = {
  green: { r: 0, g: 200, b: 0 },
  red: { r: 220, g: 0, b: 0 },
  blue: { r: 0, g: 0, b: 230 },
  white: { r: 255, g: 255, b: 255 },
  black: { r: 0, g: 0, b: 0 },
  orange: { r: 255, g: 140, b: 0 },
  purple: { r: 130, g: 0, b: 160 },
  grey: { r: 128, g: 128, b: 128 },
} as const;

export type ColourName = keyof typeof COLOURS;

export const BASIC_AUTH = { username: 'viewer', password: 's3cret-Pa55' };
export const LATE_AFTER_MS = 1500;
export const SLOW_DATA_MS = 1000;
export const TALL_PAGE_PX = 2000;

/** What the stealth page saw of the browser, as it reported it back. */
export interface AutomationReport {
  webdriver: string;
  userAgent: string;
  /** The User-Agent header of the page request itself. */
  headerUserAgent: string;
}

export interface WebPages {
  readonly baseUrl: string;
  /** The latest report from /automation. */
  lastReport(): AutomationReport | null;
  /** Authorization headers the server was sent, in order. */
  readonly authorizations: string[];
  close(): Promise<void>;
}

function css({ r, g, b }: { r: number; g: number; b: number }): string {
  return `rgb(${r},${g},${b})`;
}

function page(body: string, background: ColourName, head = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8">${head}<style>html,body{margin:0;height:100%;background:${css(COLOURS[background])}}</style></head><body>${body}</body></html>`;
}

const FULL_SCREEN = 'position:fixed;left:0;top:0;width:100vw;height:100vh';

/**
 * A loopback web server with one page per website-capture feature. Each page paints a known colour for each
 * outcome, so a test decides from the screenshot's pixels whether the feature worked.
 */
export async function startWebPages(): Promise<WebPages> {
  let report: AutomationReport | null = null;
  let pageUserAgent = '';
  const authorizations: string[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${BASIC_AUTH.username}:${BASIC_AUTH.password}`).toString('base64')}`;

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/plain': (_req, res) => html(res, page('<h1 style="color:white">plain</h1>', 'green')),
    '/popup': (_req, res) =>
      html(
        res,
        page(
          `<p>content</p><div id="cookie-banner" style="${FULL_SCREEN};background:${css(COLOURS.red)};z-index:99">We use cookies</div><div class="popup" style="${FULL_SCREEN};background:${css(COLOURS.red)};z-index:98"></div>`,
          'green',
        ),
      ),
    '/late': (_req, res) =>
      html(
        res,
        page(
          `<script>setTimeout(() => { const d = document.createElement('div'); d.id = 'late'; d.style.cssText = '${FULL_SCREEN};background:${css(COLOURS.blue)}'; document.body.append(d); }, ${LATE_AFTER_MS});</script>`,
          'white',
        ),
      ),
    '/slow-fetch': (_req, res) =>
      html(res, page(`<script>fetch('/slow-data').then((r) => r.json()).then((d) => { document.body.style.background = d.colour; });</script>`, 'white')),
    '/slow-data': (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ colour: css(COLOURS.purple) }));
      }, SLOW_DATA_MS);
    },
    '/auth': (req, res) => {
      authorizations.push(req.headers.authorization ?? '');
      if (req.headers.authorization !== expectedAuth) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="glimpser test"', 'content-type': 'text/html' });
        res.end(page('<p>who are you?</p>', 'red'));
        return;
      }
      html(res, page('<p>welcome</p>', 'orange'));
    },
    '/element': (_req, res) =>
      html(
        res,
        page(
          `<div style="height:300px"></div><div id="target" class="chart" style="margin-left:50px;width:200px;height:100px;background:${css(COLOURS.blue)}"></div>`,
          'grey',
        ),
      ),
    '/tall': (_req, res) =>
      html(
        res,
        page(
          `<div style="height:${TALL_PAGE_PX / 2}px;background:${css(COLOURS.green)}"></div><div style="height:${TALL_PAGE_PX / 2}px;background:${css(COLOURS.blue)}"></div>`,
          'green',
        ),
      ),
    '/never': (_req, res) => {
      // Headers and a first chunk, then nothing: the load event never fires.
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<!doctype html><html><body style="background:yellow">still loading');
    },
    '/automation': (req, res) => {
      pageUserAgent = req.headers['user-agent'] ?? '';
      html(
        res,
        page(
          `<p id="webdriver"></p><p id="ua"></p><script>
        const webdriver = String(navigator.webdriver);
        document.getElementById('webdriver').textContent = webdriver;
        document.getElementById('ua').textContent = navigator.userAgent;
        const hidden = navigator.webdriver !== true && !navigator.userAgent.includes('HeadlessChrome');
        document.body.style.background = hidden ? '${css(COLOURS.green)}' : '${css(COLOURS.red)}';
        fetch('/report', { method: 'POST', body: JSON.stringify({ webdriver, userAgent: navigator.userAgent }) });
      </script>`,
          'white',
        ),
      );
    },
    '/report': (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        const seen = JSON.parse(body) as { webdriver: string; userAgent: string };
        report = { ...seen, headerUserAgent: pageUserAgent };
        res.writeHead(204).end();
      });
    },
    '/dark': (_req, res) =>
      html(
        res,
        page('<p>theme</p>', 'white', `<style>@media (prefers-color-scheme: dark) { html, body { background: ${css(COLOURS.black)} !important; } }</style>`),
      ),
    '/cookie': (req, res) => {
      // Red once the browser comes back with the cookie this page sets: a cleared jar shows green again.
      const seen = (req.headers.cookie ?? '').includes('visited=1');
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'visited=1; Path=/; Max-Age=3600' });
      res.end(page('<p>cookie</p>', seen ? 'red' : 'green'));
    },
    '/redirect-to-metadata': (_req, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    },
  };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (route) route(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('no such page');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    lastReport: () => report,
    authorizations,
    close: async () => {
      // /never keeps its responses open for good: end them, or close() would wait for ever.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Which of the pages' colours is closest to the image's dominant colour (sharp's histogram peak). */
export async function dominantColour(image: Buffer): Promise<ColourName> {
  const { dominant } = await sharp(image).stats();
  const distance = (c: { r: number; g: number; b: number }): number => (c.r - dominant.r) ** 2 + (c.g - dominant.g) ** 2 + (c.b - dominant.b) ** 2;
  const names = Object.keys(COLOURS) as ColourName[];
  return names.reduce((best, name) => (distance(COLOURS[name]) < distance(COLOURS[best]) ? name : best));
}

function html(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}
