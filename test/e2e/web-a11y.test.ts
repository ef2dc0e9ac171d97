import { readFileSync } from 'node:fs';
import type { WebDriver } from 'selenium-webdriver';
import { startGlimpser, type RunningGlimpser } from '../support/glimpser-process';
import { DESKTOP, expectNoBrowserProblems, MOBILE, openPage, signInThroughForm, startAppBrowser, waitForCss, type Viewport } from '../support/web-app';

/**
 * Issue 14: the app is accessible (labels, keyboard, contrast). axe-core (Deque's rules engine, the one browser
 * audits use) checks every page of the real app against WCAG 2.1 A and AA, signed in as an admin so every control
 * is on the page, at the desktop and the phone size. A serious or critical violation fails with axe's own words.
 * axe is run by the test driver (WebDriver evaluates it outside the page's Content-Security-Policy), not served by
 * Glimpser.
 */
const PASSWORD = 'admin-password-for-a11y';
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

async function audit(driver: WebDriver): Promise<string[]> {
  await driver.executeScript(AXE);
  const violations = await driver.executeAsyncScript<Violation[]>(`
    const done = arguments[arguments.length - 1];
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }))))
      .catch((e) => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join(' | ')}`);
}

describe('the web app is accessible (axe-core, WCAG 2.1 AA)', () => {
  let app: RunningGlimpser;
  let pages: [path: string, heading: string | undefined][];
  beforeAll(async () => {
    app = await startGlimpser(undefined, { GLIMPSER_ADMIN_PASSWORD: PASSWORD });
    const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
    // Wait for the demo crossing's event and alert, so their pages exist.
    const until = Date.now() + 90000;
    let event: string | undefined;
    let alert: string | undefined;
    while ((!event || !alert) && Date.now() < until) {
      event = ((await (await fetch(`${app.base}/api/events?limit=1`, { headers: auth })).json()) as { events: { id: string }[] }).events[0]?.id;
      alert = ((await (await fetch(`${app.base}/api/alerts?limit=1`, { headers: auth })).json()) as { alerts: { id: string }[] }).alerts[0]?.id;
      if (!event || !alert) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    if (!event || !alert) throw new Error('the demo camera made no event and alert within 90 s');
    pages = [
      ['/', 'Cameras'],
      ['/cameras/demo', undefined],
      ['/events', 'Events'],
      [`/events/${event}`, undefined],
      ['/alerts', 'Alerts'],
      [`/alerts/${alert}`, undefined],
      ['/summaries', 'Summaries'],
      ['/admin/users', undefined],
      ['/admin/keys', undefined],
      ['/admin/notifiers', undefined],
      ['/admin/jobs', undefined],
      ['/admin/system', undefined],
      ['/sources/new', undefined],
    ];
  }, 180000);
  afterAll(() => app?.stop());

  it.each([
    ['desktop', DESKTOP],
    ['phone', MOBILE],
  ] as [string, Viewport][])(
    'has no serious or critical violation on any page (%s)',
    async (_name, viewport) => {
      const driver = await startAppBrowser(viewport);
      try {
        await driver.get(`${app.base}/`);
        expect(await audit(driver)).toEqual([]); // the sign-in page
        await signInThroughForm(driver, app.base, 'admin', PASSWORD);
        const found: Record<string, string[]> = {};
        for (const [path, heading] of pages) {
          await openPage(driver, app.base, path, heading);
          await waitForCss(driver, 'main h1');
          await driver.wait(async () => (await driver.findElements({ css: '.loading' })).length === 0, 15000, `${path} kept loading`);
          const violations = await audit(driver);
          if (violations.length > 0) found[path] = violations;
        }
        expect(found).toEqual({});
        await expectNoBrowserProblems(driver);
      } finally {
        await driver.quit();
      }
    },
    240000,
  );
});
