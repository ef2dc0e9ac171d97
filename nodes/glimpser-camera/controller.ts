import { Camera } from '../../core/capture/camera';
import type { GlimpserHandles } from '../shared/handles';
import { migrateCameraConfig } from './migrations';
import { validateCameraConfig } from './schema';
import { buildPostProcessor, buildSource, type CameraCredentials } from './sources';

export type { CameraCredentials } from './sources';

/** The behaviour of a glimpser-camera config node: a validated Camera registered for the API, or a config error. */
export class CameraController {
  readonly camera: Camera | null;
  readonly configError: string | null;
  private readonly release: () => void | Promise<void> = () => undefined;

  constructor(def: Record<string, unknown>, credentials: CameraCredentials, handles: GlimpserHandles) {
    let camera: Camera | null = null;
    let configError: string | null = null;
    try {
      const config = validateCameraConfig(migrateCameraConfig(def));
      const postProcessor = buildPostProcessor(config);
      const built = buildSource(config, credentials, handles);
      camera = new Camera(config.cameraId, config.name || config.cameraId, built.source, handles.bus, handles.logger, built.publishesOwnFrames, postProcessor);
      try {
        const unregister = handles.cameras.register(camera);
        this.release = () => {
          unregister();
          return built.release();
        };
      } catch (err) {
        void built.release();
        throw err;
      }
    } catch (err) {
      configError = (err as Error).message;
      camera = null;
    }
    this.camera = camera;
    this.configError = configError;
  }

  async close(): Promise<void> {
    await this.camera?.close();
    await this.release();
  }
}
