import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { By, Key, until, type WebDriver, type WebElement } from 'selenium-webdriver';
import { apiToken, REPO_ROOT, startGlimpser, tempDataDir, type RunningGlimpser } from '../support/glimpser-process';
import { DESKTOP, expectNoBrowserProblems, MOBILE, saveScreenshot, signInThroughForm, startAppBrowser, waitForCss, type Viewport } from '../support/web-app';

/**
 * The Cameras views (issue 14) in a real browser against the real app: the grid's live picture moves, the camera
 * page shows its live view, recent events and archived frames to step through, at desktop and phone sizes.
 */

const PASSWORD = 'admin-password-for-cameras';

/** The default flows with the demo capture archiving a frame every second, so the archive has frames to step. */
function seedFlows(dataDir: string): void {
  const flows = JSON.parse(readFileSync(path.join(REPO_ROOT, 'flows', 'default.json'), 'utf8')) as Record<string, unknown>[];
  const capture = flows.find((node) => node.id === 'glimpser-demo-capture');
  if (!capture) throw new Error('flows/default.json has no glimpser-demo-capture node');
  Object.assign(capture, { archive: true, interval: 1 });
  const demo = flows.find((node) => node.id === 'glimpser-demo-camera');
  // Nothing listens on port 9: the camera goes offline with "Connection refused" as its reason.
  flows.push({ ...demo, id: 'glimpser-broken-camera', cameraId: 'broken', name: 'Broken camera', source: 'url', url: 'rtsp://127.0.0.1:9/none' });
  mkdirSync(path.join(dataDir, 'node-red'), { recursive: true });
  writeFileSync(path.join(dataDir, 'node-red', 'flows.json'), JSON.stringify(flows));
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Two screenshots of the element, taken until they differ: the picture in it moves. */
async function pictureChanges(element: WebElement): Promise<void> {
  const first = await element.takeScreenshot();
  await waitFor('the picture changes', async () => (await element.takeScreenshot()) !== first, 30000);
}

describe('the Cameras views', () => {
  let app: RunningGlimpser;
  let token: string;
  beforeAll(async () => {
    const dataDir = tempDataDir();
    seedFlows(dataDir);
    app = await startGlimpser(dataDir, { GLIMPSER_ADMIN_PASSWORD: PASSWORD });
    token = await apiToken(app);
  }, 180000);
  afterAll(async () => {
    if (app?.proc.exitCode !== null) console.log(app?.logs.slice(-40).join('\n'));
    await app?.stop();
  });

  const get = async <T>(pathname: string): Promise<T> => {
    const res = await fetch(`${app.base}/api${pathname}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${pathname} answered ${res.status}`);
    return (await res.json()) as T;
  };

  async function flows(viewport: Viewport, name: 'desktop' | 'mobile'): Promise<void> {
    const driver: WebDriver = await startAppBrowser(viewport);
    try {
      await signInThroughForm(driver, app.base, 'admin', PASSWORD);
      const tile = await waitForCss(driver, '[data-testid=camera-tile][data-camera=demo]', 30000);
      expect(await tile.findElement(By.css('h2')).getText()).toBe('Demo camera');
      await waitForCss(driver, '[data-testid=add-source][href="/sources/new"]');
      const stream = await driver.wait(until.elementLocated(By.css('[data-camera=demo] img[data-testid=stream]')), 30000);
      expect(await stream.getAttribute('src')).toMatch(/\/api\/cameras\/demo\/stream\.mjpg$/);
      await driver.wait(async () => Number(await stream.getAttribute('naturalWidth')) > 0, 30000, 'the live stream shows no picture');
      await pictureChanges(await tile.findElement(By.css('[data-testid=picture]')));
      await driver.wait(until.elementTextMatches(tile.findElement(By.css('[data-testid=camera-state]')), /online/), 30000);
      // The offline camera shows its reason and requests no picture that would fail.
      const broken = await waitForCss(driver, '[data-testid=camera-tile][data-camera=broken]');
      await driver.wait(until.elementTextMatches(broken.findElement(By.css('[data-testid=picture-note]')), /Connection refused/), 30000);
      expect(await broken.findElement(By.css('[data-testid=camera-state]')).getText()).toMatch(/offline|connecting/);
      for (const img of await broken.findElements(By.css('img'))) expect(await img.isDisplayed()).toBe(false);
      await saveScreenshot(driver, `cameras-${name}`);

      // The demo camera's crossing box makes motion events; the archive keeps a frame a second.
      await waitFor(
        'a motion event of the demo camera',
        async () => (await get<{ events: unknown[] }>('/events?camera=demo&limit=1')).events.length > 0,
        90000,
      );
      await waitFor('three archived frames', async () => (await get<{ frames: unknown[] }>('/cameras/demo/archive?limit=3')).frames.length >= 3, 30000);

      await tile.findElement(By.css('h2 a')).click();
      await driver.wait(until.elementLocated(By.xpath("//h1[normalize-space()='Demo camera']")), 15000);
      expect(await driver.getCurrentUrl()).toBe(`${app.base}/cameras/demo`);
      const live = await waitForCss(driver, '[data-testid=live-view] img[data-testid=stream]', 30000);
      await driver.wait(async () => Number(await live.getAttribute('naturalWidth')) > 0, 30000, 'the live view shows no picture');
      await pictureChanges(await driver.findElement(By.css('[data-testid=live-view] [data-testid=picture]')));

      const { cameras } = await get<{ cameras: { id: string; zones: unknown[]; masks: unknown[] }[] }>('/cameras');
      const demo = cameras.find((c) => c.id === 'demo')!;
      const drawn = await driver.findElements(By.css('[data-testid=regions] polygon'));
      expect(drawn).toHaveLength(demo.zones.length + demo.masks.length);

      const event = await waitForCss(driver, '[data-testid=camera-events] a[data-testid=camera-event]', 30000);
      expect(await event.getAttribute('href')).toMatch(/\/events\/[^/]+$/);
      for (const thumb of await driver.findElements(By.css('[data-testid=camera-events] img'))) {
        await driver.wait(async () => Number(await thumb.getAttribute('naturalWidth')) > 0, 15000, 'an event thumbnail did not load');
      }

      const frame = await waitForCss(driver, 'img[data-testid=archive-frame]', 30000);
      const frameId = async (): Promise<string> => (await frame.getAttribute('data-frame')) ?? '';
      const newest = await frameId();
      const newestTime = await driver.findElement(By.css('[data-testid=archive-time]')).getText();
      expect(await driver.findElement(By.css('[data-testid=archive-newer]')).isEnabled()).toBe(false);
      await driver.findElement(By.css('[data-testid=archive-older]')).click();
      await driver.wait(async () => (await frameId()) !== newest, 10000, 'Older did not step to an older frame');
      const older = await frameId();
      expect(older < newest).toBe(true);
      expect(await driver.findElement(By.css('[data-testid=archive-time]')).getText()).not.toBe(newestTime);
      await driver.wait(async () => Number(await frame.getAttribute('naturalWidth')) > 0, 10000, 'the archived frame did not load');
      await driver.actions().sendKeys(Key.ARROW_LEFT).perform();
      await driver.wait(async () => (await frameId()) < older, 10000, 'the left arrow did not step back');
      await driver.actions().sendKeys(Key.ARROW_RIGHT).perform();
      await driver.wait(async () => (await frameId()) === older, 10000, 'the right arrow did not step forward');
      await driver.executeScript('window.scrollTo(0, 0)');
      await saveScreenshot(driver, `camera-${name}`);

      await driver.findElement(By.css('[data-testid=low-bandwidth]')).click();
      const snapshot = await waitForCss(driver, '[data-testid=live-view] img[data-testid=snapshot]', 15000);
      expect(await snapshot.getAttribute('src')).toMatch(/\/api\/cameras\/demo\/snapshot\.jpg\?t=\d+/);
      await driver.navigate().refresh();
      expect(await (await waitForCss(driver, '[data-testid=low-bandwidth]', 15000)).isSelected()).toBe(true);
      await waitForCss(driver, '[data-testid=live-view] img[data-testid=snapshot]', 15000);
      await driver.findElement(By.css('[data-testid=low-bandwidth]')).click();
      await waitForCss(driver, '[data-testid=live-view] img[data-testid=stream]', 15000);

      await expectNoBrowserProblems(driver);
    } finally {
      await driver.quit();
    }
  }

  it('shows the demo camera moving in the grid, and its live view, events and archive (desktop)', () => flows(DESKTOP, 'desktop'), 240000);

  it('does the same at phone size (390×844)', () => flows(MOBILE, 'mobile'), 240000);

  it('shows a viewer the cameras without the Add a source button', async () => {
    const res = await fetch(`${app.base}/api/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'watcher', password: 'watcher-password-1234', role: 'viewer' }),
    });
    expect(res.status).toBe(201);
    const driver = await startAppBrowser(DESKTOP);
    try {
      await signInThroughForm(driver, app.base, 'watcher', 'watcher-password-1234');
      await waitForCss(driver, '[data-camera=demo] img[data-testid=stream]', 30000);
      expect(await driver.findElements(By.css('[data-testid=add-source]'))).toHaveLength(0);
      await expectNoBrowserProblems(driver);
    } finally {
      await driver.quit();
    }
  }, 120000);
});
