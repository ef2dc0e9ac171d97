import { Camera } from '../../core/capture/camera';
import type { GlimpserHandles } from '../shared/handles';
import type { NodeBehaviour } from '../shared/node-kit';
import type { CameraConfig } from './schema';
import { buildPostProcessor, buildSource, type CameraCredentials } from './sources';

export type { CameraCredentials } from './sources';

/** The behaviour of a glimpser-camera config node: one validated Camera, registered for the API and its users. */
export class CameraController implements NodeBehaviour {
  readonly camera: Camera;
  private readonly release: () => void | Promise<void>;

  constructor(config: CameraConfig, credentials: CameraCredentials, handles: GlimpserHandles) {
    const postProcessor = buildPostProcessor(config);
    const built = buildSource(config, credentials, handles);
    this.camera = new Camera(
      config.cameraId,
      config.name || config.cameraId,
      built.source,
      handles.bus,
      handles.logger,
      built.publishesOwnFrames,
      postProcessor,
    );
    try {
      const unregister = handles.cameras.register(this.camera);
      this.release = () => {
        unregister();
        return built.release();
      };
    } catch (err) {
      void built.release();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.camera.close();
    await this.release();
  }
}
