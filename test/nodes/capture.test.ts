import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JobRun } from '../../core/jobs';
import { ManualClock } from '../../core/jobs/manual-clock';
import { Scheduler } from '../../core/jobs/scheduler';
import { JobStore } from '../../core/jobs/store';
import captureNode from '../../nodes/capture/capture';
import cameraNode from '../../nodes/glimpser-camera/glimpser-camera';
import { descendantsOf } from '../support/glimpser-process';
import { nextMessage, recordStatuses } from '../support/flow';
import { glimpserHandles, helper, type FlowNode } from '../support/node-red-helper';
import { eventually, ffprobeImage } from '../support/tools';
import type { EmbeddedBroker } from '../../runtime/broker';
import type { GlimpserHandles } from '../../nodes/shared/handles';

const camera = (overrides: Record<string, unknown> = {}): FlowNode => ({
  id: 'cam',
  type: 'glimpser-camera',
  version: 1,
  name: 'Test camera',
  cameraId: 'test-cam',
  source: 'demo',
  width: 160,
  height: 120,
  fps: 10,
  quality: 5,
  offlineAfter: 5,
  ...overrides,
});
const capture = (overrides: Record<string, unknown> = {}): FlowNode => ({
  id: 'cap',
  type: 'capture',
  version: 1,
  camera: 'cam',
  mode: 'continuous',
  fps: 5,
  interval: 1,
  timeout: 5,
  publish: true,
  wires: [['out']],
  ...overrides,
});
const sink: FlowNode = { id: 'out', type: 'helper' };

function ffmpegChildren(): number[] {
  return descendantsOf(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg';
    } catch {
      return false;
    }
  });
}

describe('capture node with a glimpser-camera', () => {
  let broker: EmbeddedBroker;
  let handles: GlimpserHandles;

  beforeAll(async () => {
    ({ broker, handles } = await glimpserHandles());
    helper.settings({ glimpser: handles });
  });

  afterEach(async () => {
    await helper.unload();
  });

  afterAll(async () => {
    await broker.close();
  });

  it('sends frame messages with a decodable JPEG payload and typed frame metadata', async () => {
    await helper.load([cameraNode, captureNode], [camera(), capture(), sink]);
    const first = await nextMessage('out');
    const second = await nextMessage('out');
    expect(ffprobeImage(first.payload as Buffer)).toEqual({ codec: 'mjpeg', width: 160, height: 120 });
    expect(first.frame).toMatchObject({ camera: 'test-cam', width: 160, height: 120, bytes: (first.payload as Buffer).length });
    expect((second.frame as { sequence: number }).sequence).toBeGreaterThan((first.frame as { sequence: number }).sequence);
    expect(first.topic).toBe('cameras/test-cam/frame');
  });

  it('publishes each sent frame on glimpser/cameras/<id>/frame and the state retained', async () => {
    const frames: Buffer[] = [];
    const states: string[] = [];
    const unsubFrames = await broker.subscribe('glimpser/cameras/test-cam/frame', (_t, payload) => frames.push(payload));
    const unsubState = await broker.subscribe('glimpser/cameras/test-cam/state', (_t, payload) => states.push(JSON.parse(payload.toString()).state));
    await helper.load([cameraNode, captureNode], [camera(), capture(), sink]);
    const msg = await nextMessage('out');
    await eventually(async () => (frames.some((f) => f.equals(msg.payload as Buffer)) ? true : undefined), 5000, 'frame on the bus');
    expect(states).toContain('online');
    await unsubFrames();
    await unsubState();
  });

  it('shows connecting, then online, in the node status', async () => {
    await helper.load([cameraNode, captureNode], [camera(), capture({ mode: 'interval', interval: 60 }), sink]);
    const statuses = recordStatuses('cap');
    await eventually(async () => (statuses.some((s) => s.fill === 'green') ? true : undefined), 10000, 'online status');
    expect(statuses.find((s) => s.fill === 'green')).toMatchObject({ shape: 'dot', text: 'online · test-cam' });
  });

  it('interval mode runs as a capture job: pausing it stops the captures and says paused; run-now and resume take frames again', async () => {
    const clock = new ManualClock(Date.now());
    const store = JobStore.open(mkdtempSync(path.join(tmpdir(), 'glimpser-capture-jobs-')), undefined, clock.now());
    const scheduler = new Scheduler({ store, clock });
    const nextRun = (): Promise<JobRun> => new Promise((resolve) => scheduler.onRun(resolve));
    handles.jobs = scheduler;
    try {
      await helper.load([cameraNode, captureNode], [camera(), capture({ mode: 'interval', interval: 60 }), sink]);
      expect(scheduler.list({ camera: 'test-cam' })).toEqual([
        expect.objectContaining({ id: 'capture.cap', kind: 'capture', owner: 'cap', camera: 'test-cam', schedule: { kind: 'interval', everyMs: 60_000 } }),
      ]);
      const statuses = recordStatuses('cap');
      const scheduled = nextMessage('out');
      let run = nextRun();
      await clock.advance(60_000);
      expect(ffprobeImage((await scheduled).payload as Buffer).codec).toBe('mjpeg');
      expect(await run).toMatchObject({ trigger: 'schedule', outcome: 'ok', output: expect.stringMatching(/^frame \d+ \(160x120\)$/) });

      scheduler.pause('capture.cap');
      expect(statuses.at(-1)).toEqual({ fill: 'grey', shape: 'dot', text: 'paused (its job is paused)' });
      await clock.advance(10 * 60_000);
      expect(store.runs({ jobId: 'capture.cap' }).runs).toHaveLength(1);

      const manual = nextMessage('out');
      run = scheduler.runNow('capture.cap');
      await manual;
      expect(await run).toMatchObject({ trigger: 'manual', outcome: 'ok' });
      expect(statuses.at(-1)?.text).toBe('paused (its job is paused)');

      scheduler.resume('capture.cap');
      expect(statuses.at(-1)).toMatchObject({ text: 'online · test-cam' });
      const resumed = nextMessage('out');
      await clock.advance(60_000);
      await resumed;
    } finally {
      await helper.unload();
      delete handles.jobs;
      await scheduler.close();
      store.close();
    }
  });

  it('on demand, answers an input message with a frame', async () => {
    await helper.load([cameraNode, captureNode], [camera(), capture({ mode: 'on-demand' }), sink]);
    const answer = nextMessage('out');
    helper.getNode('cap').receive({ payload: 'now' });
    expect(ffprobeImage((await answer).payload as Buffer).codec).toBe('mjpeg');
  });

  it.each([
    [{ cameraId: 'Bad Id' }, /camera setting "cameraId" must match pattern/],
    [{ source: 'url', url: '-i /etc/passwd' }, /url/i],
    [{ source: 'url', url: 'ftp://example.com/stream' }, /ftp/],
    [{ source: 'file', path: '/etc/passwd' }, /media/i],
  ])('refuses camera config %j with an error status naming the problem, and starts no ffmpeg', async (override, message) => {
    const before = new Set(ffmpegChildren());
    await helper.load([cameraNode, captureNode], [camera(override), capture(), sink]);
    const logged = helper.log().args.map((a: unknown[]) => a[0] as { level: number; id: string; msg: unknown });
    const cameraError = logged.find((m) => m.id === 'cam' && m.level === 20);
    const captureError = logged.find((m) => m.id === 'cap' && m.level === 20);
    expect(String(cameraError?.msg)).toMatch(message);
    expect(String(captureError?.msg)).toMatch(message);
    expect(ffmpegChildren().filter((pid) => !before.has(pid))).toEqual([]);
  });

  it('stops its ffmpeg when the flow is removed (redeploy), leaving no process behind', async () => {
    // Processes still winding down from earlier test files in this jest worker are not this flow's.
    const before = new Set(ffmpegChildren());
    await helper.load([cameraNode, captureNode], [camera(), capture(), sink]);
    await nextMessage('out');
    const started = ffmpegChildren().filter((pid) => !before.has(pid));
    expect(started).toHaveLength(1);
    await helper.unload();
    expect(ffmpegChildren().filter((pid) => started.includes(pid))).toEqual([]);
  });

  it('shares one decode between several capture nodes on the same camera', async () => {
    const before = new Set(ffmpegChildren());
    await helper.load([cameraNode, captureNode], [camera(), capture(), capture({ id: 'cap2', mode: 'interval', interval: 0.5 }), sink]);
    await nextMessage('out');
    expect(ffmpegChildren().filter((pid) => !before.has(pid))).toHaveLength(1);
  });
});
