import type { WebDriver } from 'selenium-webdriver';
import { startGlimpser, type RunningGlimpser } from '../support/glimpser-process';
import { expectNoBrowserProblems, signInThroughForm, startAppBrowser, waitForCss } from '../support/web-app';

describe('the web app shell', () => {
  let app: RunningGlimpser;
  let driver: WebDriver;
  beforeAll(async () => {
    app = await startGlimpser(undefined, { GLIMPSER_ADMIN_PASSWORD: 'admin-password-for-web' });
    driver = await startAppBrowser();
  }, 120000);
  afterAll(async () => {
    await driver?.quit();
    await app?.stop();
  });

  it('signs in through the form and shows the signed-in header, with no console error', async () => {
    await signInThroughForm(driver, app.base, 'admin', 'admin-password-for-web');
    await waitForCss(driver, 'nav a[aria-current=page]');
    await expectNoBrowserProblems(driver);
  }, 60000);
});
