import { readFileSync } from 'node:fs';
import path from 'node:path';
import { By, Key, until, type WebDriver } from 'selenium-webdriver';
import { EventJournal } from '../../core/store/journal';
import { REPO_ROOT, startGlimpser, tempDataDir, type RunningGlimpser } from '../support/glimpser-process';
import {
  DESKTOP,
  expectNoBrowserProblems,
  MOBILE,
  openPage,
  saveScreenshot,
  signInThroughForm,
  startAppBrowser,
  waitForCss,
  type Viewport,
} from '../support/web-app';

/**
 * The admin pages (users, API keys, jobs, system), the summaries page and the service worker, on a real Glimpser with
 * the default flow, at desktop and phone size; and a viewer's browser, which has no Admin link, is refused the page
 * and is answered 403 by the admin API.
 */
const PASSWORD = 'admin-password-for-admin-pages';
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** A system job of every install that runs in milliseconds and every minute only, so it is idle when clicked. */
const QUICK_JOB = 'retention.journal';

async function fillField(driver: WebDriver, css: string, text: string): Promise<void> {
  const field = await waitForCss(driver, css);
  await field.clear();
  await field.sendKeys(text);
}

async function chooseRole(driver: WebDriver, form: string, role: string): Promise<void> {
  // By typing, as with a keyboard: clicking an option opens the phone's picker, which then swallows the next click.
  const select = await waitForCss(driver, `${form} select`);
  await select.sendKeys(role);
  await driver.wait(async () => (await select.getAttribute('value')) === role, 5000, `the role select did not take "${role}"`);
}

/** Clicks like a person: scrolled into view first (the phone layout puts buttons below the fold). */
async function click(driver: WebDriver, css: string): Promise<void> {
  const element = await waitForCss(driver, css);
  await driver.executeScript('arguments[0].scrollIntoView({ block: "center" })', element);
  await element.click();
}

/**
 * Goes to another page through the app's own links, as a person does once the app is open: no page load, so the
 * browser keeps one live-updates connection rather than one per page load.
 */
async function follow(driver: WebDriver, linkCss: string, heading: string): Promise<void> {
  await click(driver, linkCss);
  await driver.wait(until.elementLocated(By.xpath(`//h1[normalize-space()='${heading}']`)), 15000, `no page "${heading}" after clicking ${linkCss}`);
}

/** The page is as wide as the viewport: tables scroll inside their panel, the page itself never sideways. */
async function expectNoSidewaysScroll(driver: WebDriver): Promise<void> {
  const [scrollWidth, innerWidth] = (await driver.executeScript('return [document.documentElement.scrollWidth, window.innerWidth]')) as number[];
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}

/** More briefs than the page's first page (20), so the page pages; the newest says so. */
const SUMMARIES = 23;
const HOUR_MS = 3600_000;

/** Writes ai-summary's journal events (type "summary") into the data folder before Glimpser opens it. */
async function seedSummaries(dataDir: string): Promise<void> {
  const journal = new EventJournal({ dataDir, enforceEveryMs: null });
  journal.open();
  const newest = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  for (let i = SUMMARIES - 1; i >= 0; i--) {
    const end = newest - i * HOUR_MS;
    journal.insert({
      camera: 'summaries',
      type: 'summary',
      startTime: end - HOUR_MS,
      endTime: end,
      data: {
        summary: i === 0 ? 'Newest brief: two crossings on the demo camera.' : `Brief ${i} hours old: quiet.`,
        sources: [{ camera: 'demo', brief: i === 0 ? 'A box crossed the test card twice.' : 'Nothing moved.', severity: i === 0 ? 'Minor' : 'Unknown' }],
        items: i === 0 ? 2 : 0,
        model: 'test-model',
        tokens: null,
      },
    });
  }
  await journal.close();
}

describe('the admin, summaries and web push pages', () => {
  let app: RunningGlimpser;
  beforeAll(async () => {
    const dataDir = tempDataDir();
    await seedSummaries(dataDir);
    app = await startGlimpser(dataDir, { GLIMPSER_ADMIN_PASSWORD: PASSWORD });
  }, 180000);
  afterAll(async () => {
    await app?.stop();
  });

  describe.each([
    ['desktop', DESKTOP],
    ['mobile', MOBILE],
  ] as [string, Viewport][])('at %s size', (size, viewport) => {
    const viewer = { username: `viewer-${size}`, password: `viewer-password-${size}` };
    let driver: WebDriver;
    beforeAll(async () => {
      driver = await startAppBrowser(viewport);
      await signInThroughForm(driver, app.base, 'admin', PASSWORD);
    }, 180000);
    afterAll(async () => {
      await driver?.quit();
    });

    it('creates a viewer user from the users page', async () => {
      await openPage(driver, app.base, '/admin', 'Admin: Users & roles');
      await waitForCss(driver, '[data-testid=user-row][data-username=admin]');
      await fillField(driver, '[data-testid=create-user] input[name=username]', viewer.username);
      await fillField(driver, '[data-testid=create-user] input[name=password]', viewer.password);
      await chooseRole(driver, '[data-testid=create-user]', 'viewer');
      await click(driver, '[data-testid=create-user] button[type=submit]');

      const row = await waitForCss(driver, `[data-testid=user-row][data-username=${viewer.username}]`);
      const cells = await row.findElements(By.css('td'));
      expect(await cells[1].getText()).toBe('viewer');
      expect(await cells[2].getText()).toBe('all');
      await driver.executeScript('window.scrollTo(0, 0)');
      if (size === 'desktop') await saveScreenshot(driver, 'admin-users-desktop');
      else {
        await expectNoSidewaysScroll(driver);
        await saveScreenshot(driver, 'admin-mobile');
      }
      await expectNoBrowserProblems(driver);
    }, 90000);

    it('creates an API key whose secret is shown once, and not after a reload', async () => {
      await follow(driver, '[data-testid=admin-tab-keys]', 'Admin: API keys');
      // The key list above the form is loaded first: the form must not move under the click.
      await driver.wait(async () => (await driver.findElements(By.css('.loading'))).length === 0, 15000, 'the key list did not load');
      const name = `script-${size}`;
      await fillField(driver, '[data-testid=create-key] input[name=key-name]', name);
      await chooseRole(driver, '[data-testid=create-key]', 'operator');
      // Submitted with Enter in the name field (a click on the phone layout's button was sometimes lost in Chromium's touch emulation).
      await driver.findElement(By.css('[data-testid=create-key] input[name=key-name]')).sendKeys(Key.ENTER);

      const secret = await (await waitForCss(driver, '[data-testid=key-secret]')).getText();
      expect(secret.length).toBeGreaterThanOrEqual(20);
      const row = await waitForCss(driver, `[data-testid=key-row][data-name=${name}]`);
      expect(await (await row.findElements(By.css('td')))[1].getText()).toBe('operator');

      await driver.navigate().refresh();
      await waitForCss(driver, `[data-testid=key-row][data-name=${name}]`);
      expect(await driver.findElements(By.css('[data-testid=key-secret]'))).toHaveLength(0);
      expect(await driver.getPageSource()).not.toContain(secret);
      await expectNoBrowserProblems(driver);
    }, 90000);

    it("lists the default flow's notifiers, disabled until configured, with no test to send", async () => {
      await follow(driver, '[data-testid=admin-tab-notifiers]', 'Admin: Notifiers');
      await waitForCss(driver, '[data-testid=notifier-row]');
      const rows = await driver.findElements(By.css('[data-testid=notifier-row]'));
      const ids = await Promise.all(rows.map((r) => r.getAttribute('data-id')));
      expect(ids.sort()).toEqual(['glimpser-demo-notify-email', 'glimpser-demo-notify-push', 'glimpser-demo-notify-sms', 'glimpser-demo-notify-webhook']);
      for (const row of rows) {
        expect(await row.getText()).toContain('disabled');
        expect(await row.findElement(By.xpath(".//button[normalize-space()='Send test']")).isEnabled()).toBe(false);
      }
      await expectNoBrowserProblems(driver);
    }, 60000);

    it("lists the default flow's jobs and runs one now", async () => {
      await follow(driver, '[data-testid=admin-tab-jobs]', 'Admin: Jobs');
      await waitForCss(driver, '[data-testid=job-row]');
      const ids = await Promise.all((await driver.findElements(By.css('[data-testid=job-row]'))).map((r) => r.getAttribute('data-id')));
      expect(ids).toEqual(expect.arrayContaining(['capture.glimpser-demo-capture', 'ai-summary.glimpser-demo-summary', 'alerts.sweep', QUICK_JOB]));

      const row = `[data-testid=job-row][data-id="${QUICK_JOB}"]`;
      await driver.wait(async () => (await (await waitForCss(driver, row)).getAttribute('data-status')) === 'idle', 30000, `${QUICK_JOB} stayed busy`);
      await click(driver, `${row} button:not(.secondary)`);
      await driver.wait(until.elementLocated(By.xpath(`//tr[@data-id='${QUICK_JOB}']//p[normalize-space()='Run started.']`)), 15000);
      // The history opens with the manual run at its top; it is the one just started.
      const run = await waitForCss(driver, '[data-testid=job-history] [data-testid=job-run][data-trigger=manual]');
      expect(await run.isDisplayed()).toBe(true);

      // Pause shows the job paused with no next run; Resume brings the schedule back.
      const paused = `[data-testid=job-row][data-id="retention.archive"]`;
      await click(driver, `${paused} button.secondary:not([aria-expanded])`);
      await driver.wait(async () => (await (await waitForCss(driver, paused)).getAttribute('data-status')) === 'paused', 15000, 'the job did not show paused');
      const resume = await driver.findElement(By.xpath(`//tr[@data-id='retention.archive']//button[normalize-space()='Resume']`));
      await driver.executeScript('arguments[0].scrollIntoView({ block: "center" })', resume);
      await resume.click();
      await driver.wait(async () => (await (await waitForCss(driver, paused)).getAttribute('data-status')) === 'idle', 15000, 'the job did not resume');
      if (size === 'desktop') {
        await driver.executeScript('window.scrollTo(0, 0)');
        await saveScreenshot(driver, 'admin-jobs-desktop');
      } else await expectNoSidewaysScroll(driver);
      await expectNoBrowserProblems(driver);
    }, 90000);

    it('shows the version and health on the system page', async () => {
      await follow(driver, '[data-testid=admin-tab-system]', 'Admin: System');
      await driver.wait(async () => (await (await waitForCss(driver, '[data-testid=version-glimpser]')).getText()) === VERSION, 15000);
      const health = await waitForCss(driver, '[data-testid=system-health]');
      expect(await health.getText()).toContain('ready');
      expect(Number(await (await waitForCss(driver, '[data-testid=mqtt-clients]')).getText())).toBeGreaterThanOrEqual(0);
      if (size === 'desktop') await saveScreenshot(driver, 'admin-system-desktop');
      else await expectNoSidewaysScroll(driver);
      await expectNoBrowserProblems(driver);
    }, 90000);

    it('shows the AI briefs newest first, a page at a time', async () => {
      await follow(driver, 'nav[aria-label=Main] a[href="/summaries"]', 'Summaries');
      await driver.wait(
        async () => (await driver.findElements(By.css('[data-testid=summary]'))).length === 20,
        15000,
        'the first page of 20 briefs did not show',
      );
      const first = await driver.findElement(By.css('[data-testid=summary]'));
      expect(await first.getText()).toContain('Newest brief: two crossings on the demo camera.');
      expect(await first.getText()).toContain('A box crossed the test card twice.');
      await saveScreenshot(driver, `summaries-${size}`);
      if (size === 'mobile') await expectNoSidewaysScroll(driver);

      await click(driver, '[data-testid=summaries-more]');
      await driver.wait(async () => (await driver.findElements(By.css('[data-testid=summary]'))).length === SUMMARIES, 15000, 'the older briefs did not load');
      const last = (await driver.findElements(By.css('[data-testid=summary]')))[SUMMARIES - 1];
      expect(await last.getText()).toContain(`Brief ${SUMMARIES - 1} hours old`);
      expect(await driver.findElements(By.css('[data-testid=summaries-more]'))).toHaveLength(0);
      await expectNoBrowserProblems(driver);
    }, 60000);

    it('registers the service worker and offers notifications on this browser', async () => {
      const scriptUrl = await driver.executeAsyncScript<string>(
        'const done = arguments[arguments.length - 1]; navigator.serviceWorker.ready.then((r) => done(r.active.scriptURL), (e) => done(String(e)));',
      );
      expect(scriptUrl).toBe(`${app.base}/sw.js`);
      // Installable: the manifest names PNG icons of 192 and 512 px (Chromium's install check), and each is served.
      const icons = await driver.executeAsyncScript<string[]>(`const done = arguments[arguments.length - 1];
        fetch('/manifest.webmanifest').then((r) => r.json()).then(async (m) => done(await Promise.all(m.icons.map(async (i) => i.sizes + ' ' + i.type + ' ' + (await fetch(i.src)).status))), (e) => done([String(e)]));`);
      expect(icons).toEqual(expect.arrayContaining(['192x192 image/png 200', '512x512 image/png 200']));
      expect(icons.every((icon) => icon.endsWith(' 200'))).toBe(true);
      const push = await waitForCss(driver, '[data-testid=push]');
      await driver.wait(async () => (await push.getAttribute('data-state')) === 'off', 15000, 'the notifications control did not settle on "off"');
      expect(await push.findElement(By.css('button')).getAttribute('aria-pressed')).toBe('false');
      await expectNoBrowserProblems(driver);
    }, 60000);

    describe('as the viewer just created', () => {
      let viewerDriver: WebDriver;
      beforeAll(async () => {
        viewerDriver = await startAppBrowser(viewport);
        await signInThroughForm(viewerDriver, app.base, viewer.username, viewer.password);
      }, 180000);
      afterAll(async () => {
        await viewerDriver?.quit();
      });

      it('has no Admin link, is refused the admin page, and the admin API answers 403', async () => {
        await waitForCss(viewerDriver, 'nav a[href="/events"]');
        const links = await Promise.all((await viewerDriver.findElements(By.css('nav[aria-label=Main] a'))).map((a) => a.getAttribute('href')));
        expect(links.some((href) => href !== null && new URL(href).pathname === '/admin')).toBe(false);

        await openPage(viewerDriver, app.base, '/admin/users', 'Admin');
        expect(await (await waitForCss(viewerDriver, '[data-testid=admin-refused]')).getText()).toContain('needs the admin role');
        expect(await viewerDriver.findElements(By.css('[data-testid=users]'))).toHaveLength(0);
        // Nothing above called an admin route: the only failed request is the one this test makes on purpose.
        await expectNoBrowserProblems(viewerDriver);

        const status = await viewerDriver.executeAsyncScript<number>(
          "const done = arguments[arguments.length - 1]; fetch('/api/users', { credentials: 'same-origin' }).then((r) => done(r.status), () => done(-1));",
        );
        expect(status).toBe(403);
        await expectNoBrowserProblems(viewerDriver, [/\/api\/users - Failed to load resource: the server responded with a status of 403/]);
      }, 90000);
    });
  });
});
