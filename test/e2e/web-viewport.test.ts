import type { WebDriver } from 'selenium-webdriver';
import { startGlimpser, type RunningGlimpser } from '../support/glimpser-process';
import { DESKTOP, MOBILE, startAppBrowser } from '../support/web-app';

/** The browser helper's viewports are what the issue asks for: a 390×844 phone and a 1400-wide desktop. */
describe('the browser test viewports', () => {
  let app: RunningGlimpser;
  beforeAll(async () => {
    app = await startGlimpser(undefined, { GLIMPSER_ADMIN_PASSWORD: 'admin-password-for-web' });
  }, 120000);
  afterAll(() => app?.stop());

  it.each([
    ['mobile', MOBILE],
    ['desktop', DESKTOP],
  ])(
    '%s',
    async (_name, viewport) => {
      const driver: WebDriver = await startAppBrowser(viewport);
      try {
        await driver.get(`${app.base}/`);
        const size = (await driver.executeScript('return [window.innerWidth, window.innerHeight]')) as [number, number];
        expect(size[0]).toBe(viewport.width);
        if (viewport === MOBILE) expect(size[1]).toBe(MOBILE.height);
      } finally {
        await driver.quit();
      }
    },
    120000,
  );
});
