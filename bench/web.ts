/**
 * The web app's first view with 16 cameras (issue 14, acceptance 4: interactive in under 1 s on loopback). The real
 * runtime is started as its own process (the built CLI, a temp data dir whose only flow is 16 small demo cameras),
 * and Debian's headless Chromium, signed in through the app's form, reloads the Cameras grid `rounds` times.
 *
 *   npm run build && node dist/bench/web.js [--rounds 7]
 *
 * Per load, from the page's own Performance timeline: DOMContentLoaded (the baseline: the app's HTML, script and
 * stylesheet loaded and run, no data yet), the grid rendered with every camera (`glimpser:cameras-rendered`, set by
 * web/src/views/cameras.tsx once GET /api/cameras has answered and the tiles are on the page: the first view a person
 * can use), and the first live picture. Prints each, the medians, and the grid's ratio to the baseline.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Builder, By, until, type WebDriver } from 'selenium-webdriver';
import chrome from 'selenium-webdriver/chrome';

const ROOT = path.resolve(__dirname, '..', '..');
const PASSWORD = 'bench-password-0123456789';
const CAMERAS = 16;

function parseArgs(argv: string[]): { rounds: number } {
  const options = { rounds: 7 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (argv[i] === '--rounds' && Number.isInteger(value) && value >= 1 && value <= 50) options.rounds = value;
    else throw new Error(`unknown or invalid argument ${argv[i]} ${argv[i + 1] ?? ''}: expected --rounds N (1-50)`);
  }
  return options;
}

function tool(name: string): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', path.join(ROOT, '.cache', 'tools', 'bin')]) {
    if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  throw new Error(`${name} not found on PATH: npm test's set-up installs it`);
}

/** 16 demo cameras from the default flow's camera node, small and slow, and nothing else. */
function seedFlows(dataDir: string): void {
  const defaults = JSON.parse(readFileSync(path.join(ROOT, 'flows', 'default.json'), 'utf8')) as Record<string, unknown>[];
  const demo = defaults.find((node) => node.type === 'glimpser-camera');
  if (!demo) throw new Error('flows/default.json has no glimpser-camera node');
  const cameras = Array.from({ length: CAMERAS }, (_, i) => {
    const id = `cam${String(i + 1).padStart(2, '0')}`;
    return { ...demo, id: `bench-${id}`, cameraId: id, name: `Camera ${i + 1}`, width: 256, height: 144, fps: 2 };
  });
  mkdirSync(path.join(dataDir, 'node-red'), { recursive: true });
  writeFileSync(path.join(dataDir, 'node-red', 'flows.json'), JSON.stringify([{ id: 'bench-tab', type: 'tab', label: 'Cameras' }, ...cameras]));
}

async function startGlimpser(dataDir: string): Promise<{ base: string; stop: () => Promise<void> }> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'runtime', 'cli.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      GLIMPSER_DATA_DIR: dataDir,
      GLIMPSER_HTTP_PORT: '0',
      GLIMPSER_MQTT_PORT: '0',
      GLIMPSER_ADMIN_PASSWORD: PASSWORD,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  for await (const line of createInterface({ input: proc.stdout! })) {
    if (!line.includes('"glimpser ready"')) continue;
    const port = (JSON.parse(line) as { httpPort: number }).httpPort;
    return {
      base: `http://127.0.0.1:${port}`,
      stop: async () => {
        proc.kill('SIGTERM');
        await exited;
      },
    };
  }
  throw new Error('Glimpser exited before it was ready');
}

interface Load {
  domContentLoaded: number;
  gridRendered: number;
  firstPicture: number;
}

async function load(driver: WebDriver, base: string): Promise<Load> {
  await driver.get(`${base}/`);
  await driver.wait(until.elementLocated(By.css('[data-testid=camera-tile]')), 30000);
  return driver.wait(async () => {
    const times = await driver.executeScript<[number, number | null, number | null]>(`
      const mark = (name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? null;
      return [performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd, mark('glimpser:cameras-rendered'), mark('glimpser:first-picture')];`);
    return times[1] !== null && times[2] !== null ? { domContentLoaded: times[0], gridRendered: times[1], firstPicture: times[2] } : null;
  }, 30000) as Promise<Load>;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value: number) => `${value.toFixed(0).padStart(5)} ms`;

async function main(): Promise<void> {
  const { rounds } = parseArgs(process.argv.slice(2));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-bench-web-'));
  seedFlows(dataDir);
  const glimpser = await startGlimpser(dataDir);
  const options = new chrome.Options().setChromeBinaryPath(tool('chromium'));
  options.addArguments(
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--window-size=1400,900',
    `--user-data-dir=${mkdtempSync(path.join(tmpdir(), 'glimpser-bench-chromium-'))}`,
  );
  const driver = await new Builder()
    .forBrowser('chrome')
    .setChromeOptions(options)
    .setChromeService(new chrome.ServiceBuilder(tool('chromedriver')))
    .build();
  try {
    await driver.get(`${glimpser.base}/`);
    await driver.wait(until.elementLocated(By.css('input[name=username]')), 30000).then((input) => input.sendKeys('admin'));
    await driver.findElement(By.css('input[name=password]')).sendKeys(PASSWORD);
    await driver.findElement(By.css('form button[type=submit]')).click();
    await driver.wait(until.elementLocated(By.css('[data-testid=user]')), 30000);
    await load(driver, glimpser.base); // warm-up: the cameras' first decode, the browser's cache of the hashed files
    console.log(`web app first view, ${CAMERAS} cameras, Chromium 1400x900, ${cpus().length} cores; baseline = DOMContentLoaded of the same load`);
    const loads: Load[] = [];
    for (let round = 1; round <= rounds; round++) {
      const l = await load(driver, glimpser.base);
      loads.push(l);
      console.log(
        `round ${round}: DOMContentLoaded ${ms(l.domContentLoaded)}  grid rendered ${ms(l.gridRendered)} (${(l.gridRendered / l.domContentLoaded).toFixed(2)}x)  first picture ${ms(l.firstPicture)}`,
      );
    }
    const grid = median(loads.map((l) => l.gridRendered));
    const dcl = median(loads.map((l) => l.domContentLoaded));
    console.log(
      `median: DOMContentLoaded ${ms(dcl)}  grid rendered ${ms(grid)} (${(grid / dcl).toFixed(2)}x baseline; target < 1000 ms: ${grid < 1000 ? 'met' : 'MISSED'})  first picture ${ms(median(loads.map((l) => l.firstPicture)))}`,
    );
  } finally {
    await driver.quit();
    await glimpser.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
