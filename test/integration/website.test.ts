import { lookup } from 'node:dns/promises';
import { readdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { BrowserPool, type BrowserPoolOptions } from '../../core/capture/browser-pool';
import type { CameraStatus } from '../../core/capture/source';
import { captureWebsite, WebsiteSource, type WebsiteCaptureOptions, type WebsiteShot, type WebsiteSourceOptions } from '../../core/capture/website';
import type { Frame } from '../../core/frames/frame';
import { isJpeg } from '../../core/frames/jpeg';
import { eventually, ffprobeImage, recordingLogger, waitFor } from '../support/tools';
import { BASIC_AUTH, dominantColour, startWebPages, TALL_PAGE_PX, type WebPages } from '../support/web-pages';

const VIEWPORT = { width: 640, height: 360 };
/** Makes a cloud-metadata name reach the test server, so the allow-list can be proven with a page that loads. */
const METADATA_HOST = 'metadata.google.internal';

let pages: WebPages;
let pool: BrowserPool;
const pools: BrowserPool[] = [];
const sources: WebsiteSource[] = [];
const { logger, entries: logEntries } = recordingLogger();

function makePool(options: BrowserPoolOptions = {}): BrowserPool {
  const made = new BrowserPool({
    chromiumPath: '/usr/bin/chromium',
    chromedriverPath: '/usr/bin/chromedriver',
    // The policy proxy resolves names for the browser, so the mapping goes to its resolver.
    lookup: async (host) => (host === METADATA_HOST ? ['127.0.0.1'] : (await lookup(host, { all: true })).map((entry) => entry.address)),
    logger,
    ...options,
  });
  pools.push(made);
  return made;
}

beforeAll(async () => {
  pages = await startWebPages();
  pool = makePool({ size: 2 });
});

afterAll(async () => {
  await Promise.all(pools.map((each) => each.close()));
  await pages.close();
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
});

function makeSource(options: WebsiteSourceOptions): WebsiteSource {
  const source = new WebsiteSource(options);
  sources.push(source);
  return source;
}

function shoot(path: string, options: Partial<WebsiteCaptureOptions> = {}, on = pool): Promise<WebsiteShot> {
  return captureWebsite(on, { url: `${pages.baseUrl}${path}`, viewport: VIEWPORT, ...options });
}

async function colourOf(path: string, options: Partial<WebsiteCaptureOptions> = {}): Promise<string> {
  return dominantColour((await shoot(path, options)).jpeg);
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  name: string;
  cmdline: string;
}

/** Live (non-zombie) processes from /proc. */
function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      found.push({ pid: Number(entry), ppid: Number(ppid), name, cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8') });
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/** Browser processes this test started: descendants of this process, or strays naming one of the pools' folders. */
function browserProcesses(): ProcessInfo[] {
  const all = processes();
  const ours = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const proc of all) if (!ours.has(proc.pid) && ours.has(proc.ppid)) grew = ours.add(proc.pid) !== undefined;
  }
  return all.filter((proc) => (ours.has(proc.pid) && /chrom/.test(proc.name)) || pools.some((each) => proc.cmdline.includes(each.workDir)));
}

describe('URL policy', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a link-local address .*allow-list/],
    [`http://${METADATA_HOST}/computeMetadata/v1/`, /metadata\.google\.internal, a cloud metadata service; add it to the allow-list/],
    ['file:///etc/passwd', /url uses file: only http:\/\/ and https:\/\/ pages can be captured/],
    ['http://viewer:pw@127.0.0.1/', /put them in basicAuth/],
  ])('refuses %s before any browser opens it', async (url, message) => {
    const started = pool.stats().started;
    await expect(captureWebsite(pool, { url })).rejects.toThrow(message);
    expect(pool.stats().started).toBe(started);
  });

  it('opens an allow-listed metadata host', async () => {
    const port = new URL(pages.baseUrl).port;
    const shot = await captureWebsite(pool, { url: `http://${METADATA_HOST}:${port}/plain`, viewport: VIEWPORT, allowHosts: [METADATA_HOST] });
    expect(await dominantColour(shot.jpeg)).toBe('green');
  });

  it('refuses to shoot a page that redirected to a refused host', async () => {
    await expect(shoot('/redirect-to-metadata')).rejects.toThrow(/went to http:\/\/169\.254\.169\.254\/latest\/meta-data\/, which is refused: .*link-local/);
  });
});

describe('website captures', () => {
  it('shoots the viewport as a decodable JPEG of the viewport size', async () => {
    const shot = await shoot('/plain');
    expect(isJpeg(shot.jpeg)).toBe(true);
    expect(await sharp(shot.jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 640, height: 360 });
    expect(ffprobeImage(shot.jpeg)).toEqual({ codec: 'mjpeg', width: 640, height: 360 });
    expect(shot).toMatchObject({ width: 640, height: 360 });
    expect(await dominantColour(shot.jpeg)).toBe('green');
  });

  it('removes cookie banners and popups before the shot', async () => {
    expect(await colourOf('/popup')).toBe('red');
    expect(await colourOf('/popup', { remove: ['#cookie-banner', '.popup'] })).toBe('green');
    await expect(shoot('/popup', { remove: ['##bad'] })).rejects.toThrow('remove "##bad" is not a valid CSS selector');
  });

  it('waits for content that appears late, by CSS or XPath', async () => {
    expect(await colourOf('/late')).toBe('white');
    expect(await colourOf('/late', { waitFor: '#late' })).toBe('blue');
    expect(await colourOf('/late', { waitFor: 'xpath://div[@id="late"]' })).toBe('blue');
    await expect(shoot('/late', { waitFor: '#missing', waitTimeoutMs: 300 })).rejects.toThrow('waitFor #missing did not appear within 300 ms');
  });

  it('waits for the network to go idle', async () => {
    expect(await colourOf('/slow-fetch')).toBe('white');
    expect(await colourOf('/slow-fetch', { networkIdle: true })).toBe('purple');
  });

  it('sends basic auth as a header, never in messages or logs', async () => {
    await expect(shoot('/auth')).rejects.toThrow(/answered HTTP 401: the page needs basicAuth/);
    await expect(shoot('/auth', { basicAuth: { ...BASIC_AUTH, password: 'wrong' } })).rejects.toThrow(/HTTP 401: check basicAuth/);
    expect(await colourOf('/auth', { basicAuth: BASIC_AUTH })).toBe('orange');
    const token = Buffer.from(`${BASIC_AUTH.username}:${BASIC_AUTH.password}`).toString('base64');
    expect(pages.authorizations).toContain(`Basic ${token}`);
    expect(JSON.stringify(logEntries)).not.toMatch(new RegExp(`${BASIC_AUTH.password}|${token}`));
  });

  it('shoots a single element, chosen by CSS or XPath', async () => {
    for (const options of [{ element: '#target' }, { element: '//div[@id="target"]', selectorType: 'xpath' as const }]) {
      const shot = await shoot('/element', options);
      expect(await sharp(shot.jpeg).metadata()).toMatchObject({ width: 200, height: 100 });
      expect(await dominantColour(shot.jpeg)).toBe('blue');
    }
    await expect(shoot('/element', { element: '.nothing' })).rejects.toThrow('element .nothing is not on the page');
  });

  it('shoots the full page height', async () => {
    const shot = await shoot('/tall', { fullPage: true });
    expect(shot).toMatchObject({ width: 640, height: TALL_PAGE_PX });
    expect(ffprobeImage(shot.jpeg)).toMatchObject({ width: 640, height: TALL_PAGE_PX });
    const bottom = await sharp(shot.jpeg)
      .extract({ left: 0, top: TALL_PAGE_PX - 100, width: 640, height: 100 })
      .toBuffer();
    expect(await dominantColour(bottom)).toBe('blue');
    expect(await colourOf('/tall')).toBe('green');
  });

  it('asks for the dark colour scheme', async () => {
    expect(await colourOf('/dark')).toBe('white');
    expect(await colourOf('/dark', { darkMode: true })).toBe('black');
  });

  it('hides automation in stealth mode', async () => {
    expect(await colourOf('/automation')).toBe('red');
    const plain = await eventually(async () => (pages.lastReport()?.userAgent.includes('HeadlessChrome') ? pages.lastReport() : undefined), 5000, 'a report');
    expect(plain?.headerUserAgent).toContain('HeadlessChrome');
    expect(await colourOf('/automation', { stealth: true })).toBe('green');
    const hidden = await eventually(async () => (pages.lastReport()?.webdriver === 'undefined' ? pages.lastReport() : undefined), 5000, 'a stealth report');
    expect(hidden?.userAgent).toMatch(/Chrome\/\d+/);
    expect(hidden?.userAgent).not.toContain('HeadlessChrome');
    expect(hidden?.headerUserAgent).not.toContain('HeadlessChrome');
  });
});

describe('browser pool', () => {
  let single: BrowserPool;
  beforeAll(() => {
    single = makePool({ size: 1, recycleAfter: 3 });
  });

  it('clears cookies before each capture unless told not to', async () => {
    const shots = [
      await shoot('/cookie', { clearCookies: false }, single),
      await shoot('/cookie', { clearCookies: false }, single),
      await shoot('/cookie', {}, single),
    ];
    expect(await Promise.all(shots.map((shot) => dominantColour(shot.jpeg)))).toEqual(['green', 'red', 'green']);
    expect(new Set(shots.map((shot) => shot.sessionId)).size).toBe(1);
  });

  it('starts a new browser after recycleAfter captures', async () => {
    const before = single.stats().started;
    const shot = await shoot('/plain', {}, single);
    expect(single.stats().started).toBe(before + 1);
    const again = await shoot('/plain', {}, single);
    expect(again.sessionId).toBe(shot.sessionId);
    expect(await dominantColour(again.jpeg)).toBe('green');
  });

  it('queues acquire and times out with a clear message', async () => {
    const held = await single.acquire();
    const order: string[] = [];
    const next = single.acquire(10000).then((session) => {
      order.push('granted');
      return session;
    });
    try {
      await expect(single.acquire(200)).rejects.toThrow('no browser free within 200 ms: all 1 are busy');
    } finally {
      order.push('released');
      await single.release(held);
    }
    await single.release(await next);
    expect(order).toEqual(['released', 'granted']);
  });

  it('replaces a browser that died while idle', async () => {
    const lease = await single.acquire();
    await single.release(lease);
    process.kill(-lease.pid, 'SIGKILL');
    await eventually(async () => (lease.exited ? true : undefined), 5000, 'the pool to see its browser die');
    const shot = await shoot('/plain', {}, single);
    expect(shot.sessionId).not.toBe(lease.id);
    expect(await dominantColour(shot.jpeg)).toBe('green');
  });

  it('says what is missing when chromedriver cannot be found', async () => {
    const broken = makePool({ chromedriverPath: '/nonexistent/chromedriver' });
    await expect(shoot('/plain', {}, broken)).rejects.toThrow(
      'chromedriver not found at /nonexistent/chromedriver: install the Debian package chromium-driver',
    );
  });

  it('reports a page that never loads, recycles its browser and keeps running', async () => {
    const source = makeSource({
      camera: 'stuck',
      pool: single,
      url: `${pages.baseUrl}/never`,
      pageTimeoutMs: 1500,
      everyMs: 1000,
      backoff: { initialMs: 200, maxMs: 500 },
    });
    const before = single.stats().started;
    source.start();
    const offline = await waitFor<CameraStatus>(source, 'status', (status) => status.state === 'offline');
    expect(offline.lastError).toBe('page did not load within 1500 ms');
    await eventually(async () => (single.stats().started >= before + 2 ? true : undefined), 10000, 'a fresh browser for the retry');
    await source.stop();
    expect(source.status().state).toBe('stopped');
  });

  it('stop() abandons a capture under way and kills its browser', async () => {
    const source = makeSource({ camera: 'stopped-mid-capture', pool: single, url: `${pages.baseUrl}/never`, pageTimeoutMs: 60000 });
    const statuses: CameraStatus[] = [];
    source.on('status', (status: CameraStatus) => statuses.push(status));
    source.start();
    await eventually(async () => (single.stats().busy === 1 ? true : undefined), 15000, 'a capture under way');
    await source.stop();
    // Abandoned, not waited for: the capture never ended, neither with a frame nor with its page timeout.
    expect(statuses.map((status) => status.state)).toEqual(['connecting', 'stopped']);
    expect(single.stats()).toMatchObject({ busy: 0, idle: 0 });
    expect(browserProcesses().filter((proc) => proc.cmdline.includes(single.workDir))).toEqual([]);
  });
});

describe('website source', () => {
  it('emits frames on start and every everyMs, with its status', async () => {
    // As the camera node builds it: settings shared by every camera kind ride along and are left alone.
    const common = { camera: 'dashboard', offlineAfterMs: 30000, logger };
    const source = makeSource({ ...common, pool, url: `${pages.baseUrl}/plain`, viewport: VIEWPORT, everyMs: 1000 });
    const statuses: CameraStatus[] = [];
    source.on('status', (status: CameraStatus) => statuses.push(status));
    const frames: Frame[] = [];
    source.on('frame', (frame: Frame) => frames.push(frame));
    source.start();
    await waitFor<Frame>(source, 'frame', (frame) => frame.meta.sequence === 2);
    await source.stop();
    expect(statuses.map((status) => status.state)).toEqual(['connecting', 'online', 'stopped']);
    expect(frames[1].meta).toMatchObject({ camera: 'dashboard', sequence: 2, width: 640, height: 360, bytes: frames[1].jpeg.length });
    // everyMs runs from the start of one capture to the start of the next; captures vary in length.
    expect(frames[1].meta.timestamp - frames[0].meta.timestamp).toBeGreaterThan(500);
    expect(isJpeg(frames[1].jpeg)).toBe(true);
  });

  it('refuses bad options when it is made', async () => {
    await expect(captureWebsite(pool, { url: pages.baseUrl, colour: 'red' } as WebsiteCaptureOptions)).rejects.toThrow(
      /colour is not a website capture option/,
    );
    expect(() => new WebsiteSource({ camera: 'bad', pool, url: 'file:///etc/passwd' })).toThrow(/only http/);
    expect(() => new WebsiteSource({ camera: 'bad', pool, url: pages.baseUrl, fullPage: true, element: '#a' })).toThrow(/cannot both be set/);
  });
});

test('closing the pools leaves no chromium or chromedriver process behind', async () => {
  expect(browserProcesses().some((proc) => proc.name === 'chromedriver')).toBe(true);
  await Promise.all(pools.map((each) => each.close()));
  expect(browserProcesses()).toEqual([]);
});
