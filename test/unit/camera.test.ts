import { EventEmitter } from 'node:events';
import sharp from 'sharp';
import type { Bus } from '../../core/bus/bus';
import { Camera } from '../../core/capture/camera';
import type { CameraStatus, FrameSource } from '../../core/capture/source';
import type { Frame } from '../../core/frames/frame';
import { FramePostProcessor } from '../../core/frames/postprocess';
import { silentLogger } from '../../core/log/logger';
import { recordingLogger, waitFor, type LogEntry } from '../support/tools';

/** A frame source driven by the test: Camera's job (sharing, lifecycle, state, post-processing) is what is tested. */
class ScriptedSource extends EventEmitter implements FrameSource {
  readonly camera = 'cam';
  running = false;
  starts = 0;
  private current: CameraStatus = { camera: 'cam', state: 'stopped', fps: 0, lastFrameAt: null, lastError: null, restarts: 0 };
  start(): void {
    this.running = true;
    this.starts += 1;
    this.setState('connecting');
  }
  async stop(): Promise<void> {
    this.running = false;
    this.setState('stopped');
  }
  status(): CameraStatus {
    return this.current;
  }
  setState(state: CameraStatus['state'], lastError: string | null = null): void {
    this.current = { ...this.current, state, lastError };
    this.emit('status', this.current);
  }
  frame(jpeg: Buffer, sequence: number): void {
    this.emit('frame', { jpeg, meta: { camera: 'cam', sequence, timestamp: Date.now(), width: 64, height: 48, bytes: jpeg.length } } satisfies Frame);
  }
}

class RecordingBus implements Bus {
  readonly published: Array<{ topic: string; payload: string; retain: boolean }> = [];
  async publish(topic: string, payload: Buffer | string, options: { retain?: boolean } = {}): Promise<void> {
    this.published.push({ topic, payload: payload.toString(), retain: options.retain ?? false });
  }
  async subscribe(): Promise<() => Promise<void>> {
    return async () => undefined;
  }
}

const pattern = () =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: '#000' } })
    .composite([
      {
        input: Buffer.from(
          '<svg width="64" height="48"><rect x="0" y="0" width="32" height="48" fill="#fff"/><circle cx="48" cy="24" r="10" fill="#f00"/></svg>',
        ),
      },
    ])
    .jpeg()
    .toBuffer();
const black = () =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: '#000' } })
    .jpeg()
    .toBuffer();

describe('Camera', () => {
  it('runs its source while at least one consumer is attached and publishes each state change retained', async () => {
    const source = new ScriptedSource();
    const bus = new RecordingBus();
    const camera = new Camera('cam', 'Camera', source, bus, silentLogger);
    const a = camera.attach({ onFrame: () => undefined, onStatus: () => undefined });
    const b = camera.attach({ onFrame: () => undefined, onStatus: () => undefined });
    expect(source.starts).toBe(1);
    source.setState('online');
    await a();
    expect(source.running).toBe(true);
    await b();
    expect(source.running).toBe(false);
    const states = bus.published.filter((p) => p.topic === 'glimpser/cameras/cam/state');
    expect(states.every((p) => p.retain)).toBe(true);
    expect(states.map((p) => JSON.parse(p.payload).state)).toEqual(['connecting', 'online', 'stopped']);
  });

  it('requestFrame starts the source for the moment, returns the next frame, and stops it again', async () => {
    const source = new ScriptedSource();
    const camera = new Camera('cam', 'Camera', source, undefined, silentLogger);
    const pending = camera.requestFrame(1000);
    expect(source.running).toBe(true);
    const jpeg = await pattern();
    source.frame(jpeg, 1);
    await expect(pending).resolves.toMatchObject({ meta: { sequence: 1 } });
    expect(source.running).toBe(false);
    await expect(camera.requestFrame(50)).rejects.toThrow(/camera cam: no frame within 50 ms/);
  });

  it('drops blank frames in post-processing and delivers the others, newest-wins while busy', async () => {
    const source = new ScriptedSource();
    const processor = new FramePostProcessor({ quality: 80, rejectBlank: { enabled: true } });
    const { logger, events: logEvents } = recordingLogger();
    const camera = new Camera('cam', 'Camera', source, undefined, logger, false, processor);
    const delivered: number[] = [];
    const frames = new EventEmitter();
    const onFrame = (frame: Frame): void => {
      delivered.push(frame.meta.sequence);
      frames.emit('frame', frame.meta.sequence);
    };
    camera.attach({ onFrame, onStatus: () => undefined });
    const [good, dark] = await Promise.all([pattern(), black()]);
    source.frame(good, 1);
    source.frame(dark, 2);
    source.frame(good, 3);
    source.frame(good, 4);
    await waitFor<number>(frames, 'frame', (sequence) => sequence === 4, 5000);
    // 1 is processed at once; 2 and 3 are replaced by 4 while 1 is busy: a slow pipeline never queues.
    expect(delivered).toEqual([1, 4]);
    source.frame(dark, 5);
    // The camera logs each frame post-processing rejected: once 5 is rejected, nothing more can arrive.
    await waitFor<LogEntry>(logEvents, 'entry', (entry) => entry.msg === 'frame rejected' && entry.obj.sequence === 5, 5000);
    expect(delivered).toEqual([1, 4]);
    await camera.close();
  });
});
