import { By, error as webdriverError, until } from 'selenium-webdriver';
import sharp from 'sharp';
import { policyFor } from '../../net/policy-proxy';
import { checkWebUrl } from '../../net/url-policy';
import type { BrowserSession } from '../browser-pool';
import { NetworkIdleWatcher } from './network-idle';
import { shortUrl, type CheckedWebsiteOptions, type Selector } from './options';
import { OriginAuth } from './origin-auth';

/** A screenshot of a web page, as JPEG. */
export interface WebsiteShot {
  jpeg: Buffer;
  width: number;
  height: number;
  /** The browser session that took it; a recycled browser has a new one. */
  sessionId: string;
}

/** A capture that failed because of the page or the options, not the browser: the browser stays in the pool. */
export class PageError extends Error {}

/** Chromium draws nothing taller than its largest texture; beyond it a full-page shot comes back garbled. */
const MAX_SHOT_PX = 16384;
const NETWORK_QUIET_MS = 500;

// Deleting the prototype's property leaves `navigator.webdriver` undefined, as it is in a browser nobody drives.
const HIDE_WEBDRIVER = 'delete Object.getPrototypeOf(navigator).webdriver;';

const PAGE_STATE = `
  const nav = performance.getEntriesByType('navigation')[0];
  const code = document.querySelector('.error-code');
  const text = document.body ? document.body.innerText : '';
  return {
    href: location.href,
    status: nav && nav.responseStatus ? nav.responseStatus : 0,
    errorCode: code ? code.textContent.trim() : ((/ERR_[A-Z_]+/.exec(text) || [''])[0]),
  };`;

const REMOVE_ELEMENTS = `
  const removed = [];
  for (const selector of arguments[0]) {
    let nodes;
    try { nodes = document.querySelectorAll(selector); } catch (e) { return { invalid: selector }; }
    nodes.forEach((node) => node.remove());
    removed.push(nodes.length);
  }
  return { removed };`;

const ELEMENT_BOX = `
  const box = arguments[0].getBoundingClientRect();
  return { x: box.left + window.scrollX, y: box.top + window.scrollY, width: box.width, height: box.height };`;

interface PageState {
  href: string;
  status: number;
  errorCode: string;
}
interface Clip {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Photographs one page in a fresh tab of the session's browser. Everything set up for the capture (viewport, dark
 * mode, headers, user agent, injected scripts) lives in that tab and goes when it is closed, so the next capture on
 * this browser, maybe for another camera, starts clean.
 */
export async function shootPage(session: BrowserSession, url: URL, opts: CheckedWebsiteOptions): Promise<WebsiteShot> {
  const { driver } = session;
  session.allowRequests({ origin: url, allowHosts: opts.allowHosts });
  let watcher: NetworkIdleWatcher | null = null;
  let auth: OriginAuth | null = null;
  try {
    await driver.switchTo().newWindow('tab');
    const tab = await driver.getWindowHandle();
    await prepareTab(session, opts);
    if (opts.basicAuth) auth = await OriginAuth.open(session.debuggerAddress, tab, url, opts.basicAuth, opts.waitTimeoutMs);
    if (opts.networkIdle) watcher = await NetworkIdleWatcher.open(session.debuggerAddress, tab, opts.waitTimeoutMs);
    await navigate(session, url, opts);
    if (opts.waitFor) await waitForElement(session, opts.waitFor, opts.waitTimeoutMs);
    if (watcher)
      await watcher.idle(NETWORK_QUIET_MS, opts.waitTimeoutMs).catch((err: Error) => {
        throw new PageError(err.message);
      });
    if (opts.remove.length > 0) await removeElements(session, opts.remove);
    // The page may have navigated itself since it loaded (a script, a meta refresh).
    await checkWhereWeAre(session, url, opts);
    const png = await screenshot(session, opts);
    const { data, info } = await sharp(png).jpeg({ quality: opts.quality, mozjpeg: true }).toBuffer({ resolveWithObject: true });
    return { jpeg: data, width: info.width, height: info.height, sessionId: session.id };
  } finally {
    session.allowRequests(null);
    watcher?.close();
    auth?.close();
    await closeTabs(session);
  }
}

async function prepareTab(session: BrowserSession, opts: CheckedWebsiteOptions): Promise<void> {
  await session.cdp('Network.enable');
  if (opts.clearCookies) await session.cdp('Network.clearBrowserCookies');
  await session.cdp('Emulation.setDeviceMetricsOverride', { ...opts.viewport, deviceScaleFactor: 1, mobile: false });
  if (opts.darkMode) await session.cdp('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-color-scheme', value: 'dark' }] });
  if (opts.stealth) {
    await session.cdp('Page.addScriptToEvaluateOnNewDocument', { source: HIDE_WEBDRIVER });
    await session.cdp('Network.setUserAgentOverride', { userAgent: session.userAgent.replace(/HeadlessChrome\//g, 'Chrome/') });
  }
  await session.driver.manage().setTimeouts({ pageLoad: opts.pageTimeoutMs });
}

async function navigate(session: BrowserSession, url: URL, opts: CheckedWebsiteOptions): Promise<void> {
  try {
    await session.driver.get(url.href);
  } catch (err) {
    // Not a PageError: chromedriver is left waiting on a renderer that may never answer, so the browser goes.
    if (err instanceof webdriverError.TimeoutError) throw new Error(`page did not load within ${opts.pageTimeoutMs} ms`);
    throw err;
  }
  await checkWhereWeAre(session, url, opts);
  const state = await session.driver.executeScript<PageState>(PAGE_STATE);
  // Before the error-page test: headless Chromium shows a 401 with a WWW-Authenticate challenge as an empty error page.
  if (state.status >= 400) {
    const hint = state.status === 401 ? (opts.basicAuth ? ': check basicAuth username and password' : ': the page needs basicAuth') : '';
    throw new PageError(`${shortUrl(url.href)} answered HTTP ${state.status}${hint}`);
  }
  if (state.href.startsWith('chrome-error:')) {
    throw new PageError(`${shortUrl(url.href)} could not be loaded: ${state.errorCode || 'network error'}`);
  }
}

/**
 * A redirect or a script can send the browser to an address the URL policy refuses. The proxy has refused the request
 * already; this names it, where the shot would otherwise be of the proxy's refusal or Chromium's error page.
 */
async function checkWhereWeAre(session: BrowserSession, url: URL, opts: CheckedWebsiteOptions): Promise<void> {
  const current = await session.driver.getCurrentUrl();
  if (current === url.href || current === 'about:blank') return;
  try {
    const policy = URL.canParse(current) ? policyFor(new URL(current), { origin: url, allowHosts: opts.allowHosts }) : { allowHosts: opts.allowHosts };
    checkWebUrl(current, policy, 'the page it went to');
  } catch (err) {
    throw new PageError(`${shortUrl(url.href)} went to ${shortUrl(current)}, which is refused: ${(err as Error).message}`);
  }
}

function byOf(selector: Selector): By {
  return selector.type === 'xpath' ? By.xpath(selector.value) : By.css(selector.value);
}

async function waitForElement(session: BrowserSession, selector: Selector, timeoutMs: number): Promise<void> {
  try {
    await session.driver.wait(until.elementLocated(byOf(selector)), timeoutMs);
  } catch (err) {
    if (err instanceof webdriverError.TimeoutError) throw new PageError(`waitFor ${selector.text} did not appear within ${timeoutMs} ms`);
    if (err instanceof webdriverError.InvalidSelectorError)
      throw new PageError(`waitFor ${selector.text} is not a valid ${selector.type === 'xpath' ? 'XPath' : 'CSS selector'}`);
    throw err;
  }
}

async function removeElements(session: BrowserSession, selectors: string[]): Promise<void> {
  const result = await session.driver.executeScript<{ invalid?: string }>(REMOVE_ELEMENTS, selectors);
  if (result.invalid !== undefined) throw new PageError(`remove ${JSON.stringify(result.invalid)} is not a valid CSS selector`);
}

async function screenshot(session: BrowserSession, opts: CheckedWebsiteOptions): Promise<Buffer> {
  const clip = opts.element ? await elementClip(session, opts.element) : opts.fullPage ? await fullPageClip(session, opts) : null;
  const params = clip ? { format: 'png', captureBeyondViewport: true, clip: { ...clip, scale: 1 } } : { format: 'png' };
  const { data } = await session.cdp<{ data: string }>('Page.captureScreenshot', params);
  return Buffer.from(data, 'base64');
}

/** The element's box in page coordinates, which is what a clip means when the shot may reach past the viewport. */
async function elementClip(session: BrowserSession, selector: Selector): Promise<Clip> {
  let element;
  try {
    element = await session.driver.findElement(byOf(selector));
  } catch (err) {
    if (err instanceof webdriverError.NoSuchElementError) throw new PageError(`element ${selector.text} is not on the page`);
    if (err instanceof webdriverError.InvalidSelectorError)
      throw new PageError(`element ${selector.text} is not a valid ${selector.type === 'xpath' ? 'XPath' : 'CSS selector'}`);
    throw err;
  }
  const box = await session.driver.executeScript<Clip>(ELEMENT_BOX, element);
  const clip = {
    x: Math.max(0, Math.round(box.x)),
    y: Math.max(0, Math.round(box.y)),
    width: Math.min(MAX_SHOT_PX, Math.round(box.width)),
    height: Math.min(MAX_SHOT_PX, Math.round(box.height)),
  };
  if (clip.width < 1 || clip.height < 1) throw new PageError(`element ${selector.text} has no size on the page: is it hidden?`);
  return clip;
}

async function fullPageClip(session: BrowserSession, opts: CheckedWebsiteOptions): Promise<Clip> {
  const metrics = await session.cdp<{ cssContentSize: { width: number; height: number } }>('Page.getLayoutMetrics');
  const { width, height } = metrics.cssContentSize;
  return {
    x: 0,
    y: 0,
    width: Math.min(MAX_SHOT_PX, Math.max(opts.viewport.width, Math.ceil(width))),
    height: Math.min(MAX_SHOT_PX, Math.max(opts.viewport.height, Math.ceil(height))),
  };
}

/**
 * Closes the capture tab and any window the page opened itself, so none outlives the capture. A tab that cannot be
 * closed leaves the browser in an unknown state: the pool replaces it.
 */
async function closeTabs(session: BrowserSession): Promise<void> {
  const { driver } = session;
  try {
    for (const handle of await driver.getAllWindowHandles()) {
      if (handle === session.homeTab) continue;
      await driver.switchTo().window(handle);
      await driver.close();
    }
    await driver.switchTo().window(session.homeTab);
  } catch (err) {
    session.markBroken(`could not close the capture tab: ${(err as Error).message.split('\n')[0]}`);
  }
}
