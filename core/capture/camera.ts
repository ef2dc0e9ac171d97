import type { Bus } from '../bus/bus';
import type { Frame } from '../frames/frame';
import { GREY_HEIGHT, jpegToGrey, type GreyPlane } from '../frames/grey';
import type { FramePostProcessor } from '../frames/postprocess';
import type { Logger } from '../log/logger';
import { topics } from '../topics';
import type { CameraHandle } from './registry';
import type { CameraConsumer, CameraStatus, FrameSource } from './source';

export type { CameraConsumer } from './source';

/** The retained JSON on glimpser/cameras/<id>/state. */
export interface CameraStatePayload extends CameraStatus {
  name: string;
  updatedAt: string;
}

/**
 * A configured camera: one frame source (one decode) shared by every consumer. The source runs while at least one
 * consumer is attached and stops after the last one leaves; every status change is published retained.
 *
 * JPEGs are made only while something wants them: consumers that need every frame hold the demand while attached,
 * the others take it for a moment (requestFrame, demandJpeg). Grey planes for motion detection come from the
 * source's own decode where it has one and the frames keep its geometry; otherwise they are made from the JPEGs,
 * which are then wanted for as long as a grey consumer is attached.
 */
export class Camera implements CameraHandle {
  private readonly consumers = new Set<CameraConsumer>();
  private latest: Frame | null = null;
  private lastPublished = '';
  private waiting: Frame | null = null;
  private processing = false;
  /** Continuous consumers plus demandJpeg holders. */
  private jpegHolders = 0;
  private jpegWanted: boolean | null = null;
  private readonly nativeGrey: boolean;
  private greyConsumers = 0;
  private greyBusy = false;

  constructor(
    readonly id: string,
    readonly name: string,
    private readonly source: FrameSource,
    private readonly bus: Bus | undefined,
    private readonly log: Logger,
    readonly publishesOwnFrames = false,
    private readonly postProcessor?: FramePostProcessor,
  ) {
    source.on('frame', (frame: Frame) => (postProcessor ? this.enqueue(frame) : this.deliver(frame)));
    source.on('status', (status: CameraStatus) => {
      for (const consumer of this.consumers) consumer.onStatus(status);
      this.publishState(status);
    });
    // Cropped or rotated frames show another picture than the decode: their planes are made from the frames.
    this.nativeGrey = source.setJpegDemand !== undefined && !(postProcessor?.changesGeometry() ?? false);
    if (this.nativeGrey) source.on('grey', (plane: GreyPlane) => this.deliverGrey(plane));
    this.updateDemand();
  }

  /**
   * Asks for JPEGs until the returned function is called (once): for a consumer that needs frames for a while,
   * such as motion detection during an event.
   */
  demandJpeg(): () => void {
    this.jpegHolders += 1;
    this.updateDemand();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.jpegHolders -= 1;
      this.updateDemand();
    };
  }

  private updateDemand(): void {
    const wanted = this.jpegHolders > 0 || (!this.nativeGrey && this.greyConsumers > 0);
    if (wanted === this.jpegWanted) return;
    this.jpegWanted = wanted;
    this.source.setJpegDemand?.(wanted);
  }

  private deliver(frame: Frame): void {
    this.latest = frame;
    for (const consumer of this.consumers) consumer.onFrame(frame);
    if (!this.nativeGrey && this.greyConsumers > 0) this.greyFromJpeg(frame);
  }

  private deliverGrey(plane: GreyPlane): void {
    for (const consumer of this.consumers) consumer.onGrey?.(plane);
  }

  /** One conversion at a time; frames arriving meanwhile get no plane (motion detection copes with gaps). */
  private greyFromJpeg(frame: Frame): void {
    if (this.greyBusy) return;
    this.greyBusy = true;
    const { camera, timestamp, sequence } = frame.meta;
    jpegToGrey(frame.jpeg, GREY_HEIGHT, { timestamp, sequence })
      .then((grey) => this.deliverGrey({ camera, ...grey }))
      .catch((err: Error) => this.log.warn({ camera: this.id, err: err.message }, 'could not make a grey plane from a frame'))
      .finally(() => (this.greyBusy = false));
  }

  /**
   * Post-processing is asynchronous (sharp); frames are processed one at a time in order, and while one is being
   * processed only the newest waiting frame is kept, so a slow pipeline drops frames instead of queueing them.
   */
  private enqueue(frame: Frame): void {
    this.waiting = frame;
    if (!this.processing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.processing = true;
    while (this.waiting) {
      const frame = this.waiting;
      this.waiting = null;
      try {
        const result = await this.postProcessor!.process(frame);
        if ('rejected' in result) this.log.debug({ camera: this.id, reason: result.rejected, sequence: frame.meta.sequence }, 'frame rejected');
        else this.deliver(result);
      } catch (err) {
        this.log.warn({ camera: this.id, err: (err as Error).message }, 'frame post-processing failed');
      }
    }
    this.processing = false;
  }

  attach(consumer: CameraConsumer): () => Promise<void> {
    if (this.consumers.has(consumer)) throw new Error(`camera ${this.id}: this consumer is already attached`);
    this.consumers.add(consumer);
    const releaseJpeg = consumer.continuousJpeg === false ? () => undefined : this.demandJpeg();
    if (consumer.onGrey) this.greyConsumers += 1;
    this.updateDemand();
    consumer.onStatus(this.source.status());
    if (this.consumers.size === 1) {
      this.log.info({ camera: this.id }, 'camera starting (first consumer)');
      this.source.start();
    }
    return async () => {
      if (!this.consumers.delete(consumer)) return;
      releaseJpeg();
      if (consumer.onGrey) this.greyConsumers -= 1;
      this.updateDemand();
      if (this.consumers.size > 0) return;
      this.log.info({ camera: this.id }, 'camera stopping (no consumer left)');
      await this.source.stop();
    };
  }

  status(): CameraStatus {
    return this.source.status();
  }

  latestFrame(): Frame | null {
    return this.latest;
  }

  async recentFrame(maxAgeMs: number, timeoutMs: number): Promise<Frame | null> {
    const latest = this.latest;
    if (latest !== null && Date.now() - latest.meta.timestamp <= maxAgeMs) return latest;
    // A camera that runs for motion detection alone makes no JPEGs until asked: ask, rather than show an old one.
    if (this.source.status().state !== 'online') return latest;
    try {
      return await this.requestFrame(timeoutMs);
    } catch {
      return latest;
    }
  }

  requestFrame(timeoutMs: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void detach().finally(outcome);
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`camera ${this.id}: no frame within ${timeoutMs} ms (${this.source.status().lastError ?? this.source.status().state})`)),
          ),
        timeoutMs,
      );
      const detach = this.attach({ onFrame: (frame) => finish(() => resolve(frame)), onStatus: () => undefined });
    });
  }

  async close(): Promise<void> {
    this.consumers.clear();
    this.greyConsumers = 0;
    await this.source.stop();
    this.publishState(this.source.status());
  }

  private publishState(status: CameraStatus): void {
    if (!this.bus) return;
    // fps changes every frame; publish on state, error or restart changes, not on every fps tick.
    const key = `${status.state}|${status.lastError}|${status.restarts}`;
    if (key === this.lastPublished) return;
    this.lastPublished = key;
    const payload: CameraStatePayload = { ...status, name: this.name, updatedAt: new Date().toISOString() };
    this.bus.publish(topics.cameraState(this.id), JSON.stringify(payload), { retain: true, qos: 1 }).catch((err: Error) => {
      this.log.warn({ camera: this.id, err: err.message }, 'could not publish camera state');
    });
  }
}
