import type { Node } from 'node-red';
import type { Camera } from '../../core/capture/camera';
import { captureSchedule, FrameSampler, type CaptureMode } from '../../core/capture/sampler';
import type { CameraStatus } from '../../core/capture/source';
import { toFrameMessage, type Frame } from '../../core/frames/frame';
import { topics } from '../../core/topics';
import type { CameraController } from '../glimpser-camera/controller';
import type { JobHandle } from '../../core/jobs/scheduler';
import type { GlimpserHandles } from '../shared/handles';
import { nodeJobId, schedulerFor, watchJob } from '../shared/jobs';
import type { NodeBehaviour, NodeContext, Status } from '../shared/node-kit';
import type { CaptureConfig } from './schema';

function modeOf(config: CaptureConfig): CaptureMode {
  if (config.mode === 'continuous') return { kind: 'continuous', fps: config.fps };
  if (config.mode === 'interval') return { kind: 'interval', everyMs: config.interval * 1000 };
  if (config.mode === 'cron') return { kind: 'cron', expression: config.cron, timeZone: config.timeZone || undefined, timeoutMs: config.timeout * 1000 };
  return { kind: 'on-demand', timeoutMs: config.timeout * 1000 };
}

/**
 * The behaviour of a capture node: samples its camera's frames by mode, sends frame messages, publishes each sent
 * frame on glimpser/cameras/<id>/frame, and mirrors the camera's state in the node status. Interval and cron modes
 * take their frames as a job (kind `capture`, id `capture.<node id>`), so the API lists, pauses and runs them; while
 * the job is paused the node takes no scheduled frames and its status says so.
 */
export class CaptureController implements NodeBehaviour {
  private readonly node: Node;
  private readonly config: CaptureConfig;
  private readonly camera: Camera;
  private readonly handles: GlimpserHandles;
  private readonly status: Status;
  private readonly sampler: FrameSampler;
  private readonly detach: () => Promise<void>;
  private readonly job: JobHandle | null = null;
  private readonly stopWatching: () => void = () => undefined;
  private paused = false;
  private cameraStatus: CameraStatus | null = null;
  private warnedNoArchive = false;

  constructor({ node, config, handles, status, configNode }: NodeContext<CaptureConfig>) {
    const camera = configNode<CameraController>(config.camera, 'glimpser-camera', 'camera').camera;
    this.node = node;
    this.config = config;
    this.camera = camera;
    this.handles = handles;
    this.status = status;
    const mode = modeOf(config);
    const schedule = captureSchedule(mode);
    this.sampler = new FrameSampler(
      mode,
      (frame) => this.deliver(frame),
      () => camera.demandJpeg(),
    );
    // Only a continuous capture (or an interval under a second, a frame rate) needs every JPEG; the other modes ask
    // the camera for one when they want it.
    this.detach = camera.attach({
      onFrame: (frame) => this.sampler.offer(frame),
      onStatus: (status) => this.showStatus(status),
      continuousJpeg: config.mode === 'continuous' || (config.mode === 'interval' && schedule === null),
    });
    if (schedule) {
      const scheduler = schedulerFor(handles);
      const id = nodeJobId('capture', node.id);
      this.stopWatching = watchJob(scheduler, id, (state) => this.showPaused(state.paused));
      this.job = scheduler.register({ id, kind: 'capture', owner: node.id, camera: camera.id, schedule }, () => this.scheduledCapture());
    }
  }

  /** One run of the capture job: a fresh frame, sent like any other; a camera that gives none in time fails the run. */
  private async scheduledCapture(): Promise<string> {
    try {
      const frame = await this.sampler.request();
      return `frame ${frame.meta.sequence} (${frame.meta.width}x${frame.meta.height})`;
    } catch (err) {
      // An interval tick without a frame is quiet (the camera's state says why); a cron capture was asked for.
      if (this.config.mode === 'cron') this.node.error(`scheduled capture failed: ${(err as Error).message}`);
      throw err;
    }
  }

  /** An incoming message asks for a frame now (in every mode); the frame message keeps the input's other fields. */
  async input(): Promise<void> {
    await this.sampler.request();
  }

  private deliver(frame: Frame): void {
    this.node.send(toFrameMessage(frame));
    if (this.config.archive) {
      if (this.handles.archive) this.handles.archive.add(frame).catch((err: Error) => this.node.warn(`could not archive frame: ${err.message}`));
      else if (!this.warnedNoArchive) {
        this.warnedNoArchive = true;
        this.node.warn('archive is on, but no frame archive is available (it is part of the Glimpser runtime)');
      }
    }
    if (this.config.publish && this.handles.bus && !this.camera.publishesOwnFrames) {
      this.handles.bus
        .publish(topics.cameraFrame(frame.meta.camera), frame.jpeg)
        .catch((err: Error) => this.node.warn(`could not publish frame: ${err.message}`));
    }
  }

  private showPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) this.status.show('stopped', 'paused');
    else if (this.cameraStatus) this.showStatus(this.cameraStatus);
    else this.status.clear();
  }

  private showStatus(status: CameraStatus): void {
    this.cameraStatus = status;
    if (this.paused) return;
    switch (status.state) {
      case 'connecting':
        this.status.show('connecting', 'connecting');
        break;
      case 'online':
        this.status.show('online', 'online', { camera: this.camera.id });
        break;
      case 'offline':
        if (status.lastError) this.status.show('offline', 'offlineBecause', { error: status.lastError });
        else this.status.show('offline', 'offline');
        break;
      case 'stopped':
        this.status.show('stopped', 'stopped');
        break;
    }
  }

  async close(): Promise<void> {
    this.stopWatching();
    await this.job?.unregister();
    this.sampler.close();
    await this.detach();
  }
}
