import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrowserPool } from '../../core/capture/browser-pool';
import { captureWebsite } from '../../core/capture/website';
import { jpegToGrey, type GreyFrame } from '../../core/frames/grey';
import type { Polygon, ZoneConfig } from '../../core/motion/regions';
import { SceneChangeDetector } from '../../core/motion/scene-change';

const VIEWPORT = { width: 640, height: 360 };
/** Where the terminal page draws its cursor, in CSS pixels of the viewport. */
const CURSOR = { left: 400, top: 200, width: 16, height: 30 };
const CURSOR_MASK: Polygon = [
  [0.58, 0.5],
  [0.7, 0.5],
  [0.7, 0.72],
  [0.58, 0.72],
];

function quadrant(name: string, x: number, y: number): ZoneConfig {
  return {
    name,
    points: [
      [x, y],
      [x + 0.5, y],
      [x + 0.5, y + 0.5],
      [x, y + 0.5],
    ],
  };
}
const PANELS: ZoneConfig[] = [quadrant('panel-a', 0, 0), quadrant('panel-b', 0.5, 0), quadrant('panel-c', 0, 0.5), quadrant('panel-d', 0.5, 0.5)];

const STYLE = `<style>
  html, body { margin: 0; height: 100%; background: #1b1d21; color: #e8e8e8; font-family: 'DejaVu Sans', sans-serif; }
  .grid { display: grid; grid-template: 1fr 1fr / 1fr 1fr; gap: 16px; padding: 16px; height: 100%; box-sizing: border-box; }
  .panel { background: #2a2d33; border-radius: 6px; padding: 10px 14px; display: flex; flex-direction: column; overflow: hidden; }
  .title { font-size: 13px; color: #9aa0a6; }
  .value { font-size: 34px; font-weight: bold; }
  .bars { display: flex; align-items: flex-end; gap: 5px; flex: 1; }
  .bar { width: 14px; background: #4fa3e0; }
</style>`;

/** A dashboard panel whose number and bars follow from `value`, so two values give two visibly different panels. */
function panel(title: string, value: number): string {
  const bars = Array.from({ length: 12 }, (_, i) => `<div class="bar" style="height:${10 + ((value * 37 + i * 53) % 90)}%"></div>`).join('');
  return `<div class="panel"><div class="title">${title}</div><div class="value">${value}</div><div class="bars">${bars}</div></div>`;
}

function dashboard(query: URLSearchParams): string {
  const value = (key: string): number => Number(query.get(key) ?? '1');
  const panels = [panel('Visitors', value('a')), panel('Orders', value('b')), panel('Latency ms', value('c')), panel('Errors', value('d'))];
  return `<!doctype html><html><head><meta charset="utf-8">${STYLE}</head><body><div class="grid">${panels.join('')}</div></body></html>`;
}

/** A console whose cursor blinks every 250 ms: each screenshot catches it on or off. */
function terminal(): string {
  const { left, top, width, height } = CURSOR;
  return `<!doctype html><html><head><meta charset="utf-8">${STYLE}</head><body><div class="grid">${panel('Visitors', 5)}${panel('Orders', 9)}${panel('Latency ms', 3)}
    <div class="panel"><div class="title">console</div><pre>$ tail -f app.log\nready</pre></div></div>
    <div id="cursor" style="position:fixed;left:${left}px;top:${top}px;width:${width}px;height:${height}px;background:#f0f0f0"></div>
    <script>
      // Phased by the clock rather than by page load, or every fresh tab would be shot in the same phase.
      const c = document.getElementById('cursor');
      const blink = () => { c.style.visibility = Math.floor(Date.now() / 250) % 2 === 0 ? 'visible' : 'hidden'; };
      blink();
      setInterval(blink, 20);
    </script>
  </body></html>`;
}

let server: Server;
let baseUrl: string;
let pool: BrowserPool;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = url.pathname === '/dashboard' ? dashboard(url.searchParams) : url.pathname === '/terminal' ? terminal() : null;
    if (body === null) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  pool = new BrowserPool({ chromiumPath: '/usr/bin/chromium', chromedriverPath: '/usr/bin/chromedriver', size: 1 });
});

afterAll(async () => {
  await pool.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function shoot(path: string, rows = 100): Promise<{ grey: GreyFrame; jpeg: Buffer }> {
  const shot = await captureWebsite(pool, { url: `${baseUrl}${path}`, viewport: VIEWPORT });
  return { grey: await jpegToGrey(shot.jpeg, rows), jpeg: shot.jpeg };
}

/** Whether a screenshot caught the cursor on, from its pixels at full size. */
async function cursorShown(jpeg: Buffer): Promise<boolean> {
  const full = await jpegToGrey(jpeg, VIEWPORT.height);
  const { left, top, width, height } = CURSOR;
  let sum = 0;
  for (let y = top + 4; y < top + height - 4; y++) for (let x = left + 4; x < left + width - 4; x++) sum += full.data[y * full.width + x];
  return sum / ((width - 8) * (height - 8)) > 128;
}

test('a dashboard whose Orders panel changed is changed, and only that panel is named', async () => {
  const detector = new SceneChangeDetector({ zones: PANELS });
  expect(detector.compare((await shoot('/dashboard?b=120')).grey)).toMatchObject({ changed: false, reason: 'first' });
  const result = detector.compare((await shoot('/dashboard?b=7')).grey);
  expect(result).toMatchObject({ changed: true, reason: 'content', changedZones: ['panel-b'] });
  // The other panels did not change at all: their windows are identical.
  for (const zone of result.zones.filter((z) => z.name !== 'panel-b')) expect(zone.ssim).toBeGreaterThan(0.999);
});

test('two captures of an unchanged dashboard are not changed', async () => {
  const detector = new SceneChangeDetector({ zones: PANELS });
  detector.compare((await shoot('/dashboard?a=3&b=4')).grey);
  const result = detector.compare((await shoot('/dashboard?a=3&b=4')).grey);
  expect(result).toMatchObject({ changed: false, reason: null, changedZones: [] });
  expect(result.difference).toBeLessThan(0.001);
});

test('a blinking cursor inside a mask is not a change, though it is one without the mask', async () => {
  const shots: { grey: GreyFrame; shown: boolean }[] = [];
  // Screenshots land on either phase of the blink: take them until both phases are caught.
  while (shots.length < 12 && !(shots.some((s) => s.shown) && shots.some((s) => !s.shown))) {
    const { grey, jpeg } = await shoot('/terminal');
    shots.push({ grey, shown: await cursorShown(jpeg) });
  }
  const on = shots.find((s) => s.shown);
  const off = shots.find((s) => !s.shown);
  if (on === undefined || off === undefined) throw new Error(`${shots.length} screenshots all caught the cursor ${shots[0].shown ? 'on' : 'off'}`);

  const masked = new SceneChangeDetector({ masks: [CURSOR_MASK], zones: PANELS });
  masked.compare(on.grey);
  for (const shot of shots) expect(masked.compare(shot.grey)).toMatchObject({ changed: false, changedZones: [] });

  const unmasked = new SceneChangeDetector({ zones: PANELS });
  unmasked.compare(on.grey);
  expect(unmasked.compare(off.grey)).toMatchObject({ changed: true, changedZones: ['panel-d'] });
});
