import type { Node } from 'node-red';
import type { Camera } from '../../core/capture/camera';
import { GREY_HEIGHT, type GreyPlane } from '../../core/capture/ffmpeg-args';
import type { CameraStatus } from '../../core/capture/source';
import type { GreyFrame, MotionResult } from '../../core/motion/detector';
import { jpegToGrey } from '../../core/motion/grey';
import { MotionEventTracker, type MotionTransition } from '../../core/motion/lifecycle';
import { SceneChangeDetector } from '../../core/motion/scene-change';
import { TamperDetector, type TamperEvent } from '../../core/motion/tamper';
import { VideoMotionDetector } from '../../core/motion/video-motion';
import { assertCameraId, toFrameMessage, type Frame, type FrameMeta } from '../../core/frames/frame';
import { topics } from '../../core/topics';
import type { GlimpserHandles } from '../shared/handles';
import { statusOf } from '../shared/node-kit';
import type { MotionSettings } from './schema';

/** Updates of an ongoing event are sent at most this often: the journal and MQTT need the best frame, not every one. */
const UPDATE_EVERY_MS = 1000;
/** Reading a camera directly: a JPEG this much older than a plane does not show that plane's picture. */
const JPEG_MATCH_MS = 500;
/** Reading a camera directly: motion results wait this long at most for the JPEG asked for them. */
const JPEG_WAIT_MS = 3000;

export interface LifecycleEvent {
  /** Stable for the event's life, so the event node can update what it inserted. */
  key: string;
  phase: 'start' | 'update' | 'end';
  camera: string;
  type: 'motion' | 'tamper';
  subtype?: string;
  startTime: number;
  endTime: number | null;
  score: number;
  boxes: MotionResult['boxes'];
  zones: string[];
}

interface BestFrame {
  jpeg: Buffer;
  meta: FrameMeta;
}

/** What one camera's frames have taught this node: detectors keep per-camera state. */
interface CameraState {
  video?: VideoMotionDetector;
  scene?: SceneChangeDetector;
  tamper?: TamperDetector;
  tracker: MotionEventTracker<BestFrame>;
  lastUpdateSent: number;
  motionOn: boolean;
}

/** Reading a camera directly: the JPEG demand held while motion lasts, and results waiting for their JPEG. */
interface CameraFeed {
  camera: Camera;
  detach: () => Promise<void>;
  release: (() => void) | null;
  latest: Frame | null;
  pending: Array<{ result: MotionResult; plane: GreyPlane }>;
  lastResult: MotionResult | null;
}

/** Stands for the JPEG a camera did not deliver in time; `picture` leaves it out of the message. */
function noPicture(camera: string, timestamp: number): BestFrame {
  return { jpeg: Buffer.alloc(0), meta: { camera, timestamp, sequence: 0, width: 0, height: 0, bytes: 0 } };
}

/** An event's picture as a frame message's payload and meta; none when the camera gave no JPEG in time. */
function picture(frame: BestFrame): { payload?: Buffer; frame?: FrameMeta } {
  return frame.jpeg.length > 0 ? { payload: frame.jpeg, frame: frame.meta } : {};
}

export type Send = (msgs: Array<Record<string, unknown> | null>) => void;

/**
 * The behaviour of a motion node: frames in, every frame out with `msg.motion`, and motion / tamper / scene-change
 * events with a start → update → end lifecycle on the second output.
 */
export class MotionController {
  private readonly cameras = new Map<string, CameraState>();
  private feed: CameraFeed | null = null;

  constructor(private readonly node: Node, private readonly settings: MotionSettings, private readonly handles: GlimpserHandles) {}

  async onFrame(msg: Record<string, unknown>, send: Send): Promise<void> {
    if (this.feed !== null) throw new Error(`this motion node reads camera ${this.feed.camera.id} directly; wired frames are not used (set "Frames from" to wired messages to use them)`);
    const jpeg = msg.payload;
    const meta = msg.frame as FrameMeta | undefined;
    if (!Buffer.isBuffer(jpeg)) throw new Error('msg.payload must be a JPEG Buffer (a frame message from a capture node)');
    const camera = assertCameraId(meta?.camera ?? 'unknown');
    const timestamp = typeof meta?.timestamp === 'number' ? meta.timestamp : Date.now();
    const grey = await jpegToGrey(jpeg, GREY_HEIGHT, { timestamp, sequence: meta?.sequence });
    const state = this.stateFor(camera);
    const best: BestFrame = { jpeg, meta: meta ?? { camera, timestamp, sequence: 0, width: grey.width, height: grey.height, bytes: jpeg.length } };
    const result = this.detect(state, grey);
    const events = this.track(camera, state, result, timestamp, best);
    for (const tamper of state.tamper?.update(grey) ?? []) events.push(this.tamperMessage(camera, tamper, best));
    send([{ ...msg, motion: result }, null]);
    for (const event of events) send([null, event]);
    this.showStatus(camera, result, state);
  }

  /**
   * Reads the camera's grey planes directly, as Frigate reads its detect stream: no JPEG is made while nothing
   * moves. When motion begins the camera is asked for JPEGs, which the events carry and the first output sends,
   * until the event ends. A result waits (up to JPEG_WAIT_MS) for a JPEG taken no earlier than its plane.
   */
  watch(camera: Camera, send: Send): void {
    const feed: CameraFeed = { camera, detach: async () => undefined, release: null, latest: null, pending: [], lastResult: null };
    this.feed = feed;
    feed.detach = camera.attach({
      continuousJpeg: false,
      onGrey: (plane) => this.onPlane(feed, plane, send),
      onFrame: (frame) => this.onCameraFrame(feed, frame, send),
      onStatus: (status) => this.showCameraStatus(status),
    });
  }

  private onPlane(feed: CameraFeed, plane: GreyPlane, send: Send): void {
    const camera = plane.camera;
    const state = this.stateFor(camera);
    const result = this.detect(state, plane);
    feed.lastResult = result;
    const busy = result.motion || state.tracker.busy || feed.pending.length > 0;
    if (busy && feed.release === null) feed.release = feed.camera.demandJpeg();
    const latest = feed.latest;
    if (result.motion && feed.pending.length === 0 && latest !== null && latest.meta.timestamp >= plane.timestamp - JPEG_MATCH_MS) {
      this.feedTracker(camera, state, result, plane.timestamp, latest, send);
    } else if (result.motion || feed.pending.length > 0) {
      feed.pending.push({ result, plane });
      // A JPEG that never comes (the camera dropped it, or went offline) must not hold events back for ever.
      if (plane.timestamp - feed.pending[0].plane.timestamp > JPEG_WAIT_MS) this.flush(feed, latest, send);
    } else {
      this.feedTracker(camera, state, result, plane.timestamp, latest, send);
    }
    for (const tamper of state.tamper?.update(plane) ?? []) void this.sendTamper(feed, camera, tamper, send);
    if (!result.motion && !state.tracker.busy && feed.pending.length === 0 && feed.release !== null) {
      feed.release();
      feed.release = null;
    }
    this.showStatus(camera, result, state);
  }

  private onCameraFrame(feed: CameraFeed, frame: Frame, send: Send): void {
    feed.latest = frame;
    if (feed.pending.length > 0) this.flush(feed, frame, send);
    // JPEGs made while motion lasts go out on the first output, as wired frames would.
    const state = this.cameras.get(frame.meta.camera);
    if (feed.release !== null && feed.lastResult !== null && state?.tracker.busy) send([{ ...toFrameMessage(frame), motion: feed.lastResult }, null]);
  }

  private flush(feed: CameraFeed, frame: Frame | null, send: Send): void {
    for (const { result, plane } of feed.pending.splice(0)) this.feedTracker(plane.camera, this.stateFor(plane.camera), result, plane.timestamp, frame, send);
  }

  private feedTracker(camera: string, state: CameraState, result: MotionResult, timestamp: number, frame: Frame | null, send: Send): void {
    const best: BestFrame = frame ?? noPicture(camera, timestamp);
    for (const event of this.track(camera, state, result, timestamp, best)) send([null, event]);
  }

  private async sendTamper(feed: CameraFeed, camera: string, tamper: TamperEvent, send: Send): Promise<void> {
    const frame = await feed.camera.recentFrame(JPEG_MATCH_MS, JPEG_WAIT_MS);
    const best: BestFrame = frame ?? noPicture(camera, tamper.startedAt);
    send([null, this.tamperMessage(camera, tamper, best)]);
  }

  private showCameraStatus(status: CameraStatus): void {
    if (status.state === 'offline') this.node.status(statusOf('offline', `camera offline${status.lastError ? `: ${status.lastError}` : ''}`));
    else if (status.state === 'connecting') this.node.status(statusOf('connecting', 'camera connecting…'));
  }

  private detect(state: CameraState, grey: GreyFrame): MotionResult {
    return this.settings.mode === 'scene' ? this.sceneResult(state, grey) : state.video!.detect(grey);
  }

  private track(camera: string, state: CameraState, result: MotionResult, timestamp: number, best: BestFrame): Array<Record<string, unknown>> {
    const events: Array<Record<string, unknown>> = [];
    for (const transition of state.tracker.feed(result, timestamp, best)) {
      const out = this.lifecycleMessage(camera, transition);
      if (out) events.push(out);
    }
    return events;
  }

  private stateFor(camera: string): CameraState {
    let state = this.cameras.get(camera);
    if (state) return state;
    const regions = { masks: this.settings.maskPolygons, zones: this.settings.zoneList };
    state = {
      tracker: new MotionEventTracker<BestFrame>({ minDurationMs: this.settings.minDuration * 1000, quietMs: this.settings.quiet * 1000, camera }),
      lastUpdateSent: 0,
      motionOn: false,
    };
    if (this.settings.mode === 'scene') {
      state.scene = new SceneChangeDetector({ ...regions, threshold: this.settings.sceneThreshold, camera, logger: this.handles.logger });
    } else {
      state.video = new VideoMotionDetector({
        ...regions,
        threshold: this.settings.threshold,
        minArea: this.settings.minArea / 100,
        camera,
        logger: this.handles.logger,
        onReset: (reset) => this.node.warn(`camera ${camera}: frame size changed from ${reset.from.width}×${reset.from.height} to ${reset.to.width}×${reset.to.height}; motion detection starts over`),
      });
      if (this.settings.tamper) state.tamper = new TamperDetector({ camera });
    }
    this.cameras.set(camera, state);
    return state;
  }

  /** A scene change is a one-frame "motion" so that it flows through the same lifecycle as video motion. */
  private sceneResult(state: CameraState, grey: GreyFrame): MotionResult {
    const change = state.scene!.compare(grey);
    return { motion: change.changed && change.reason === 'content', boxes: [], changedFraction: change.difference, zones: change.changedZones, calibrating: change.reason === 'first', score: change.difference };
  }

  private lifecycleMessage(camera: string, transition: MotionTransition<BestFrame>): Record<string, unknown> | null {
    const { event, type } = transition;
    const state = this.cameras.get(camera)!;
    const now = event.lastMotionAt;
    if (type === 'update' && now - state.lastUpdateSent < UPDATE_EVERY_MS) return null;
    state.lastUpdateSent = now;
    if (type !== 'update') this.publishMotion(camera, type === 'start', state);
    const lifecycle: LifecycleEvent = {
      key: `${this.node.id}:${camera}:${this.settings.mode === 'scene' ? 'scene' : 'motion'}:${event.id}:${event.startedAt}`,
      phase: type,
      camera,
      type: 'motion',
      subtype: this.settings.mode === 'scene' ? 'scene_change' : undefined,
      startTime: event.startedAt,
      endTime: event.endedAt,
      score: Math.min(1, Math.max(0, event.maxScore)),
      boxes: event.best.boxes,
      zones: event.zones,
    };
    return { topic: `cameras/${camera}/motion`, ...picture(event.best.frame), event: lifecycle };
  }

  private tamperMessage(camera: string, tamper: TamperEvent, frame: BestFrame): Record<string, unknown> {
    const lifecycle: LifecycleEvent = {
      key: `${this.node.id}:${camera}:tamper:${tamper.kind}:${tamper.startedAt}`,
      phase: tamper.phase === 'start' ? 'start' : 'end',
      camera,
      type: 'tamper',
      subtype: tamper.kind,
      startTime: tamper.startedAt,
      endTime: tamper.endedAt,
      score: Math.min(1, Math.max(0, Math.abs(tamper.value))),
      boxes: [],
      zones: [],
    };
    if (tamper.phase === 'start') this.node.warn(`camera ${camera}: tamper detected (${tamper.kind})`);
    return { topic: `cameras/${camera}/tamper`, ...picture(frame), event: lifecycle };
  }

  private publishMotion(camera: string, on: boolean, state: CameraState): void {
    state.motionOn = on;
    if (!this.settings.publish || !this.handles.bus) return;
    this.handles.bus.publish(topics.cameraMotion(camera), on ? 'ON' : 'OFF', { retain: true, qos: 1 }).catch((err: Error) => this.node.warn(`could not publish motion state: ${err.message}`));
  }

  private showStatus(camera: string, result: MotionResult, state: CameraState): void {
    const tampered = state.tamper?.active() ?? [];
    if (tampered.length > 0) this.node.status(statusOf('error', `${camera}: ${tampered.join(', ')}`));
    else if (result.calibrating) this.node.status(statusOf('connecting', `${camera}: learning the scene`));
    else if (state.motionOn) this.node.status(statusOf('online', `${camera}: motion ${(result.changedFraction * 100).toFixed(1)} %`));
    else this.node.status(statusOf('idle', `${camera}: no motion`));
  }

  /** Ends events under way (their frames will not come to end them) and turns the MQTT motion state OFF. */
  async close(send: Send): Promise<void> {
    const feed = this.feed;
    this.feed = null;
    if (feed !== null) {
      feed.release?.();
      this.flush(feed, feed.latest, send);
      await feed.detach();
    }
    const now = Date.now();
    for (const [camera, state] of this.cameras) {
      for (const transition of state.tracker.finish(now)) {
        const out = this.lifecycleMessage(camera, transition);
        if (out) send([null, out]);
      }
    }
    this.cameras.clear();
  }
}
