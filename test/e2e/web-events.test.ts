import { By, until, type WebDriver } from 'selenium-webdriver';
import { startGlimpser, type RunningGlimpser } from '../support/glimpser-process';
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
 * The events timeline, one event, and its alert, on the real default flow: the demo camera's box crosses the test
 * card for 8 s of every 30 s (flows/default.json), each crossing is a motion event, and cap-alert raises an alert for
 * it. The default flow's notifiers are all disabled, so its alerts have no delivery rows: the alert page says so.
 */
const PASSWORD = 'admin-password-for-events';
/** The demo camera's period (30 s) and the time the first crossing may take after start, with room for a busy machine. */
const NEXT_CROSSING_MS = 75000;

describe('the events and alerts pages', () => {
  let app: RunningGlimpser;
  beforeAll(async () => {
    app = await startGlimpser(undefined, { GLIMPSER_ADMIN_PASSWORD: PASSWORD });
  }, 180000);
  afterAll(async () => {
    await app?.stop();
  });

  describe.each([
    ['desktop', DESKTOP],
    ['mobile', MOBILE],
  ] as [string, Viewport][])('at %s size', (size, viewport) => {
    let driver: WebDriver;
    /** The event that arrived live on the open page; the later tests open it. */
    let liveEventId: string;
    beforeAll(async () => {
      driver = await startAppBrowser(viewport);
      await signInThroughForm(driver, app.base, 'admin', PASSWORD);
    }, 180000);
    afterAll(async () => {
      await driver?.quit();
    });

    it('shows a demo crossing at the top of the timeline within 10 s of its start, without a reload', async () => {
      await openPage(driver, app.base, '/events', 'Events');
      await driver.wait(until.elementLocated(By.css('.live-open')), 30000, 'the live connection did not open');
      await driver.wait(async () => !(await driver.findElements(By.css('.loading'))).length, 15000);
      const before = new Set(await Promise.all((await driver.findElements(By.css('[data-testid=event]'))).map((e) => e.getAttribute('data-id'))));
      // A mark on the page's window: a reload would lose it.
      await driver.executeScript('window.__sameDocument = true');

      const arrived = await driver.wait(
        async () => {
          const first = (await driver.findElements(By.css('[data-testid=event]')))[0];
          const id = first && (await first.getAttribute('data-id'));
          return id && !before.has(id) ? { id, start: Number(await first.getAttribute('data-start')), seenAt: Date.now() } : null;
        },
        NEXT_CROSSING_MS,
        'no new event appeared at the top of the timeline',
      );
      if (!arrived) throw new Error('driver.wait resolved without a new event');
      expect(arrived.seenAt - arrived.start).toBeLessThan(10000);
      expect(await driver.executeScript('return window.__sameDocument === true')).toBe(true);
      const item = await waitForCss(driver, `[data-testid=event][data-id="${arrived.id}"]`);
      expect(await item.getAttribute('data-type')).toBe('motion');
      expect(await item.getText()).toMatch(/motion on demo/i);
      liveEventId = arrived.id;
      // Its snapshot is shown once the event node has saved it (an update, also live).
      await driver.wait(until.elementLocated(By.css(`[data-id="${arrived.id}"] img.thumb`)), 20000, 'the snapshot thumbnail did not appear');
      await saveScreenshot(driver, `events-${size}`);
      await expectNoBrowserProblems(driver);
    }, 150000);

    it('filters by type through the URL: motion lists the crossings, rule lists none', async () => {
      await openPage(driver, app.base, '/events', 'Events');
      const type = await waitForCss(driver, 'select[name=type]');
      await type.findElement(By.xpath(".//option[normalize-space()='motion']")).click();
      await driver.wait(async () => (await driver.getCurrentUrl()).includes('type=motion'), 5000);
      await waitForCss(driver, '[data-testid=event]');
      const types = await Promise.all((await driver.findElements(By.css('[data-testid=event]'))).map((e) => e.getAttribute('data-type')));
      expect(types.length).toBeGreaterThan(0);
      expect(new Set(types)).toEqual(new Set(['motion']));

      await (await waitForCss(driver, 'select[name=type]')).findElement(By.xpath(".//option[normalize-space()='rule']")).click();
      await driver.wait(async () => (await driver.getCurrentUrl()).includes('type=rule'), 5000);
      await waitForCss(driver, '[data-testid=no-events]');
      expect(await driver.findElements(By.css('[data-testid=event]'))).toHaveLength(0);

      // The filter is in the address, so a reload (or a shared link) shows the same list.
      await driver.navigate().refresh();
      await waitForCss(driver, '[data-testid=no-events]');
      expect(await (await waitForCss(driver, 'select[name=type]')).getAttribute('value')).toBe('rule');

      // A time range: from 2099 on there is nothing yet; clearing the filters brings the crossings back.
      await openPage(driver, app.base, '/events?from=2099-01-01T00:00', 'Events');
      await waitForCss(driver, '[data-testid=no-events]');
      expect(await (await waitForCss(driver, 'input[name=from]')).getAttribute('value')).toBe('2099-01-01T00:00');
      await (await waitForCss(driver, '.filters button')).click();
      await waitForCss(driver, '[data-testid=event]');
      expect(await driver.getCurrentUrl()).toBe(`${app.base}/events`);
      await expectNoBrowserProblems(driver);
    }, 90000);

    it('opens the event with its boxes, keeps it across a reload, and lists its alert', async () => {
      await openPage(driver, app.base, `/events/${liveEventId}`, 'motion on demo');
      await waitForCss(driver, '[data-testid=snapshot]');
      const keep = await waitForCss(driver, '[data-testid=keep]');
      expect(await keep.getAttribute('aria-pressed')).toBe('false');
      await keep.click();
      await driver.wait(async () => (await driver.findElement(By.css('[data-testid=keep]')).getAttribute('aria-pressed')) === 'true', 10000);
      await driver.navigate().refresh();
      await driver.wait(until.elementLocated(By.css('[data-testid=keep][aria-pressed=true]')), 15000, 'the event was not kept after a reload');
      // cap-alert raised an alert for the event's start (it waits up to 5 s for the snapshot); the page hears it live.
      const link = await waitForCss(driver, '[data-testid=alert-link]', 30000);
      expect(await link.getText()).toMatch(/motion on demo/);
      expect(await (await waitForCss(driver, '[data-testid=decision]')).getText()).toMatch(/passed by motion and tamper/);
      await saveScreenshot(driver, `event-${size}`);
      await expectNoBrowserProblems(driver);
    }, 90000);

    it("shows the alert's CAP document and its (empty, with notifiers disabled) delivery ledger", async () => {
      await openPage(driver, app.base, `/events/${liveEventId}`, 'motion on demo');
      await (await waitForCss(driver, '[data-testid=alert-link]', 30000)).click();
      const cap = await waitForCss(driver, '[data-testid=cap-xml]');
      const xml = await cap.getText();
      expect(xml).toContain('urn:oasis:names:tc:emergency:cap:1.2');
      expect(xml).toContain(liveEventId);
      // Every notifier of the default flow is disabled until configured: no delivery rows, and the page says why.
      expect(await driver.findElements(By.css('[data-testid=delivery]'))).toHaveLength(0);
      expect(await (await waitForCss(driver, '[data-testid=no-deliveries]')).getText()).toMatch(/no notifier was enabled/);
      expect(await (await waitForCss(driver, '[data-testid=delivery-summary]')).getText()).toBe('no deliveries');
      expect(await (await waitForCss(driver, '[data-testid=suspend]')).getText()).toMatch(/Notifications for demo: on/);
      await saveScreenshot(driver, `alert-${size}`);

      // An operator suspends the camera's notifications for an hour, and resumes them.
      await (await waitForCss(driver, '[data-testid=suspend] button[type=submit]')).click();
      await driver.wait(async () => /suspended until/.test(await driver.findElement(By.css('[data-testid=suspend]')).getText()), 10000, 'not suspended');
      await driver.findElement(By.xpath("//button[normalize-space()='Resume notifications']")).click();
      await driver.wait(
        async () => /Notifications for demo: on/.test(await driver.findElement(By.css('[data-testid=suspend]')).getText()),
        10000,
        'not resumed',
      );
      await expectNoBrowserProblems(driver);
    }, 90000);

    it("lists the alerts with their delivery summary, the next crossing's alert arriving live", async () => {
      await openPage(driver, app.base, '/alerts', 'Alerts');
      const first = await waitForCss(driver, '[data-testid=alert]');
      const before = await first.getAttribute('data-id');
      expect(await first.getText()).toMatch(/motion on demo/);
      expect(await first.findElement(By.css('[data-testid=delivery-summary]')).getText()).toBe('no deliveries');
      if (size === 'desktop') await saveScreenshot(driver, 'alerts-desktop');
      await driver.executeScript('window.__sameDocument = true');
      await driver.wait(
        async () => (await driver.findElement(By.css('[data-testid=alert]')).getAttribute('data-id')) !== before,
        NEXT_CROSSING_MS,
        'no new alert appeared at the top of the list',
      );
      expect(await driver.executeScript('return window.__sameDocument === true')).toBe(true);
      await expectNoBrowserProblems(driver);
    }, 120000);
  });
});
