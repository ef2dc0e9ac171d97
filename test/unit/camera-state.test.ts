import { EventEmitter } from 'node:events';
import { CameraStateTracker, type FpsMeasure } from '../../core/capture/camera-state';
import type { CameraStatus } from '../../core/capture/source';
import type { Frame } from '../../core/frames/frame';
import { silentLogger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';

function setup(camera: string, fps?: FpsMeasure): { tracker: CameraStateTracker; statuses: CameraStatus[]; clock: { ms: number } } {
  const emitter = new EventEmitter();
  const statuses: CameraStatus[] = [];
  emitter.on('status', (status: CameraStatus) => statuses.push(status));
  const clock = { ms: 1000 };
  const tracker = new CameraStateTracker({ camera, emitter, logger: silentLogger, fps, clock: () => clock.ms });
  return { tracker, statuses, clock };
}

function frame(camera: string, timestamp: number): Frame {
  return { jpeg: Buffer.alloc(10), meta: { camera, timestamp, sequence: 1, width: 2, height: 2, bytes: 10 } };
}

async function gauge(metric: typeof metrics.cameraFps, camera: string): Promise<number | undefined> {
  const { values } = await metric.get();
  return values.find((value) => value.labels.camera === camera)?.value;
}

test('a state change emits one status with the new state, and setting the same state again emits none', () => {
  const { tracker, statuses } = setup('tracker-state');
  tracker.setState('connecting');
  tracker.setState('connecting');
  expect(statuses.map((status) => status.state)).toEqual(['connecting']);
  expect(tracker.state).toBe('connecting');
});

test('a new last error emits one status, a repeated one none', () => {
  const { tracker, statuses } = setup('tracker-error');
  tracker.setLastError('connection refused');
  tracker.setLastError('connection refused');
  expect(statuses).toHaveLength(1);
  expect(statuses[0].lastError).toBe('connection refused');
});

test('fps is measured over the frames of the last five seconds', () => {
  const { tracker, clock } = setup('tracker-fps');
  for (let i = 0; i < 11; i += 1) {
    tracker.frameDelivered(frame('tracker-fps', 5000 + i));
    clock.ms += 100;
  }
  expect(tracker.status()).toMatchObject({ state: 'online', fps: 10, lastFrameAt: 5010 });
  clock.ms += 6000;
  expect(tracker.status().fps).toBe(0);
});

test('snapshot cameras take fps from the spacing of the last two frames', () => {
  const { tracker, clock } = setup('tracker-snapshots', 'last-two');
  tracker.frameDelivered(frame('tracker-snapshots', 1));
  clock.ms += 30000;
  tracker.frameDelivered(frame('tracker-snapshots', 2));
  clock.ms += 60000;
  tracker.frameDelivered(frame('tracker-snapshots', 3));
  expect(tracker.status().fps).toBe(0.017);
});

test('frames set the online and fps gauges, and leaving online zeroes both and forgets the frame times', async () => {
  const { tracker, clock } = setup('tracker-gauges');
  tracker.frameDelivered(frame('tracker-gauges', 1));
  clock.ms += 200;
  tracker.frameDelivered(frame('tracker-gauges', 2));
  expect(await gauge(metrics.cameraOnline, 'tracker-gauges')).toBe(1);
  expect(await gauge(metrics.cameraFps, 'tracker-gauges')).toBe(5);
  tracker.setState('offline');
  expect(await gauge(metrics.cameraOnline, 'tracker-gauges')).toBe(0);
  expect(await gauge(metrics.cameraFps, 'tracker-gauges')).toBe(0);
  expect(tracker.status().fps).toBe(0);
});

test('restarts are counted, reset on a fresh start, and a device-reported count emits a status only when it changes', () => {
  const { tracker, statuses } = setup('tracker-restarts');
  tracker.countRestart();
  tracker.countRestart();
  tracker.setLastError('exited');
  expect(tracker.status()).toMatchObject({ restarts: 2, lastError: 'exited' });
  tracker.reset();
  expect(tracker.status()).toMatchObject({ restarts: 0, lastError: null, lastFrameAt: null });
  const before = statuses.length;
  tracker.setRestarts(4);
  tracker.setRestarts(4);
  expect(statuses.length - before).toBe(1);
  tracker.reset({ keepRestarts: true });
  expect(tracker.status().restarts).toBe(4);
});
