import type { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NodeStatus } from 'node-red';
import { BrowserPoolLease } from '../../core/capture/browser-lease';
import { CameraRegistry } from '../../core/capture/registry';
import type { JobRun } from '../../core/jobs';
import { ManualClock } from '../../core/jobs/manual-clock';
import { Scheduler } from '../../core/jobs/scheduler';
import { JobStore } from '../../core/jobs/store';
import { silentLogger } from '../../core/log/logger';
import jobNode from '../../nodes/job/job';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import { LOG, logged, nextMessage, recordStatuses, statusesOf, type Msg } from '../support/flow';
import { helper, type FlowNode } from '../support/node-red-helper';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const JOB_ID = 'flow.j1';

const job = (overrides: Record<string, unknown> = {}): FlowNode => ({
  id: 'j1',
  type: 'job',
  version: 1,
  scheduleKind: 'interval',
  interval: 60,
  cron: '0 * * * *',
  timeZone: 'UTC',
  catchUp: false,
  timeout: 300,
  wires: [['out']],
  ...overrides,
});
const sink: FlowNode = { id: 'out', type: 'helper' };

describe('job node, with the scheduler on a clock moved by hand', () => {
  let clock: ManualClock;
  let scheduler: Scheduler;
  let store: JobStore;

  beforeEach(() => {
    clock = new ManualClock(T0);
    store = JobStore.open(mkdtempSync(path.join(tmpdir(), 'glimpser-job-node-')), undefined, T0);
    scheduler = new Scheduler({ store, clock });
    const handles: GlimpserHandles = {
      cameras: new CameraRegistry(),
      browsers: new BrowserPoolLease(),
      ffmpegPath: 'ffmpeg',
      logger: silentLogger,
      jobs: scheduler,
    };
    helper.settings({ glimpser: handles });
  });

  afterEach(async () => {
    await helper.unload();
    await scheduler.close();
    store.close();
  });

  /** The next run of job `JOB_ID` the scheduler records (finished, skipped or missed). */
  function nextRun(): Promise<JobRun> {
    return new Promise((resolve) => {
      const stop = scheduler.onRun((run) => {
        if (run.jobId !== JOB_ID) return;
        stop();
        resolve(run);
      });
    });
  }

  it('registers a flow job owned by the node, and shows its next run', async () => {
    await helper.load(jobNode, [job(), sink]);
    expect(scheduler.list({ kind: 'flow' })).toEqual([
      expect.objectContaining({ id: JOB_ID, kind: 'flow', owner: 'j1', schedule: { kind: 'interval', everyMs: 60_000 }, nextRuns: expect.any(Array) }),
    ]);
    expect(scheduler.state(JOB_ID).nextRuns[0]).toBe(T0 + 60_000);
    expect(statusesOf('j1').at(-1)).toEqual({ fill: 'blue', shape: 'ring', text: 'next run 2026-01-01 00:01' });
  });

  it('sends a run message on each tick and records the outcome the flow reports back', async () => {
    await helper.load(jobNode, [job(), sink]);
    const sent = nextMessage('out');
    await clock.advance(60_000);
    const msg = await sent;
    expect(msg).toMatchObject({ topic: 'job', job: { id: JOB_ID, trigger: 'schedule', scheduledFor: T0 + 60_000 } });
    expect(scheduler.state(JOB_ID).status).toBe('running');
    const run = nextRun();
    helper.getNode('j1').receive({ ...msg, job: { ...(msg.job as object), outcome: 'ok', output: 'checked 3 things' } });
    expect(await run).toMatchObject({ jobId: JOB_ID, trigger: 'schedule', outcome: 'ok', output: 'checked 3 things', error: null });
    expect(statusesOf('j1').at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'last run ok · next 2026-01-01 00:02' });
  });

  it('records a run as failed from a Catch node message (msg.error, no outcome)', async () => {
    await helper.load(jobNode, [job(), sink]);
    const sent = nextMessage('out');
    await clock.advance(60_000);
    const msg = await sent;
    const run = nextRun();
    helper.getNode('j1').receive({ ...msg, error: { message: 'disk full', source: { id: 'work' } } } as Msg);
    expect(await run).toMatchObject({ outcome: 'failed', error: 'disk full' });
    expect((statusesOf('j1').at(-1) as NodeStatus).text).toMatch(/^last run failed: disk full/);
  });

  it('records a run nobody reports on as failed once its timeout passes', async () => {
    await helper.load(jobNode, [job({ timeout: 1 }), sink]);
    const run = nextRun();
    await clock.advance(60_000);
    expect(await run).toMatchObject({ outcome: 'failed', error: 'no outcome reported within 1 s' });
  });

  it('a tick while the run still waits for its outcome is recorded as skipped', async () => {
    await helper.load(jobNode, [job(), sink]);
    const sent = nextMessage('out');
    await clock.advance(60_000);
    await sent;
    const run = nextRun();
    await clock.advance(60_000);
    expect(await run).toMatchObject({ outcome: 'skipped', scheduledFor: T0 + 120_000 });
  });

  it('pause stops its runs and says paused; run-now still runs; resume goes on from now', async () => {
    await helper.load(jobNode, [job(), sink]);
    const statuses = recordStatuses('j1');
    scheduler.pause(JOB_ID);
    expect(statuses.at(-1)).toEqual({ fill: 'grey', shape: 'dot', text: 'paused' });
    await clock.advance(10 * 60_000);
    expect(store.runs({ jobId: JOB_ID }).runs).toEqual([]);
    const sent = nextMessage('out');
    const manual = scheduler.runNow(JOB_ID);
    const msg = await sent;
    expect(msg.job).toEqual({ id: JOB_ID, trigger: 'manual', scheduledFor: null });
    helper.getNode('j1').receive({ job: { ...(msg.job as object), outcome: 'ok' } });
    expect(await manual).toMatchObject({ trigger: 'manual', outcome: 'ok' });
    scheduler.resume(JOB_ID);
    expect(scheduler.state(JOB_ID)).toMatchObject({
      status: 'idle',
      nextRuns: [T0 + 11 * 60_000, T0 + 12 * 60_000, expect.any(Number), expect.any(Number), expect.any(Number)],
    });
  });

  it('warns about a report that matches no waiting run, without failing the message', async () => {
    await helper.load(jobNode, [job(), sink]);
    const node = helper.getNode('j1');
    let warned = 0;
    // The test helper emits `call:<method>` on a node for each log call it records.
    const emitter = node as unknown as EventEmitter;
    const threeWarnings = new Promise<void>((resolve) => emitter.on('call:warn', () => ++warned === 3 && resolve()));
    node.receive({ job: { id: JOB_ID, outcome: 'ok' } });
    node.receive({ job: { id: 'flow.other', outcome: 'ok' } });
    node.receive({ payload: 'no job' });
    await threeWarnings;
    const warnings = logged('j1', LOG.warn);
    expect(warnings[0]).toMatch(/no run is waiting/);
    expect(warnings[1]).toMatch(/msg\.job\.id is "flow\.other": this node runs job "flow\.j1"/);
    expect(warnings[2]).toMatch(/expects msg\.job\.id/);
    expect(logged('j1')).toEqual([]);
  });

  it.each([
    [{ scheduleKind: 'cron', cron: 'every day' }, /^job setting "cron": "every day" is not a valid cron/],
    [{ scheduleKind: 'cron', timeZone: 'Mars/Olympus' }, /^job setting "timeZone"/],
    [{ scheduleKind: 'interval', interval: 0 }, /^job setting "interval" must be at least 1 second/],
  ])('shows a red status naming the setting for %j, and registers no job', async (override, message) => {
    await helper.load(jobNode, [job(override), sink]);
    const status = statusesOf('j1').at(-1) as NodeStatus;
    expect(status).toMatchObject({ fill: 'red', shape: 'dot' });
    expect(status.text).toMatch(message);
    expect(scheduler.list()).toEqual([]);
  });
});
