/**
 * What Glimpser's HTTP API costs on top of a bare Express app (issue 12, acceptance 5). The real runtime is started
 * as its own process (the built CLI, a temp data dir with 2,000 events in the journal and one camera, no flows
 * running anything else), signed in with a bearer token; the baseline is a bare Express app in its own process that
 * answers the very same JSON bodies (fetched from Glimpser first) with no auth, no validation and no middleware. The
 * load generator runs here with keep-alive connections, so each server has a core to itself on a 2-core machine.
 *
 *   npm run build && node dist/bench/api.js [--requests 20000] [--rounds 2]
 *
 * For each route and each number of connections (50, 200): p50 and p99 latency and requests per second, best of
 * `rounds` interleaved rounds (by p99), and the ratio of Glimpser's p99 to bare Express' (target at 50 connections:
 * within 2×). Loopback only; every loop is bounded by the request count.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import express from 'express';
import { EventJournal } from '../core/store/journal';

const ROUTES = ['/api/events?limit=50', '/api/cameras', '/healthz'] as const;
const CONNECTIONS = [50, 200] as const;
const PASSWORD = 'bench-password-0123456789';
const EVENTS = 2000;

interface Options {
  requests: number;
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { requests: 20_000, rounds: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], Number(argv[i + 1])];
    if (flag === '--requests' && Number.isInteger(value) && value >= 1000 && value <= 1_000_000) options.requests = value;
    else if (flag === '--rounds' && Number.isInteger(value) && value >= 1 && value <= 10) options.rounds = value;
    else throw new Error(`unknown or invalid argument ${flag} ${argv[i + 1] ?? ''}: expected --requests N (1000-1000000), --rounds N (1-10)`);
  }
  return options;
}

/** The bare baseline, run as `node api.js --bare <bodies.json>`: the same JSON bodies, nothing else. */
async function bareServer(file: string): Promise<void> {
  const bodies = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const app = express();
  for (const [route, body] of Object.entries(bodies)) {
    const pathname = route.split('?')[0];
    app.get(pathname, (_req, res) => {
      res.type('application/json').send(body);
    });
  }
  const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

/** Starts a child and resolves with the first stdout line that `match` accepts (its value). */
async function startChild(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  match: (line: string) => number | null,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${args[0]} exited with ${String(code)} before it was ready`);
  });
  const ready = new Promise<number>((resolve) =>
    lines.on('line', (line) => {
      const port = match(line);
      if (port !== null) resolve(port);
    }),
  );
  const port = await Promise.race([ready, exited]);
  lines.removeAllListeners('line');
  child.stdout!.resume();
  return { child, port };
}

function readyPort(line: string): number | null {
  if (!line.includes('glimpser ready')) return null;
  return (JSON.parse(line) as { httpPort: number }).httpPort;
}

/** One camera (a demo source nothing consumes, so no ffmpeg runs) and no other nodes. */
function seedDataDir(dir: string): void {
  mkdirSync(path.join(dir, 'node-red'), { recursive: true });
  const camera = {
    id: 'bench-cam',
    type: 'glimpser-camera',
    version: 2,
    name: 'Bench camera',
    cameraId: 'bench',
    source: 'demo',
    width: 320,
    height: 180,
    fps: 1,
  };
  writeFileSync(path.join(dir, 'node-red', 'flows.json'), JSON.stringify([camera]));
  writeFileSync(path.join(dir, '.default-flows-seeded'), 'bench\n');
  const journal = new EventJournal({ dataDir: dir });
  journal.open();
  const start = Date.now() - EVENTS * 60_000;
  for (let i = 0; i < EVENTS; i++) {
    const event = journal.insert({ camera: 'bench', type: 'motion', startTime: start + i * 60_000, zones: ['yard'], score: 0.5 });
    journal.update(event.id, { endTime: start + i * 60_000 + 5_000 });
  }
  void journal.close();
}

interface Result {
  p50: number;
  p99: number;
  rps: number;
}

/** `requests` GETs over `connections` keep-alive connections; latency of each from write to the whole answer. */
async function load(port: number, route: string, connections: number, requests: number, headers: Record<string, string>): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const began = performance.now();
      const req = http.get({ host: '127.0.0.1', port, path: route, agent, headers }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${route}: HTTP ${res.statusCode}`));
        res.resume();
        res.once('end', () => {
          latencies.push(performance.now() - began);
          resolve();
        });
      });
      req.once('error', reject);
    });
  const lane = async () => {
    while (next++ < requests) await one();
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: connections }, lane));
  const seconds = (performance.now() - began) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { p50: at(50), p99: at(99), rps: requests / seconds };
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpser-bench-api-'));
  const children: ChildProcess[] = [];
  try {
    seedDataDir(dir);
    const env = {
      ...process.env,
      GLIMPSER_DATA_DIR: dir,
      GLIMPSER_HTTP_PORT: '0',
      GLIMPSER_MQTT_PORT: '0',
      GLIMPSER_ADMIN_PASSWORD: PASSWORD,
      GLIMPSER_LOG_LEVEL: 'info',
      // The request limits stay on (their counting is part of the cost) but far above what the bench sends.
      GLIMPSER_API_REQUESTS_PER_MINUTE: '1000000',
    };
    const glimpser = await startChild(process.execPath, [path.join(__dirname, '..', 'runtime', 'cli.js')], env, readyPort);
    children.push(glimpser.child);
    const login = await fetch(`http://127.0.0.1:${glimpser.port}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    if (!login.ok) throw new Error(`sign-in failed: HTTP ${login.status}`);
    const { token } = (await login.json()) as { token: string };
    const headers = { authorization: `Bearer ${token}` };

    // The baseline answers exactly what Glimpser answers.
    const bodies: Record<string, string> = {};
    for (const route of ROUTES) {
      const res = await fetch(`http://127.0.0.1:${glimpser.port}${route}`, { headers });
      if (!res.ok) throw new Error(`${route}: HTTP ${res.status}`);
      bodies[route] = await res.text();
    }
    const bodiesFile = path.join(dir, 'bodies.json');
    writeFileSync(bodiesFile, JSON.stringify(bodies));
    const bare = await startChild(process.execPath, [__filename, '--bare', bodiesFile], process.env, (line) =>
      line.startsWith('listening ') ? Number(line.slice(10)) : null,
    );
    children.push(bare.child);

    const best = new Map<string, { glimpser: Result; bare: Result }>();
    const keep = (old: Result | undefined, now: Result) => (!old || now.p99 < old.p99 ? now : old);
    for (const route of ROUTES) {
      // Warm-up: JIT, connections, SQLite's page cache.
      await load(glimpser.port, route, 50, 2000, headers);
      await load(bare.port, route, 50, 2000, {});
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const route of ROUTES) {
        for (const connections of CONNECTIONS) {
          const key = `${route} ${connections}`;
          const g = await load(glimpser.port, route, connections, options.requests, headers);
          const b = await load(bare.port, route, connections, options.requests, {});
          const old = best.get(key);
          best.set(key, { glimpser: keep(old?.glimpser, g), bare: keep(old?.bare, b) });
        }
      }
    }

    process.stdout.write(
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 1024 ** 3)} GiB RAM, Node ${process.version}, ${new Date().toISOString()}\n`,
    );
    process.stdout.write(`${fmt(options.requests)} requests per measurement, best p99 of ${options.rounds} rounds; ${fmt(EVENTS)} events in the journal\n\n`);
    process.stdout.write('| Route | Connections | Glimpser p50 / p99 | Glimpser req/s | Bare Express p50 / p99 | Bare req/s | p99 ratio | Target |\n');
    process.stdout.write('| --- | --- | --- | --- | --- | --- | --- | --- |\n');
    for (const [key, { glimpser: g, bare: b }] of best) {
      const [route, connections] = key.split(' ');
      const ratio = g.p99 / b.p99;
      const target = connections === '50' ? `≤ 2×: ${ratio <= 2 ? 'met' : 'missed'}` : '';
      process.stdout.write(
        `| \`${route}\` | ${connections} | ${fmt(g.p50, 2)} / ${fmt(g.p99, 2)} ms | ${fmt(g.rps)} | ${fmt(b.p50, 2)} / ${fmt(b.p99, 2)} ms | ${fmt(b.rps)} | ${fmt(ratio, 2)}× | ${target} |\n`,
      );
    }
  } finally {
    for (const child of children) {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--bare') {
  bareServer(process.argv[3]).catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
} else {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
