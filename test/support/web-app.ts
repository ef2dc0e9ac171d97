import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { By, logging, until, type WebDriver, type WebElement } from 'selenium-webdriver';
import { buildChromium, chromiumOptions } from './chromium';
import { REPO_ROOT } from './glimpser-process';

/**
 * One shared helper module for the web app's browser tests (issue 14): Debian's Chromium with its console log
 * collected, desktop and mobile viewports, sign-in through the real form, screenshots for the docs, and the check
 * every test ends with: no console error and no failed request.
 */

export const DESKTOP = { width: 1400, height: 900 } as const;
/** The issue's phone: 390×844 CSS pixels. */
export const MOBILE = { width: 390, height: 844 } as const;
export type Viewport = typeof DESKTOP | typeof MOBILE;

const MOBILE_AGENT = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36';

export const SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots');

/** Headless Chromium with the browser log kept (console messages and failed loads), in a viewport of this size. */
export async function startAppBrowser(viewport: Viewport = DESKTOP): Promise<WebDriver> {
  const options = chromiumOptions('glimpser-web-');
  options.addArguments('--hide-scrollbars');
  if (viewport.width < 600) {
    // chromedriver wants deviceMetrics (a bare {width, height} gives a 780×437 page); the typings lack it.
    const metrics = { deviceMetrics: { width: viewport.width, height: viewport.height, pixelRatio: 1, touch: true }, userAgent: MOBILE_AGENT };
    options.setMobileEmulation(metrics as unknown as { deviceName: string });
  } else options.addArguments(`--window-size=${viewport.width},${viewport.height}`);
  const prefs = new logging.Preferences();
  prefs.setLevel(logging.Type.BROWSER, logging.Level.ALL);
  options.setLoggingPrefs(prefs);
  return buildChromium(options);
}

/** A console error or a failed request the browser logged. */
export interface BrowserProblem {
  level: string;
  message: string;
}

/**
 * Reads (and so empties) the browser log: SEVERE entries are console errors, uncaught exceptions and failed loads
 * ("Failed to load resource: the server responded with a status of 404"). `allow` lists patterns a test expects,
 * such as the 401 a wrong password answers on purpose.
 */
export async function browserProblems(driver: WebDriver, allow: RegExp[] = []): Promise<BrowserProblem[]> {
  const entries = await driver.manage().logs().get(logging.Type.BROWSER);
  return entries
    .filter((e) => e.level.value >= logging.Level.SEVERE.value)
    .map((e) => ({ level: e.level.name, message: e.message }))
    .filter((p) => !allow.some((pattern) => pattern.test(p.message)));
}

/** Fails the test with the browser's own words when it logged an error or a failed request. */
export async function expectNoBrowserProblems(driver: WebDriver, allow: RegExp[] = []): Promise<void> {
  expect(await browserProblems(driver, allow)).toEqual([]);
}

/** Opens the app and signs in through its form; resolves once the signed-in header shows the user. */
export async function signInThroughForm(driver: WebDriver, base: string, username: string, password: string): Promise<void> {
  await driver.get(`${base}/`);
  const name = await driver.wait(until.elementLocated(By.css('input[name=username]')), 15000);
  await name.sendKeys(username);
  await driver.findElement(By.css('input[name=password]')).sendKeys(password);
  await driver.findElement(By.css('form button[type=submit]')).click();
  await driver.wait(until.elementLocated(By.css('[data-testid=user]')), 15000);
}

/** Goes to an app page the way a person does, by the address bar, and waits for its heading. */
export async function openPage(driver: WebDriver, base: string, pathname: string, heading?: string): Promise<void> {
  await driver.get(`${base}${pathname}`);
  if (heading) await driver.wait(until.elementLocated(By.xpath(`//h1[normalize-space()=${xpathString(heading)}]`)), 15000);
}

/** Waits for an element by CSS selector and returns it. */
export function waitForCss(driver: WebDriver, css: string, timeoutMs = 15000): Promise<WebElement> {
  return driver.wait(until.elementLocated(By.css(css)), timeoutMs, `no element matches ${css} within ${timeoutMs} ms`);
}

/** Writes a screenshot of the current page to docs/screenshots/<name>.png (the README's tour shows them). */
export async function saveScreenshot(driver: WebDriver, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  writeFileSync(file, Buffer.from(await driver.takeScreenshot(), 'base64'));
  return file;
}

export function xpathString(text: string): string {
  return text.includes("'") ? `concat('${text.split("'").join(`', "'", '`)}')` : `'${text}'`;
}
