import { checkWebUrl } from '../../net/url-policy';

export type SelectorType = 'css' | 'xpath';

/** What to photograph on a web page and how to prepare the page first. */
export interface WebsiteCaptureOptions {
  /** The page: http:// or https:// only, checked against the URL policy (and DNS) before every capture. */
  url: string;
  /**
   * Hosts allowed even where the URL policy would refuse them: link-local addresses, cloud metadata names, and
   * loopback anywhere but the page's own host and port. "host" allows every port, "host:port" only that one.
   */
  allowHosts?: string[];
  /** CSS pixels of the browser viewport; default 1280×720. */
  viewport?: { width: number; height: number };
  /** The whole scrollable page rather than the viewport (capped at 16384 px tall). */
  fullPage?: boolean;
  /** Shoot only this element: a CSS selector, or XPath with an `xpath:` prefix or `selectorType: 'xpath'`. */
  element?: string;
  /** How `element` and `waitFor` are read when they carry no `css:` or `xpath:` prefix; default css. */
  selectorType?: SelectorType;
  /** CSS selectors of elements deleted before the shot: cookie banners, popups, chat bubbles. */
  remove?: string[];
  /** Wait until this element exists (same selector rules as `element`). */
  waitFor?: string;
  /** Wait until no request has been in flight for 500 ms. */
  networkIdle?: boolean;
  /** Limit for `waitFor` and `networkIdle`; default 10000. */
  waitTimeoutMs?: number;
  /** Sent as an Authorization header; never put into the URL or logs. */
  basicAuth?: { username: string; password: string };
  /** Forget every cookie before the capture, so each shot sees the site as a first-time visitor; default true. */
  clearCookies?: boolean;
  /** Ask the page for its dark colour scheme (prefers-color-scheme: dark). */
  darkMode?: boolean;
  /** Hide that the browser is automated: no navigator.webdriver, no "HeadlessChrome" in the user agent. */
  stealth?: boolean;
  /** A page not loaded by then fails the capture and its browser is recycled; default 30000. */
  pageTimeoutMs?: number;
  /** JPEG quality 1-100; default 80. */
  quality?: number;
}

export interface Selector {
  type: SelectorType;
  value: string;
  /** As the user wrote it, for error messages. */
  text: string;
}

/** Options with defaults applied and selectors parsed: what a capture runs on. */
export interface CheckedWebsiteOptions {
  url: string;
  allowHosts: string[];
  viewport: { width: number; height: number };
  fullPage: boolean;
  element: Selector | null;
  remove: string[];
  waitFor: Selector | null;
  networkIdle: boolean;
  waitTimeoutMs: number;
  basicAuth: { username: string; password: string } | null;
  clearCookies: boolean;
  darkMode: boolean;
  stealth: boolean;
  pageTimeoutMs: number;
  quality: number;
}

export const WEBSITE_OPTION_FIELDS: readonly string[] = [
  'url',
  'allowHosts',
  'viewport',
  'fullPage',
  'element',
  'selectorType',
  'remove',
  'waitFor',
  'networkIdle',
  'waitTimeoutMs',
  'basicAuth',
  'clearCookies',
  'darkMode',
  'stealth',
  'pageTimeoutMs',
  'quality',
];

/** Only the capture options out of a larger object, such as a source's options with its camera and pool. */
export function pickWebsiteOptions(options: WebsiteCaptureOptions): WebsiteCaptureOptions {
  const fields = options as unknown as Record<string, unknown>;
  return Object.fromEntries(
    WEBSITE_OPTION_FIELDS.filter((key) => fields[key] !== undefined).map((key) => [key, fields[key]]),
  ) as unknown as WebsiteCaptureOptions;
}

/**
 * Checks website capture options and applies defaults, so a bad camera fails when it is configured rather than on
 * its first capture. An unknown key is refused: it is most likely a misspelt option that would silently do nothing.
 */
export function checkWebsiteOptions(options: WebsiteCaptureOptions): CheckedWebsiteOptions {
  const fields = options as unknown as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !WEBSITE_OPTION_FIELDS.includes(key));
  if (unknown !== undefined) throw new Error(`${unknown} is not a website capture option: expected ${WEBSITE_OPTION_FIELDS.join(', ')}`);
  const allowHosts = stringList(options.allowHosts, 'allowHosts');
  if (typeof options.url !== 'string') throw new Error(`url ${describe(options.url)} is invalid: expected an http:// or https:// URL`);
  const url = checkWebUrl(options.url, { allowHosts });
  if (url.username !== '' || url.password !== '') {
    throw new Error('url contains a user name or password: put them in basicAuth, which keeps them out of the URL and the logs');
  }
  const selectorType = options.selectorType ?? 'css';
  if (selectorType !== 'css' && selectorType !== 'xpath') throw new Error(`selectorType ${describe(selectorType)} is invalid: expected "css" or "xpath"`);
  const element = optionalSelector(options.element, selectorType, 'element');
  const fullPage = flag(options.fullPage, 'fullPage', false);
  if (fullPage && element !== null) throw new Error('fullPage and element cannot both be set: a capture shoots either the whole page or one element');
  return {
    url: url.href,
    allowHosts,
    viewport: {
      width: integerIn(options.viewport?.width ?? 1280, 'viewport.width', 16, 7680),
      height: integerIn(options.viewport?.height ?? 720, 'viewport.height', 16, 4320),
    },
    fullPage,
    element,
    remove: stringList(options.remove, 'remove'),
    waitFor: optionalSelector(options.waitFor, selectorType, 'waitFor'),
    networkIdle: flag(options.networkIdle, 'networkIdle', false),
    waitTimeoutMs: integerIn(options.waitTimeoutMs ?? 10000, 'waitTimeoutMs', 100, 300000),
    basicAuth: checkBasicAuth(options.basicAuth),
    clearCookies: flag(options.clearCookies, 'clearCookies', true),
    darkMode: flag(options.darkMode, 'darkMode', false),
    stealth: flag(options.stealth, 'stealth', false),
    pageTimeoutMs: integerIn(options.pageTimeoutMs ?? 30000, 'pageTimeoutMs', 500, 300000),
    quality: integerIn(options.quality ?? 80, 'quality', 1, 100),
  };
}

/** `xpath:` and `css:` prefixes win over selectorType, so one camera can mix both kinds. */
export function parseSelector(text: string, defaultType: SelectorType): Selector {
  if (text.startsWith('xpath:')) return { type: 'xpath', value: text.slice(6).trim(), text };
  if (text.startsWith('css:')) return { type: 'css', value: text.slice(4).trim(), text };
  return { type: defaultType, value: text.trim(), text };
}

function optionalSelector(value: unknown, defaultType: SelectorType, field: string): Selector | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.trim() === '')
    throw new Error(`${field} ${describe(value)} is invalid: expected a CSS selector or "xpath:" followed by an XPath`);
  const selector = parseSelector(value, defaultType);
  if (selector.value === '') throw new Error(`${field} ${describe(value)} has nothing after its prefix: expected a selector`);
  return selector;
}

function checkBasicAuth(value: unknown): { username: string; password: string } | null {
  if (value === undefined) return null;
  const auth = value as Record<string, unknown> | null;
  if (typeof auth !== 'object' || auth === null || typeof auth.username !== 'string' || typeof auth.password !== 'string') {
    throw new Error('basicAuth is invalid: expected { username, password } with both strings');
  }
  // RFC 7617 §2: the user-id cannot contain a colon, because the first colon separates it from the password.
  if (auth.username === '' || auth.username.includes(':')) throw new Error('basicAuth.username is invalid: expected a non-empty name without ":"');
  return { username: auth.username, password: auth.password };
}

function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new Error(`${field} ${describe(value)} is invalid: expected true or false`);
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.trim() === '')) {
    throw new Error(`${field} is invalid: expected a list of non-empty strings`);
  }
  return [...(value as string[])];
}

function integerIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${field} ${describe(value)} is invalid: expected an integer from ${min} to ${max}`);
  }
  return value;
}

function describe(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** Origin and path only, for messages and logs: query strings of dashboards often carry tokens. */
export function shortUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return url.origin === 'null' ? raw.slice(0, 80) : url.origin + url.pathname;
  } catch {
    return raw.slice(0, 80);
  }
}
