import type { WebDriver } from 'selenium-webdriver';
import { EventJournal } from '../../core/store/journal';
import { startGlimpser, tempDataDir, type RunningGlimpser } from '../support/glimpser-process';
import { DESKTOP, expectNoBrowserProblems, MOBILE, openPage, signInThroughForm, startAppBrowser, type Viewport } from '../support/web-app';

/**
 * Issue 14: the events timeline scrolls through the whole journal on the cursor API without a click — scrolling to the
 * end loads the next page by itself — in order, with no event twice, and stops at the oldest. 75 past events of a
 * camera that is not deployed are written before Glimpser starts (the demo camera adds its own on top).
 */
const PASSWORD = 'admin-password-for-scroll';
const SEEDED = 75;
const DAY_MS = 86_400_000;

async function seedEvents(dataDir: string): Promise<void> {
  const journal = new EventJournal({ dataDir, enforceEveryMs: null });
  journal.open();
  const oldest = Date.now() - 2 * DAY_MS;
  for (let i = 0; i < SEEDED; i++) {
    journal.insert({ camera: 'yard', type: 'motion', startTime: oldest + i * 60_000, endTime: oldest + i * 60_000 + 5_000, score: 0.2, zones: ['lawn'] });
  }
  await journal.close();
}

describe('the events timeline scrolls through every page', () => {
  let app: RunningGlimpser;
  beforeAll(async () => {
    const dataDir = tempDataDir();
    await seedEvents(dataDir);
    app = await startGlimpser(dataDir, { GLIMPSER_ADMIN_PASSWORD: PASSWORD });
  }, 180000);
  afterAll(() => app?.stop());

  it.each([
    ['desktop', DESKTOP],
    ['phone', MOBILE],
  ] as [string, Viewport][])(
    'loads the next page on scrolling, newest first, each event once (%s)',
    async (_name, viewport) => {
      const driver: WebDriver = await startAppBrowser(viewport);
      try {
        await signInThroughForm(driver, app.base, 'admin', PASSWORD);
        await openPage(driver, app.base, '/events?camera=yard', 'Events');
        const shown = (): Promise<{ ids: string[]; starts: number[] }> =>
          driver.executeScript(`
          const items = [...document.querySelectorAll('[data-testid=event]')];
          return { ids: items.map((e) => e.dataset.id), starts: items.map((e) => Number(e.dataset.start)) };`);
        await driver.wait(async () => (await shown()).ids.length > 0, 15000, 'the first page did not show');
        expect((await shown()).ids.length).toBeLessThan(SEEDED);
        // Scroll to the end, again and again, the way a person does: no button is pressed.
        await driver.wait(
          async () => {
            await driver.executeScript('window.scrollTo(0, document.body.scrollHeight)');
            return (await shown()).ids.length === SEEDED;
          },
          30000,
          `scrolling did not load all ${SEEDED} events`,
        );
        const { ids, starts } = await shown();
        expect(new Set(ids).size).toBe(SEEDED);
        expect(starts).toEqual([...starts].sort((a, b) => b - a));
        // The oldest page was the last: no "Load more" is left.
        expect(await driver.findElements({ css: '.more button' })).toHaveLength(0);
        await expectNoBrowserProblems(driver);
      } finally {
        await driver.quit();
      }
    },
    120000,
  );
});
