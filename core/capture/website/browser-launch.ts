import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Driver, Options } from 'selenium-webdriver/chrome';
import { Executor, HttpClient } from 'selenium-webdriver/http';
import { PolicyProxy, type PolicyProxyOptions } from '../../net/policy-proxy';

/** One chromedriver with the Chromium it drives: a WebDriver session, plus what it takes to kill it for sure. */
export interface LaunchedBrowser {
  /** The WebDriver session id; a recycled browser has a new one. */
  readonly id: string;
  readonly driver: Driver;
  /** chromedriver's process id, which is also the id of the process group Chromium runs in. */
  readonly pid: number;
  /** Profile, cache and crash-report folder of this browser alone, deleted when it is destroyed. */
  readonly dir: string;
  /** Chromium's DevTools endpoint (host:port), for listening to page events. */
  readonly debuggerAddress: string;
  /** Chromium's own user agent; stealth captures send it without "HeadlessChrome". */
  readonly userAgent: string;
  /** The tab that stays open between captures: closing a session's last tab ends the session. */
  readonly homeTab: string;
  /** The URL-policy proxy every request of this browser goes through; closed with the browser. */
  readonly proxy: PolicyProxy;
  readonly exited: Promise<void>;
}

export interface LaunchOptions {
  chromiumPath: string;
  chromedriverPath: string;
  /** Parent folder of each browser's own folder. */
  workDir: string;
  extraArgs: string[];
  startTimeoutMs: number;
  /** How the browser's policy proxy logs refusals and resolves names. */
  proxy: PolicyProxyOptions;
}

const CHROMIUM_ARGS = [
  '--headless=new',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
  '--mute-audio',
  // A launch flag cannot differ per capture on a shared browser, so every session gets it; non-stealth captures
  // still announce themselves through the HeadlessChrome user agent.
  '--disable-blink-features=AutomationControlled',
  // Chromium sends loopback requests past a proxy unless told otherwise; the policy proxy must see them all.
  '--proxy-bypass-list=<-loopback>',
  // WebRTC would otherwise open UDP sockets to any address the page names, around the proxy.
  '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
];

/** Flags that would route requests around the policy proxy, or resolve names behind its back. */
const PROXY_FLAGS = /^--(proxy-server|proxy-pac-url|proxy-bypass-list|no-proxy-server|proxy-auto-detect|host-resolver-rules)(=|$)/;
const QUIT_GRACE_MS = 5000;
const KILL_WAIT_MS = 3000;

/** Every chromedriver still running, so a dying Node process takes its browsers with it. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

/**
 * Starts chromedriver (detached, so it and the Chromium it starts form their own process group) and opens a
 * session. chromedriver is spawned here rather than through selenium's ServiceBuilder, whose child stays in
 * Node's process group, where a group kill would take Node down too.
 */
export async function launchBrowser(options: LaunchOptions): Promise<LaunchedBrowser> {
  checkExtraArgs(options.extraArgs);
  const dir = await mkdtemp(path.join(options.workDir, 'browser-'));
  const proxy = await PolicyProxy.start(options.proxy);
  const child = spawn(options.chromedriverPath, ['--port=0'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Debian's Chromium starts crashpad handlers outside the process group; with its config folder in ours, their
    // command lines name our folder, which is how destroyBrowser finds them.
    env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_CACHE_HOME: path.join(dir, 'cache') },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid !== undefined) trackGroup(child.pid);
  void exited.then(() => {
    if (child.pid !== undefined) liveGroups.delete(child.pid);
  });
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    killGroup(child, dir);
  }, options.startTimeoutMs);
  try {
    const port = await driverPort(child, options);
    const chrome = new Options();
    chrome.setChromeBinaryPath(options.chromiumPath);
    chrome.addArguments(...options.extraArgs, ...CHROMIUM_ARGS, `--proxy-server=${proxy.url}`, `--user-data-dir=${path.join(dir, 'profile')}`, ...rootArgs());
    // An explicit executor: selenium never looks for (or downloads) a driver or browser of its own.
    const driver = Driver.createSession(chrome, new Executor(new HttpClient(`http://127.0.0.1:${port}`)));
    const session = await driver.getSession().catch((err: Error) => {
      throw new Error(`Chromium (${options.chromiumPath}) did not start: ${firstLine(err.message)}`);
    });
    const chromeOptions = session.getCapabilities().get('goog:chromeOptions') as { debuggerAddress?: string } | undefined;
    const version = (await driver.sendAndGetDevToolsCommand('Browser.getVersion', {})) as unknown as { userAgent: string };
    return {
      id: session.getId(),
      driver,
      pid: child.pid ?? -1,
      dir,
      debuggerAddress: chromeOptions?.debuggerAddress ?? '',
      userAgent: version.userAgent,
      homeTab: await driver.getWindowHandle(),
      proxy,
      exited,
    };
  } catch (err) {
    killGroup(child, dir);
    // A chromedriver that never started (not found) has no exit to wait for.
    if (child.pid !== undefined) await Promise.race([exited, delay(KILL_WAIT_MS)]);
    await rm(dir, { recursive: true, force: true });
    await proxy.close();
    throw timedOut ? new Error(`the browser did not start within ${options.startTimeoutMs} ms`) : err;
  } finally {
    clearTimeout(deadline);
  }
}

/** Quits politely, then kills whatever is left: the process group, and strays found by their command line. */
export async function destroyBrowser(browser: LaunchedBrowser): Promise<void> {
  await Promise.race([browser.driver.quit().catch(() => undefined), delay(QUIT_GRACE_MS)]);
  signalGroup(browser.pid, 'SIGKILL');
  await Promise.race([browser.exited, delay(KILL_WAIT_MS)]);
  await killStrays(browser.pid, browser.dir);
  await rm(browser.dir, { recursive: true, force: true });
  await browser.proxy.close();
}

/** Refuses flags that would let requests around the policy proxy; returns the flags. */
export function checkExtraArgs(args: string[]): string[] {
  const refused = args.find((arg) => PROXY_FLAGS.test(arg));
  if (refused !== undefined) throw new Error(`extraArgs ${refused} is refused: every browser request goes through Glimpser's URL-policy proxy`);
  return args;
}

/** Waits for chromedriver's "started successfully on port N" line: with --port=0 it picks a free port itself. */
function driverPort(child: ChildProcess, options: LaunchOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      output = (output + text).slice(-4096);
      const match = /started successfully on port (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      output = (output + text).slice(-4096);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          err.code === 'ENOENT'
            ? `chromedriver not found at ${options.chromedriverPath}: install the Debian package chromium-driver`
            : `chromedriver could not be started (${options.chromedriverPath}): ${err.message}`,
        ),
      );
    });
    child.once('exit', (code, signal) => {
      const last = output.trim().split('\n').pop() ?? '';
      reject(new Error(`chromedriver exited before it was ready (${signal ?? `code ${String(code)}`})${last ? `: ${last}` : ''}`));
    });
  });
}

/** Chromium refuses to run as root with its sandbox on; anyone else keeps the sandbox, pages are untrusted input. */
function rootArgs(): string[] {
  return process.getuid?.() === 0 ? ['--no-sandbox'] : [];
}

function killGroup(child: ChildProcess, dir: string): void {
  if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  void killStrays(child.pid ?? -1, dir);
}

/**
 * Processes of this browser that a group kill can miss: they moved to a group of their own (crashpad), or were
 * already orphaned. Found through /proc by process group or by our folder in their command line.
 */
export async function browserProcesses(pgid: number, dir: string): Promise<number[]> {
  const found: number[] = [];
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the parenthesised command name: state, ppid, pgrp. Zombies are gone already.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length < 3 || fields[0] === 'Z') continue;
    if (Number(fields[2]) === pgid) {
      found.push(Number(entry));
      continue;
    }
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) found.push(Number(entry));
  }
  return found;
}

async function killStrays(pgid: number, dir: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const strays = await browserProcesses(pgid, dir);
    if (strays.length === 0) return;
    for (const pid of strays) signalProcess(pid, 'SIGKILL');
    await delay(100);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid > 0) signalProcess(-pgid, signal);
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone: nothing left to stop.
  }
}

function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const group of liveGroups) signalGroup(group, 'SIGKILL');
  });
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
