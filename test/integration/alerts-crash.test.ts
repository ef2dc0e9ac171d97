import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, postChannel, startAlertReceiver } from '../support/alert-receiver';
import { openTestAlertService } from '../support/alerts';

const ENQUEUER = path.join(__dirname, '..', 'support', 'alert-enqueuer.ts');
/** Runs the TypeScript enqueuer from source with the SWC compiler jest uses, as journal-crash.test.ts does. */
const RUN_TYPESCRIPT = `
const { readFileSync } = require('node:fs');
const { transformSync } = require(${JSON.stringify(require.resolve('@swc/core'))});
require.extensions['.ts'] = (module, filename) => {
  const options = { filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } };
  module._compile(transformSync(readFileSync(filename, 'utf8'), options).code, filename);
};
require(process.argv[1]);
`;

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-alerts-crash-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts the enqueuer, SIGKILLs it once it has acknowledged `count` deliveries and failed some attempts. */
function enqueueUntilKilled(url: string, count: number): Promise<Map<string, string>> {
  const child = spawn(process.execPath, ['--no-warnings', '-e', RUN_TYPESCRIPT, ENQUEUER, dataDir, url, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keys = new Map<string, string>();
  let attempting = false;
  let partial = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the enqueuer acknowledged ${keys.size} of ${count} deliveries in time (attempting: ${attempting}): ${stderr}`));
    }, 30000);
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'attempting') attempting = true;
        else keys.set(...(line.split(' ') as [string, string]));
      }
      if (keys.size >= count && attempting && child.signalCode === null) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(keys);
      else reject(new Error(`the enqueuer exited by itself (code ${code}): ${stderr}`));
    });
  });
}

describe('the alert outbox under SIGKILL', () => {
  it('delivers every acknowledged delivery once the receiver is up after a restart, none dead-lettered', async () => {
    const port = await freePort();
    const keys = await enqueueUntilKilled(`http://127.0.0.1:${port}/hook`, 100);
    expect(keys.size).toBe(100);

    const receiver = await startAlertReceiver(port);
    const alerts = openTestAlertService({ dataDir, keepDataDir: true, worker: { retry: { maxAttempts: 1000 } } });
    try {
      const page = alerts.service.list({ status: 'pending', limit: 500 });
      expect(page.alerts.reduce((n, a) => n + a.deliveries.pending, 0)).toBe(100);
      const delivered = alerts.results(100);
      alerts.service.registerChannel('hook', postChannel());
      const results = await delivered;
      expect(results.every((r) => r.outcome === 'delivered')).toBe(true);
      expect(new Set(results.map((r) => r.delivery.id))).toEqual(new Set(keys.keys()));
      expect(receiver.received.map((r) => r.key).sort()).toEqual([...keys.values()].sort());
      expect(alerts.service.list({ status: 'dead' }).alerts).toEqual([]);
      expect(alerts.service.list({ status: 'pending' }).alerts).toEqual([]);
    } finally {
      await alerts.close();
      await receiver.close();
    }
  });
});
