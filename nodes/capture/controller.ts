import type { Node } from 'node-red';
import type { Camera } from '../../core/capture/camera';
import { FrameSampler, type CaptureMode } from '../../core/capture/sampler';
import type { CameraStatus } from '../../core/capture/source';
import { toFrameMessage, type Frame } from '../../core/frames/frame';
import { topics } from '../../core/topics';
import type { CameraController } from '../glimpser-camera/controller';
import type { GlimpserHandles } from '../shared/handles';
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
 * frame on glimpser/cameras/<id>/frame, and mirrors the camera's state in the node status.
 */
export class CaptureController implements NodeBehaviour {
  private readonly node: Node;
  private readonly config: CaptureConfig;
  private readonly camera: Camera;
  private readonly handles: GlimpserHandles;
  private readonly status: Status;
  private readonly sampler: FrameSampler;
  private readonly detach: () => Promise<void>;
  private warnedNoArchive = false;

  constructor({ node, config, handles, status, configNode }: NodeContext<CaptureConfig>) {
    const camera = configNode<CameraController>(config.camera, 'glimpser-camera', 'camera').camera;
    this.node = node;
    this.config = config;
    this.camera = camera;
    this.handles = handles;
    this.status = status;
    const onError = (err: Error): void => node.error(`scheduled capture failed: ${err.message}`);
    this.sampler = new FrameSampler(
      modeOf(config),
      (frame) => this.deliver(frame),
      onError,
      () => camera.demandJpeg(),
    );
    // Only a continuous capture needs every JPEG; the other modes ask the camera for one when they want it.
    this.detach = camera.attach({
      onFrame: (frame) => this.sampler.offer(frame),
      onStatus: (status) => this.showStatus(status),
      continuousJpeg: config.mode === 'continuous',
    });
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

  private showStatus(status: CameraStatus): void {
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
    this.sampler.close();
    await this.detach();
  }
}
