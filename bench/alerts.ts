/**
 * What delivering an alert costs on top of an HTTP POST: events go through cap-alert's builder (core/alerts/build:
 * CAP 1.2 model, XML, OASIS XSD and oasis-strict checks), into the persisted outbox (SQLite), are leased by the
 * worker and POSTed, signed, by the real webhook channel to a loopback receiver. The baseline, in the same run and
 * against the same receiver: raw keep-alive POSTs of the same JSON bodies, as many at once as the worker sends (8).
 *
 * - throughput: `--alerts` events as fast as one producer raises them, from the first build to the last arrival;
 * - latency: one event at a time, from the event entering the builder to the receiver having the whole request;
 * - the builder alone and the outbox enqueue alone, to show where the time goes.
 *
 *   npx tsc -p tsconfig.build.json --outDir /tmp/bench-build && node /tmp/bench-build/bench/alerts.js [--alerts 1000] [--latency 300] [--rounds 3]
 *
 * Each throughput figure is the best of `rounds` interleaved rounds, so other work on the machine only ever lowers a
 * round. Loopback only; every loop is bounded by the counts above.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildAlert, type AlertEvent } from '../core/alerts/build';
import { CAP_ALERT_DEFAULTS } from '../core/alerts/build-settings';
import { generateWebhookSecret, WebhookChannel, webhookJson } from '../core/alerts/channels/webhook';
import type { StoredAlert } from '../core/alerts/index';
import { openAlertService } from '../core/alerts/service';

/** The worker's default concurrency: the baseline keeps as many POSTs in flight. */
const CONCURRENCY = 8;
const NOTIFIER = 'bench-webhook';

interface Options {
  alerts: number;
  latency: number;
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { alerts: 1000, latency: 300, rounds: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], Number(argv[i + 1])];
    if (flag === '--alerts' && Number.isInteger(value) && value >= 10 && value <= 100_000) options.alerts = value;
    else if (flag === '--latency' && Number.isInteger(value) && value >= 10 && value <= 10_000) options.latency = value;
    else if (flag === '--rounds' && Number.isInteger(value) && value >= 1 && value <= 10) options.rounds = value;
    else
      throw new Error(`unknown or invalid argument ${flag} ${argv[i + 1] ?? ''}: expected --alerts N (10-100000), --latency N (10-10000), --rounds N (1-10)`);
  }
  return options;
}

/** A loopback receiver that reads each request whole, notes when the alert (by its event id) arrived, and says 200. */
class Receiver {
  readonly arrived = new Map<string, number>();
  private waiter: { count: number; resolve: () => void } | null = null;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      const { data } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { eventId: string } };
      if (!this.arrived.has(data.eventId)) this.arrived.set(data.eventId, at);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      if (this.waiter && this.arrived.size >= this.waiter.count) this.waiter.resolve();
    });
  });

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/glimpser`;
  }

  /** Forgets what arrived; the promise resolves once `count` distinct alerts have arrived. */
  expect(count: number): Promise<void> {
    this.arrived.clear();
    return new Promise((resolve) => (this.waiter = { count, resolve }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

let events = 0;
/** A new motion event that has just started (each its own ref, so each gets a first alert). */
function nextEvent(): AlertEvent {
  const n = ++events;
  const now = Date.now();
  return { id: `bench-${n}`, ref: `bench-${n}`, camera: `cam-${n % 8}`, type: 'motion', zones: ['yard'], startTime: now, endTime: null, score: 0.8 };
}

const AI = { caption: 'A person at the gate', description: 'A person in a dark jacket walks up the drive.', severity: 'medium' as const };

function build(event: AlertEvent): Promise<StoredAlert> {
  return buildAlert({ step: { kind: 'alert' }, event, ai: AI, gate: null, snapshot: null, snapshotMissing: null, now: Date.now() }, CAP_ALERT_DEFAULTS);
}

/** Raw POSTs of the bodies, `CONCURRENCY` in flight, on one keep-alive agent; resolves when all are answered. */
async function rawPosts(url: string, bodies: Buffer[], agent: http.Agent): Promise<void> {
  let next = 0;
  const post = (body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(body.length) } });
      request.once('response', (response) => {
        response.resume();
        response.once('end', resolve);
      });
      request.once('error', reject);
      request.end(body);
    });
  const lane = async () => {
    while (next < bodies.length) await post(bodies[next++]);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-bench-alerts-'));
  const receiver = new Receiver();
  await receiver.start();
  const service = openAlertService({ dataDir: path.join(dir, 'outbox') });
  const channel = new WebhookChannel({
    format: 'json',
    includeSnapshot: false,
    publicUrl: '',
    headers: {},
    allowHosts: ['127.0.0.1'],
    secret: generateWebhookSecret(),
  });
  service.registerChannel(NOTIFIER, channel);
  const target = [{ channel: 'webhook' as const, notifier: NOTIFIER, target: receiver.url }];
  const agent = new http.Agent({ keepAlive: true });
  const best = { raw: 0, glimpser: 0, build: 0, enqueue: 0 };
  try {
    // Warm-up: JIT, the XSD's first load, connections.
    const warm = receiver.expect(50);
    for (let i = 0; i < 50; i++) await service.enqueue(await build(nextEvent()), target);
    await warm;

    for (let round = 0; round < options.rounds; round++) {
      // Baseline: the same kind of bodies the channel sends (built beforehand, not timed).
      const alerts: StoredAlert[] = [];
      for (let i = 0; i < options.alerts; i++) alerts.push(await build(nextEvent()));
      const bodies = alerts.map((alert) => webhookJson(alert, null, { includeSnapshot: false, publicUrl: '' }));
      let began = performance.now();
      await rawPosts(receiver.url, bodies, agent);
      best.raw = Math.max(best.raw, options.alerts / ((performance.now() - began) / 1000));

      // The builder alone, then the enqueue alone (no channel is registered there: nothing is sent).
      began = performance.now();
      const built: StoredAlert[] = [];
      for (let i = 0; i < options.alerts; i++) built.push(await build(nextEvent()));
      best.build = Math.max(best.build, options.alerts / ((performance.now() - began) / 1000));
      // In an outbox of its own, so that its deliveries (never sent) do not weigh on the whole path's.
      const idle = openAlertService({ dataDir: path.join(dir, `enqueue-${round}`) });
      began = performance.now();
      // Timed until every enqueue is on disk (the acknowledgement a node waits for).
      await Promise.all(built.map((alert) => idle.enqueue(alert, [{ channel: 'webhook', notifier: NOTIFIER, target: receiver.url }])));
      best.enqueue = Math.max(best.enqueue, options.alerts / ((performance.now() - began) / 1000));
      await idle.close();

      // The whole path.
      const arrived = receiver.expect(options.alerts);
      began = performance.now();
      const stored: Promise<unknown>[] = [];
      for (let i = 0; i < options.alerts; i++) stored.push(service.enqueue(await build(nextEvent()), target));
      await Promise.all([arrived, ...stored]);
      best.glimpser = Math.max(best.glimpser, options.alerts / ((performance.now() - began) / 1000));
    }

    // Latency, one event at a time (nothing queued behind it), and the raw POST of the same body for comparison.
    const added: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < options.latency; i++) {
      const event = nextEvent();
      const arrived = receiver.expect(1);
      const began = performance.now();
      const alert = await build(event);
      await Promise.all([arrived, service.enqueue(alert, target)]);
      added.push(receiver.arrived.get(event.id!)! - began);
      const body = webhookJson({ ...alert, eventId: `${event.id}-raw` }, null, { includeSnapshot: false, publicUrl: '' });
      const rawArrived = receiver.expect(1);
      const rawBegan = performance.now();
      await rawPosts(receiver.url, [body], agent);
      await rawArrived;
      raw.push(receiver.arrived.get(`${event.id}-raw`)! - rawBegan);
    }
    added.sort((a, b) => a - b);
    raw.sort((a, b) => a - b);

    const ratio = best.glimpser / best.raw;
    const p95 = percentile(added, 95);
    process.stdout.write(
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 1024 ** 3)} GiB RAM, Node ${process.version}, ${new Date().toISOString()}\n`,
    );
    process.stdout.write(
      `${fmt(options.alerts)} alerts per round, best of ${options.rounds} rounds; latency over ${fmt(options.latency)} alerts one at a time\n\n`,
    );
    process.stdout.write('| Measurement | Glimpser | Raw HTTP POST (baseline) | Ratio | Target |\n| --- | --- | --- | --- | --- |\n');
    process.stdout.write(
      `| build → outbox → worker → webhook → receiver | ${fmt(best.glimpser)} alerts/s | ${fmt(best.raw)} POSTs/s | ${fmt(ratio, 2)}× | ≥ 0.5×: ${ratio >= 0.5 ? 'met' : 'missed'} |\n`,
    );
    process.stdout.write(`| builder alone (CAP XML + XSD + profile check) | ${fmt(best.build)} alerts/s | | ${fmt(best.build / best.raw, 2)}× | |\n`);
    process.stdout.write(
      `| outbox enqueue alone (SQLite transaction, until on disk) | ${fmt(best.enqueue)} alerts/s | | ${fmt(best.enqueue / best.raw, 2)}× | |\n`,
    );
    const lat = (values: number[]) =>
      `p50 ${fmt(percentile(values, 50), 2)} ms, p95 ${fmt(percentile(values, 95), 2)} ms, p99 ${fmt(percentile(values, 99), 2)} ms`;
    process.stdout.write(
      `| latency, event into the builder → receiver has it | ${lat(added)} | ${lat(raw)} | | p95 < 50 ms: ${p95 < 50 ? 'met' : 'missed'} |\n`,
    );
  } finally {
    agent.destroy();
    await service.close();
    channel.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
