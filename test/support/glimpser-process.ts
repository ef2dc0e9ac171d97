import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO_ROOT, 'dist', 'runtime', 'cli.js');

export interface RunningGlimpser {
  proc: ChildProcess;
  httpPort: number;
  mqttPort: number;
  dataDir: string;
  password: string;
  base: string;
  logs: string[];
  /** Sends SIGTERM and resolves with the exit code once the process has exited. */
  stop(): Promise<{ code: number | null }>;
}

export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'glimpser-test-'));
}

/** The "glimpser ready" log line's addresses. */
export interface ReadyLine {
  httpPort: number;
  mqttPort: number;
}

/**
 * Collects a starting Glimpser's output (stdout and stderr of `proc`, or of the npm that runs it) into `logs` and
 * resolves with its "glimpser ready" line; rejects, with the last lines, when it exits first or after `timeoutMs`
 * (and then sends it `killSignal`: npm must get SIGTERM to pass it on, a SIGKILL would orphan Glimpser).
 */
export function readyLine(
  proc: ChildProcess,
  logs: string[],
  timeoutMs: number,
  what = 'glimpser',
  killSignal: NodeJS.Signals = 'SIGKILL',
): Promise<ReadyLine> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill(killSignal);
      reject(new Error(`${what} did not become ready within ${timeoutMs} ms:\n${logs.slice(-30).join('\n')}`));
    }, timeoutMs);
    let buffered = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        if (!line.includes('"glimpser ready"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as ReadyLine);
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it was ready:\n${logs.slice(-30).join('\n')}`));
    });
  });
}

/** Boots the built runtime (dist/) as its own process on random ports and waits for its "glimpser ready" log line. */
export async function startGlimpser(dataDir = tempDataDir(), env: Record<string, string> = {}, timeoutMs = 60000): Promise<RunningGlimpser> {
  const proc = spawn(process.execPath, [CLI], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', GLIMPSER_DATA_DIR: dataDir, GLIMPSER_HTTP_PORT: '0', GLIMPSER_MQTT_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const ready = await readyLine(proc, logs, timeoutMs);
  const password = env.GLIMPSER_ADMIN_PASSWORD ?? readFileSync(path.join(dataDir, 'initial-admin-password'), 'utf8').trim();
  return {
    proc,
    httpPort: ready.httpPort,
    mqttPort: ready.mqttPort,
    dataDir,
    password,
    base: `http://127.0.0.1:${ready.httpPort}`,
    logs,
    stop: () => stopProcess(proc),
  };
}

/** Sends `signal` and resolves with the exit code once the process has exited (at once if it already has). */
export function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve({ code: proc.exitCode });
    proc.once('exit', (code) => resolve({ code }));
    proc.kill(signal);
  });
}

/** Pids of every descendant of `pid` (children, grandchildren, ...), read from /proc. */
export function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents)
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
  };
  walk(pid);
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** A bearer token for the admin from POST /api/auth/login. */
export async function apiToken(app: RunningGlimpser): Promise<string> {
  const res = await fetch(`${app.base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: app.password }),
  });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** An editor access token for the admin, as the editor's login form gets it. */
export async function editorLogin(app: RunningGlimpser): Promise<string> {
  const res = await fetch(`${app.base}/editor/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password: app.password }),
  });
  if (res.status !== 200) throw new Error(`editor sign-in answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
