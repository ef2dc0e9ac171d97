import { Camera } from '../../core/capture/camera';
import { FfmpegSource } from '../../core/capture/ffmpeg-source';
import { validateInput, type CaptureInput } from '../../core/capture/input';
import type { GlimpserHandles } from '../shared/handles';
import { migrateCameraConfig } from './migrations';
import { validateCameraConfig, type CameraConfig } from './schema';

export interface CameraCredentials {
  username?: string;
  password?: string;
}

/** Puts the credentials from the node's credentials block into the URL ffmpeg opens; they never sit in the flow. */
function withCredentials(url: string, credentials: CameraCredentials): string {
  if (!credentials.username) return url;
  const parsed = new URL(url);
  parsed.username = credentials.username;
  parsed.password = credentials.password ?? '';
  return parsed.toString();
}

function inputOf(config: CameraConfig, credentials: CameraCredentials): CaptureInput {
  switch (config.source) {
    case 'demo':
      return { kind: 'demo', width: config.width, height: config.height, fps: config.fps };
    case 'url':
      if (!config.url) throw new Error('camera setting "url" is empty: give an rtsp://, rtsps://, http:// or https:// address');
      return { kind: 'url', url: withCredentials(config.url, credentials) };
    case 'file':
      return { kind: 'file', path: config.path, loop: config.loop };
  }
}

/** The behaviour of a glimpser-camera config node: a validated Camera registered for the API, or a config error. */
export class CameraController {
  readonly camera: Camera | null;
  readonly configError: string | null;
  private readonly unregister: () => void = () => undefined;

  constructor(def: Record<string, unknown>, credentials: CameraCredentials, handles: GlimpserHandles) {
    let camera: Camera | null = null;
    let configError: string | null = null;
    try {
      const config = validateCameraConfig(migrateCameraConfig(def));
      const input = validateInput(inputOf(config, credentials), { mediaDir: handles.mediaDir });
      const log = handles.logger;
      const source = new FfmpegSource({
        camera: config.cameraId,
        input,
        output: { fps: config.fps, jpegQuality: config.quality, ...(config.source === 'demo' ? {} : { width: config.width, height: config.height }) },
        ffmpegPath: handles.ffmpegPath,
        offlineAfterMs: config.offlineAfter * 1000,
        logger: log,
      });
      camera = new Camera(config.cameraId, config.name || config.cameraId, source, handles.bus, log);
      this.unregister = handles.cameras.register(camera);
    } catch (err) {
      configError = (err as Error).message;
      camera = null;
    }
    this.camera = camera;
    this.configError = configError;
  }

  async close(): Promise<void> {
    this.unregister();
    await this.camera?.close();
  }
}
