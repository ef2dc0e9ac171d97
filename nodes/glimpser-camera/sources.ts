import { EdgeSource } from '../../core/capture/edge-source';
import { FfmpegSource } from '../../core/capture/ffmpeg-source';
import { ImageSource } from '../../core/capture/image-source';
import { validateInput, type CaptureInput } from '../../core/capture/input';
import type { FrameSource } from '../../core/capture/source';
import { WebsiteSource } from '../../core/capture/website';
import { YtdlpSource } from '../../core/capture/ytdlp';
import { FramePostProcessor, type PostProcessOptions } from '../../core/frames/postprocess';
import type { GlimpserHandles } from '../shared/handles';
import type { CameraConfig } from './schema';

export interface CameraCredentials {
  username?: string;
  password?: string;
}

/** ffmpeg's JPEG scale (2 best … 31 worst), which the camera setting uses, as the 1–100 quality sharp and Chromium use. */
export function percentQuality(qscale: number): number {
  return Math.max(10, Math.min(100, Math.round(100 - (qscale - 2) * 3)));
}

/** Puts the credentials from the node's credentials block into the URL ffmpeg opens; they never sit in the flow. */
function withCredentials(url: string, credentials: CameraCredentials): string {
  if (!credentials.username) return url;
  const parsed = new URL(url);
  parsed.username = credentials.username;
  parsed.password = credentials.password ?? '';
  return parsed.toString();
}

function list(text: string, separator: RegExp): string[] {
  return text
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function needUrl(config: CameraConfig, what: string): string {
  if (!config.url) throw new Error(`camera setting "url" is empty: give ${what}`);
  return config.url;
}

export interface BuiltSource {
  source: FrameSource;
  /** Frames already on the bus (edge devices publish them): capture nodes must not publish them again. */
  publishesOwnFrames: boolean;
  /** Undoes what the source took outside itself (edge device credentials, a browser pool lease). */
  release: () => void | Promise<void>;
}

/** Builds the frame source for a camera kind. Throws an Error naming the setting when the config cannot work. */
export function buildSource(config: CameraConfig, credentials: CameraCredentials, handles: GlimpserHandles): BuiltSource {
  const common = { camera: config.cameraId, offlineAfterMs: config.offlineAfter * 1000, logger: handles.logger };
  const ffmpegOutput = { fps: config.fps, jpegQuality: config.quality, ...(config.source === 'demo' ? {} : { width: config.width, height: config.height }) };
  const allowHosts = list(config.allowHosts, /[\s,]+/);
  const none = () => undefined;
  switch (config.source) {
    case 'demo':
    case 'url':
    case 'file': {
      const input: CaptureInput =
        config.source === 'demo'
          ? { kind: 'demo', width: config.width, height: config.height, fps: config.fps }
          : config.source === 'url'
            ? { kind: 'url', url: withCredentials(needUrl(config, 'an rtsp://, rtsps://, http:// or https:// address'), credentials) }
            : { kind: 'file', path: config.path, loop: config.loop };
      const checked = validateInput(input, { mediaDir: handles.mediaDir });
      return {
        source: new FfmpegSource({ ...common, input: checked, output: ffmpegOutput, ffmpegPath: handles.ffmpegPath, hwaccel: config.hwaccel }),
        publishesOwnFrames: false,
        release: none,
      };
    }
    case 'ytdlp':
      return {
        source: new YtdlpSource({
          ...common,
          pageUrl: needUrl(config, 'the page of the video or live stream (http:// or https://)'),
          output: ffmpegOutput,
          ffmpegPath: handles.ffmpegPath,
          hwaccel: config.hwaccel,
          urlPolicy: { allowHosts },
        }),
        publishesOwnFrames: false,
        release: none,
      };
    case 'website': {
      const url = needUrl(config, 'the page to capture (http:// or https://)');
      return {
        source: new WebsiteSource({
          ...common,
          pool: handles.browsers.acquire(),
          url,
          allowHosts,
          viewport: { width: config.width, height: config.height },
          fullPage: config.fullPage,
          element: config.element || undefined,
          remove: list(config.remove, /\n+/),
          waitFor: config.waitFor || undefined,
          networkIdle: config.networkIdle,
          basicAuth: credentials.username ? { username: credentials.username, password: credentials.password ?? '' } : undefined,
          clearCookies: config.clearCookies,
          darkMode: config.darkMode,
          stealth: config.stealth,
          pageTimeoutMs: config.pageTimeout * 1000,
          quality: percentQuality(config.quality),
          everyMs: config.every * 1000,
        }),
        publishesOwnFrames: false,
        release: () => handles.browsers.release(),
      };
    }
    case 'image':
      return {
        source: new ImageSource({
          ...common,
          url: needUrl(config, 'the snapshot address (http:// or https://)'),
          credentials: credentials.username ? { username: credentials.username, password: credentials.password ?? '' } : undefined,
          everyMs: config.every * 1000,
          jpegQuality: percentQuality(config.quality),
          urlPolicy: { allowHosts },
        }),
        publishesOwnFrames: false,
        release: none,
      };
    case 'edge': {
      if (!handles.bus || !handles.devices) throw new Error("edge cameras need the Glimpser runtime's MQTT broker");
      if (!credentials.username || !credentials.password)
        throw new Error('edge cameras need a username and password for the device (camera settings → credentials)');
      const release = handles.devices.register({ cameraId: config.cameraId, username: credentials.username, password: credentials.password });
      return { source: new EdgeSource({ ...common, bus: handles.bus, maxFrameBytes: config.maxFrameKB * 1024 }), publishesOwnFrames: true, release };
    }
  }
}

/** Post-processing for the camera, or undefined when every option is off (frames then pass untouched). */
export function buildPostProcessor(config: CameraConfig): FramePostProcessor | undefined {
  const [left, top, width, height] = config.crop;
  const cropped = left !== 0 || top !== 0 || width !== 1 || height !== 1;
  // ffmpeg and browser cameras already deliver frames at the configured size; image and edge cameras do not.
  const resize = config.source === 'image' || config.source === 'edge';
  const options: PostProcessOptions = {
    quality: percentQuality(config.quality),
    ...(config.overlayName || config.overlayTimestamp
      ? {
          overlay: {
            text: config.overlayName ? config.name || config.cameraId : undefined,
            timestamp: config.overlayTimestamp,
            timeZone: config.timeZone || undefined,
            position: 'top-left',
          },
        }
      : {}),
    ...(config.rotate !== 0 ? { rotate: config.rotate } : {}),
    ...(cropped ? { crop: { left, top, width, height } } : {}),
    ...(resize ? { resize: { width: config.width, height: config.height, fit: 'inside', withoutEnlargement: true } } : {}),
    ...(config.rejectBlank ? { rejectBlank: { enabled: true } } : {}),
  };
  const active = options.overlay || options.rotate || options.crop || options.resize || options.rejectBlank;
  return active ? new FramePostProcessor(options) : undefined;
}
