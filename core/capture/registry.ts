import type { Frame } from '../frames/frame';
import type { CheckedRegions } from '../motion/regions';
import type { CameraConsumer, CameraStatus } from './source';

/** What the HTTP API and dashboards may ask of a camera that a flow has configured. */
export interface CameraHandle {
  readonly id: string;
  readonly name: string;
  status(): CameraStatus;
  latestFrame(): Frame | null;
  /**
   * The newest frame if it is at most `maxAgeMs` old; otherwise, while the camera is online, the next one (waiting
   * up to `timeoutMs`); otherwise the newest there is, however old, or null.
   */
  recentFrame(maxAgeMs: number, timeoutMs: number): Promise<Frame | null>;
  /** Keeps the camera's source running for this consumer; the returned function detaches it. */
  attach(consumer: CameraConsumer): () => Promise<void>;
  /** The next frame from the camera, starting its source for the moment if nothing else uses it. */
  requestFrame(timeoutMs: number): Promise<Frame>;
  /** Frames already published on the bus by the source itself (an edge device): capture nodes must not republish. */
  readonly publishesOwnFrames: boolean;
}

/** The cameras configured by the deployed flows, keyed by camera id; a second camera with the same id is refused. */
export class CameraRegistry {
  private readonly cameras = new Map<string, CameraHandle>();
  private readonly regions = new Map<string, Set<CheckedRegions>>();

  register(handle: CameraHandle): () => void {
    if (this.cameras.has(handle.id)) throw new Error(`camera id "${handle.id}" is already used by another camera node; camera ids must be unique`);
    this.cameras.set(handle.id, handle);
    return () => {
      if (this.cameras.get(handle.id) === handle) this.cameras.delete(handle.id);
    };
  }

  get(id: string): CameraHandle | undefined {
    return this.cameras.get(id);
  }

  list(): CameraHandle[] {
    return [...this.cameras.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The zones and masks a motion node watches on a camera, for the live view to draw; the returned function removes them. */
  addRegions(camera: string, regions: CheckedRegions): () => void {
    const set = this.regions.get(camera) ?? new Set<CheckedRegions>();
    this.regions.set(camera, set);
    set.add(regions);
    return () => {
      set.delete(regions);
      if (set.size === 0 && this.regions.get(camera) === set) this.regions.delete(camera);
    };
  }

  /** Every zone and mask configured on the camera, by all the motion nodes reading it. */
  regionsOf(camera: string): CheckedRegions {
    const all = [...(this.regions.get(camera) ?? [])];
    return { zones: all.flatMap((r) => r.zones), masks: all.flatMap((r) => r.masks) };
  }
}
