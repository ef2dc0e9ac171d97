import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Builder, type WebDriver } from 'selenium-webdriver';
import chrome from 'selenium-webdriver/chrome';
import { findTool } from './tools';

/**
 * Debian's headless Chromium as every browser test runs it: a fresh profile (under a temp folder named with
 * `profile`), no background traffic. Callers add their window size and logging, then start it with `buildChromium`.
 */
export function chromiumOptions(profile = 'glimpser-e2e-'): chrome.Options {
  const options = new chrome.Options().setChromeBinaryPath(findTool('chromium'));
  options.addArguments(
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    `--user-data-dir=${mkdtempSync(path.join(tmpdir(), profile))}`,
  );
  return options;
}

/** Starts Chromium with these options under Debian's chromedriver. Quit it with `driver.quit()`. */
export function buildChromium(options: chrome.Options): Promise<WebDriver> {
  return new Builder()
    .forBrowser('chrome')
    .setChromeOptions(options)
    .setChromeService(new chrome.ServiceBuilder(findTool('chromedriver')))
    .build();
}

/** Chromium with a window large enough for the editor and Swagger UI. */
export function startChromium(): Promise<WebDriver> {
  const options = chromiumOptions();
  options.addArguments('--window-size=1400,900');
  return buildChromium(options);
}
