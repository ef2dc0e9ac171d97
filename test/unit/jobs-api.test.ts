import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import type { JobRun } from '../../core/jobs/index';
import { ManualClock } from '../../core/jobs/manual-clock';
import { Scheduler } from '../../core/jobs/scheduler';
import { JobStore } from '../../core/jobs/store';
import { silentLogger } from '../../core/log/logger';
import { jobsRouter } from '../../runtime/api/jobs';
import type { Role } from '../../runtime/auth/roles';
import { signedInByHeaders } from '../support/api-auth';
import { expectProblem } from '../support/problem';

/**
 * /api/jobs on a real scheduler and SQLite store, with a clock moved by hand (nothing runs on its own), mounted on
 * Express on loopback. Roles and camera lists come from request headers (signedInByHeaders).
 */
const START = Date.UTC(2026, 0, 5, 12, 0, 0);
const MINUTE = 60_000;

let dir: string;
let store: JobStore;
let clock: ManualClock;
let scheduler: Scheduler;
let server: Server;
let base: string;
/** Releases the run of `capture.porch` that is going (its task waits for this). */
let releasePorch: (() => void) | null = null;

interface Caller {
  role?: Role;
  cameras?: string;
}

async function call(method: string, url: string, caller: Caller = {}): Promise<Response> {
  const role = caller.role ?? 'admin';
  const headers: Record<string, string> = { 'x-test-user': `test-${role}`, 'x-test-role': role };
  if (caller.cameras !== undefined) headers['x-test-cameras'] = caller.cameras;
  return fetch(`${base}${url}`, { method, headers });
}

async function json<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const body = (await res.json()) as T;
  expect({ status: res.status, body }).toEqual({ status, body: expect.anything() });
  return body;
}

/** The next run of `jobId` the scheduler records as finished, skipped or missed. */
function nextRun(jobId: string): Promise<JobRun> {
  return new Promise((resolve) => {
    const stop = scheduler.onRun((run) => {
      if (run.jobId !== jobId) return;
      stop();
      resolve(run);
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'glimpser-jobs-api-'));
  store = JobStore.open(dir, undefined, START);
  clock = new ManualClock(START);
  scheduler = new Scheduler({ store, clock, logger: silentLogger });
  scheduler.register({ id: 'retention.journal', kind: 'retention', owner: 'system', schedule: { kind: 'interval', everyMs: 10 * MINUTE } }, () =>
    Promise.resolve('deleted 0 events'),
  );
  scheduler.register(
    { id: 'capture.porch', kind: 'capture', owner: 'node-1', camera: 'porch', schedule: { kind: 'cron', expression: '0 2 * * *', timeZone: 'Europe/Berlin' } },
    () => new Promise<string>((resolve) => (releasePorch = () => resolve('1 frame'))),
  );
  scheduler.register({ id: 'capture.garage', kind: 'capture', owner: 'node-2', camera: 'garage', schedule: { kind: 'interval', everyMs: MINUTE } }, () =>
    Promise.reject(new Error('camera garage did not answer')),
  );
  const app = express();
  app.use('/api', jobsRouter({ scheduler, store, log: silentLogger, auth: signedInByHeaders() }));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  releasePorch?.();
  await scheduler.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /api/jobs', () => {
  it('lists every job with its status, last outcome and next run, filtered by kind and camera', async () => {
    const { jobs } = await json<{ jobs: Record<string, unknown>[] }>(await call('GET', '/jobs', { role: 'viewer' }));
    expect(jobs.map((job) => job.id)).toEqual(['capture.garage', 'capture.porch', 'retention.journal']);
    expect(jobs[2]).toEqual({
      id: 'retention.journal',
      kind: 'retention',
      owner: 'system',
      camera: null,
      schedule: { kind: 'interval', everyMs: 10 * MINUTE },
      status: 'idle',
      paused: false,
      catchUp: false,
      lastOutcome: null,
      lastRunAt: null,
      lastRunAtMs: null,
      nextRunAt: new Date(START + 10 * MINUTE).toISOString(),
      nextRunAtMs: START + 10 * MINUTE,
    });
    const captures = await json<{ jobs: { id: string }[] }>(await call('GET', '/jobs?kind=capture'));
    expect(captures.jobs.map((job) => job.id)).toEqual(['capture.garage', 'capture.porch']);
    const porch = await json<{ jobs: { id: string }[] }>(await call('GET', '/jobs?camera=porch'));
    expect(porch.jobs.map((job) => job.id)).toEqual(['capture.porch']);
  });

  it('shows a caller limited to some cameras only their jobs and the jobs of no camera', async () => {
    const { jobs } = await json<{ jobs: { id: string }[] }>(await call('GET', '/jobs', { role: 'viewer', cameras: 'porch' }));
    expect(jobs.map((job) => job.id)).toEqual(['capture.porch', 'retention.journal']);
    const other = await json<{ jobs: unknown[] }>(await call('GET', '/jobs?camera=garage', { role: 'viewer', cameras: 'porch' }));
    expect(other.jobs).toEqual([]);
    await expectProblem(await call('GET', '/jobs/capture.garage', { role: 'viewer', cameras: 'porch' }), 404, {
      code: 'not_found',
      detail: 'no job "capture.garage"',
    });
    await expectProblem(await call('POST', '/jobs/capture.garage/pause', { role: 'operator', cameras: 'porch' }), 404, { code: 'not_found' });
  });

  it('names the field of a bad filter', async () => {
    await expectProblem(await call('GET', '/jobs?camera=Not%20a%20camera'), 400, { field: 'camera' });
  });
});

describe('GET /api/jobs/{id}', () => {
  it('gives the job with its next 5 runs, in its time zone', async () => {
    const body = await json<{ job: { id: string }; nextRuns: string[]; nextRunsMs: number[] }>(await call('GET', '/jobs/capture.porch', { role: 'viewer' }));
    expect(body.job.id).toBe('capture.porch');
    // 02:00 in Berlin is 01:00 UTC in winter.
    expect(body.nextRuns).toEqual([
      '2026-01-06T01:00:00.000Z',
      '2026-01-07T01:00:00.000Z',
      '2026-01-08T01:00:00.000Z',
      '2026-01-09T01:00:00.000Z',
      '2026-01-10T01:00:00.000Z',
    ]);
    expect(body.nextRunsMs).toEqual(body.nextRuns.map((at) => Date.parse(at)));
  });

  it('answers an unknown job with a 404 problem', async () => {
    await expectProblem(await call('GET', '/jobs/nothing.here'), 404, { code: 'not_found', detail: 'no job "nothing.here"' });
    await expectProblem(await call('GET', '/jobs/nothing.here/runs'), 404, { code: 'not_found' });
  });
});

describe('POST /api/jobs/{id}/run, pause and resume', () => {
  it('refuses viewers', async () => {
    for (const action of ['run', 'pause', 'resume']) {
      await expectProblem(await call('POST', `/jobs/retention.journal/${action}`, { role: 'viewer' }), 403, { code: 'forbidden', detail: /operator role/ });
    }
  });

  it('starts a run now and answers 202 with it; the run is recorded when it ends', async () => {
    const finished = nextRun('retention.journal');
    const res = await call('POST', '/jobs/retention.journal/run', { role: 'operator' });
    const { run } = await json<{ run: Record<string, unknown> }>(res, 202);
    expect(res.headers.get('location')).toBe('/api/jobs/retention.journal/runs');
    expect(run).toMatchObject({ jobId: 'retention.journal', trigger: 'manual', scheduledFor: null, startedAtMs: START });
    expect(await finished).toMatchObject({ id: run.id, outcome: 'ok', output: 'deleted 0 events' });
    const { job } = await json<{ job: Record<string, unknown> }>(await call('GET', '/jobs/retention.journal'));
    expect(job).toMatchObject({ status: 'idle', lastOutcome: 'ok', lastRunAtMs: START });
  });

  it('answers 409 naming why while the previous run is going, and records the request as skipped', async () => {
    const first = await json<{ run: { id: number } }>(await call('POST', '/jobs/capture.porch/run', { role: 'operator' }), 202);
    expect((await json<{ job: { status: string } }>(await call('GET', '/jobs/capture.porch'))).job.status).toBe('running');
    const skipped = nextRun('capture.porch');
    await expectProblem(await call('POST', '/jobs/capture.porch/run', { role: 'operator' }), 409, {
      code: 'refused',
      detail: /still running its previous run/,
    });
    expect(await skipped).toMatchObject({ outcome: 'skipped', trigger: 'manual', error: 'the previous run was still going' });
    const done = nextRun('capture.porch');
    releasePorch!();
    expect(await done).toMatchObject({ id: first.run.id, outcome: 'ok', output: '1 frame' });
  });

  it('pauses (no next run) and resumes a job; run-now works while paused', async () => {
    const paused = await json<{ job: Record<string, unknown> }>(await call('POST', '/jobs/capture.garage/pause', { role: 'operator' }));
    expect(paused.job).toMatchObject({ status: 'paused', paused: true, nextRunAt: null });
    expect((await json<{ nextRuns: string[] }>(await call('GET', '/jobs/capture.garage'))).nextRuns).toEqual([]);
    const failed = nextRun('capture.garage');
    await json(await call('POST', '/jobs/capture.garage/run', { role: 'operator' }), 202);
    expect(await failed).toMatchObject({ outcome: 'failed', error: 'camera garage did not answer' });
    const resumed = await json<{ job: Record<string, unknown> }>(await call('POST', '/jobs/capture.garage/resume', { role: 'operator' }));
    expect(resumed.job).toMatchObject({ status: 'idle', paused: false, lastOutcome: 'failed', nextRunAtMs: START + MINUTE });
  });
});

describe('GET /api/jobs/{id}/runs', () => {
  it('pages through the history newest first with a cursor', async () => {
    for (let i = 0; i < 4; i++) {
      const run = nextRun('retention.journal');
      await clock.advance(10 * MINUTE);
      await run;
    }
    const all = await json<{ runs: { id: number; trigger: string }[]; next: string | null }>(
      await call('GET', '/jobs/retention.journal/runs', { role: 'viewer' }),
    );
    expect(all.runs.map((run) => run.trigger)).toEqual(['schedule', 'schedule', 'schedule', 'schedule', 'manual']);
    expect(all.next).toBeNull();
    const first = await json<{ runs: { id: number }[]; next: string }>(await call('GET', '/jobs/retention.journal/runs?limit=2'));
    const second = await json<{ runs: { id: number }[]; next: string }>(await call('GET', `/jobs/retention.journal/runs?limit=2&cursor=${first.next}`));
    const third = await json<{ runs: { id: number }[]; next: string | null }>(await call('GET', `/jobs/retention.journal/runs?limit=2&cursor=${second.next}`));
    expect([...first.runs, ...second.runs, ...third.runs].map((run) => run.id)).toEqual(all.runs.map((run) => run.id));
    expect(third.next).toBeNull();
  });

  it('names the field of a bad limit or cursor', async () => {
    await expectProblem(await call('GET', '/jobs/retention.journal/runs?limit=0'), 400, { field: 'limit' });
    await expectProblem(await call('GET', '/jobs/retention.journal/runs?limit=many'), 400, { field: 'limit' });
    await expectProblem(await call('GET', '/jobs/retention.journal/runs?cursor=not-a-cursor'), 400, {
      field: 'cursor',
      detail: /cursor: expected the "next" value/,
    });
  });
});
