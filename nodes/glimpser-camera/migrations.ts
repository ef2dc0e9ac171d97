import type { CameraConfig } from './schema';

/** Settings added in version 2, with the values that keep a version 1 camera behaving as before. */
const V2_ADDITIONS = {
  hwaccel: 'none',
  every: 60,
  fullPage: false,
  element: '',
  remove: '',
  waitFor: '',
  networkIdle: false,
  pageTimeout: 30,
  darkMode: false,
  stealth: false,
  clearCookies: true,
  allowHosts: '',
  maxFrameKB: 2048,
  overlayName: false,
  overlayTimestamp: false,
  timeZone: '',
  rotate: 0,
  crop: [0, 0, 1, 1],
  rejectBlank: false,
} as const;

const V1_DEFAULTS = { name: '', cameraId: '', source: 'demo', url: '', path: '', loop: true, width: 640, height: 360, fps: 5, quality: 5, offlineAfter: 10 };

const NUMERIC = new Set(['version', 'width', 'height', 'fps', 'quality', 'offlineAfter', 'every', 'pageTimeout', 'maxFrameKB', 'rotate']);

/** The keys Node-RED adds to every node definition; they are not camera settings. */
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', '_users', 'credentials', 'x', 'y', 'wires', 'info']);

/**
 * Brings a stored node definition up to the current version (2), so flows saved by older releases keep loading.
 * - v1 → v2: new camera kinds (ytdlp, website, image, edge) and their settings, hardware decoding, post-processing.
 * Numbers typed into the editor arrive as text and are read as numbers; a crop typed as "l,t,w,h" as four numbers.
 */
export function migrateCameraConfig(def: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...V1_DEFAULTS, version: 1 };
  for (const [key, value] of Object.entries(def)) {
    if (NODE_RED_KEYS.has(key) || value === undefined) continue;
    if (NUMERIC.has(key) && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) out[key] = Number(value);
    else if (key === 'crop' && typeof value === 'string') out[key] = value.split(',').map((v) => Number(v.trim()));
    else out[key] = value;
  }
  // v1 → v2 added settings only; a missing setting (a v1 flow, or a hand-written or imported v2 one) gets its default.
  for (const [key, value] of Object.entries(V2_ADDITIONS)) out[key] ??= Array.isArray(value) ? [...value] : value;
  if (out.version === 1) out.version = 2;
  return out as Partial<CameraConfig>;
}
