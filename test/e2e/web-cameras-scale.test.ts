import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WebDriver } from 'selenium-webdriver';
import { basic, REPO_ROOT, startGlimpser, tempDataDir, type RunningGlimpser } from '../support/glimpser-process';
import { DESKTOP, expectNoBrowserProblems, MOBILE, signInThroughForm, startAppBrowser, waitForCss } from '../support/web-app';

/**
 * Issue 14 acceptance 4: with 16 cameras the grid's first view is quick, and only the tiles on screen hold a live
 * stream, counted on the server (the glimpser_stream_clients gauge) while the page scrolls.
 */

const PASSWORD = 'admin-password-for-scale';
const MAX_LIVE_STREAMS = 4;
const CAMERAS = Array.from({ length: 16 }, (_, i) => `cam${String(i + 1).padStart(2, '0')}`);

/** 16 demo cameras, small and slow (they only run while someone watches), and nothing else. */
function seedFlows(dataDir: string): void {
  const defaults = JSON.parse(readFileSync(path.join(REPO_ROOT, 'flows', 'default.json'), 'utf8')) as Record<string, unknown>[];
  const demo = defaults.find((node) => node.type === 'glimpser-camera');
  if (!demo) throw new Error('flows/default.json has no glimpser-camera node');
  const cameras = CAMERAS.map((id, i) => ({ ...demo, id: `scale-${id}`, cameraId: id, name: `Camera ${i + 1}`, width: 256, height: 144, fps: 2 }));
  mkdirSync(path.join(dataDir, 'node-red'), { recursive: true });
  writeFileSync(path.join(dataDir, 'node-red', 'flows.json'), JSON.stringify([{ id: 'scale-tab', type: 'tab', label: 'Cameras' }, ...cameras]));
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined | null | false;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('the Cameras grid with 16 cameras', () => {
  let app: RunningGlimpser;
  let driver: WebDriver | undefined;
  beforeAll(async () => {
    const dataDir = tempDataDir();
    seedFlows(dataDir);
    app = await startGlimpser(dataDir, { GLIMPSER_ADMIN_PASSWORD: PASSWORD });
  }, 180000);
  const quitBrowser = async () => {
    await driver?.quit();
    driver = undefined;
  };
  afterEach(quitBrowser);
  afterAll(async () => {
    await app?.stop();
  });

  /** Cameras with a live-view client open on the server now. */
  async function streamingOnServer(): Promise<string[]> {
    const res = await fetch(`${app.base}/metrics`, { headers: { authorization: basic('admin', PASSWORD) } });
    const text = await res.text();
    const open: string[] = [];
    for (const match of text.matchAll(/^glimpser_stream_clients\{camera="([^"]+)"\} (\d+)/gm)) if (Number(match[2]) > 0) open.push(match[1]);
    return open.sort();
  }

  /** Cameras whose tile shows some of itself in the viewport, by the browser's own geometry. */
  async function onScreen(browser: WebDriver): Promise<string[]> {
    const ids = await browser.executeScript<string[]>(`
      return [...document.querySelectorAll('[data-testid=camera-tile]')]
        .filter((tile) => { const r = tile.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth; })
        .map((tile) => tile.dataset.camera);`);
    return ids.sort();
  }

  /**
   * Waits until exactly the tiles on screen have a stream open on the server, and returns them. The page holds at
   * most MAX_LIVE_STREAMS (web/src/views/cameras.tsx: a browser opens only 6 connections to a host), the first
   * tiles in grid order; the grid lists cameras by id.
   */
  async function streamsMatchScreen(browser: WebDriver, where: string): Promise<string[]> {
    let seen = { server: [] as string[], screen: [] as string[] };
    try {
      return await waitFor(
        `the server's open streams are the tiles on screen (${where})`,
        async () => {
          seen = { server: await streamingOnServer(), screen: await onScreen(browser) };
          return seen.screen.length > 0 && seen.server.join() === seen.screen.slice(0, MAX_LIVE_STREAMS).join() && seen.server;
        },
        30000,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}: server ${seen.server.join(', ')}; on screen ${seen.screen.join(', ')}`);
    }
  }

  it('renders the first view quickly (desktop); the time is logged for docs/benchmarks.md', async () => {
    const browser = (driver = await startAppBrowser(DESKTOP));
    await signInThroughForm(browser, app.base, 'admin', PASSWORD);
    await waitForCss(browser, '[data-testid=camera-grid]', 30000);
    // Measured on a fresh load of the signed-in page, as a person opening the app would see it.
    await browser.get(`${app.base}/`);
    await waitForCss(browser, '[data-testid=camera-grid]', 30000);
    expect(await browser.findElements({ css: '[data-testid=camera-tile]' })).toHaveLength(16);
    const timing = await waitFor(
      'the grid has rendered and shown a first picture',
      () =>
        browser.executeScript<{ rendered: number; picture: number; domContentLoaded: number } | null>(`
        const mark = (name) => performance.getEntriesByName(name, 'mark')[0];
        const nav = performance.getEntriesByType('navigation')[0];
        if (!mark('glimpser:cameras-rendered') || !mark('glimpser:first-picture')) return null;
        return { rendered: mark('glimpser:cameras-rendered').startTime, picture: mark('glimpser:first-picture').startTime, domContentLoaded: nav.domContentLoadedEventEnd };`),
      30000,
    );
    console.log(
      `first view with 16 cameras (desktop 1400×900): DOMContentLoaded ${timing.domContentLoaded.toFixed(0)} ms, grid rendered ${timing.rendered.toFixed(0)} ms, first live picture ${timing.picture.toFixed(0)} ms after navigation start`,
    );
    // A sanity bound only (a busy test machine is slow); the number itself goes to docs/benchmarks.md.
    expect(timing.rendered).toBeLessThan(10000);
    const streaming = await streamsMatchScreen(browser, 'desktop, top');
    // The tiles on screen beyond the live streams show snapshots instead: no tile on screen is left blank.
    const visible = await onScreen(browser);
    expect(visible.length).toBeGreaterThan(MAX_LIVE_STREAMS);
    expect(streaming).toEqual(visible.slice(0, MAX_LIVE_STREAMS));
    for (const camera of visible.slice(MAX_LIVE_STREAMS)) await waitForCss(browser, `[data-camera=${camera}] img[data-testid=snapshot]`, 30000);
    await expectNoBrowserProblems(browser);
    await quitBrowser();
    await waitFor('every stream closed after the browser quit', async () => (await streamingOnServer()).length === 0, 30000);
  }, 180000);

  it('holds live streams only for the tiles on screen while scrolling (phone size)', async () => {
    const browser = (driver = await startAppBrowser(MOBILE));
    await signInThroughForm(browser, app.base, 'admin', PASSWORD);
    await waitForCss(browser, '[data-testid=camera-grid]', 30000);
    const top = await streamsMatchScreen(browser, 'top of the page');
    expect(top).toContain('cam01');
    expect(top.length).toBeLessThan(CAMERAS.length);

    await browser.executeScript('window.scrollTo(0, document.documentElement.scrollHeight)');
    const bottom = await streamsMatchScreen(browser, 'bottom of the page');
    expect(bottom).toContain('cam16');
    expect(bottom).not.toContain('cam01');

    await browser.executeScript('window.scrollTo(0, 0)');
    expect(await streamsMatchScreen(browser, 'back at the top')).toEqual(top);
    await expectNoBrowserProblems(browser);
  }, 180000);
});
