import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Builder, type WebDriver } from 'selenium-webdriver';
import chrome from 'selenium-webdriver/chrome';
import { findTool } from './tools';

/**
 * Debian's headless Chromium under chromedriver, as the end-to-end tests drive it: a fresh profile, no background
 * traffic, a window large enough for the editor and Swagger UI. Quit it with `driver.quit()`.
 */
export function startChromium(): Promise<WebDriver> {
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
    '--window-size=1400,900',
    `--user-data-dir=${mkdtempSync(path.join(tmpdir(), 'glimpser-e2e-'))}`,
  );
  return new Builder()
    .forBrowser('chrome')
    .setChromeOptions(options)
    .setChromeService(new chrome.ServiceBuilder(findTool('chromedriver')))
    .build();
}
