import type { CameraConfig } from './schema';

const DEFAULTS: CameraConfig = {
  version: 1,
  name: '',
  cameraId: '',
  source: 'demo',
  url: '',
  path: '',
  loop: true,
  width: 640,
  height: 360,
  fps: 5,
  quality: 5,
  offlineAfter: 10,
};

/** The keys Node-RED adds to every node definition; they are not camera settings. */
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', '_users', 'credentials', 'x', 'y', 'wires', 'info']);

/**
 * Brings a stored node definition up to the current version. Version 1 is the first; a flow saved before a setting
 * existed gets its default, and values typed into the editor as text are read as numbers.
 */
export function migrateCameraConfig(def: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [key, value] of Object.entries(def)) {
    if (NODE_RED_KEYS.has(key) || value === undefined) continue;
    const fallback = DEFAULTS[key as keyof CameraConfig];
    out[key] = typeof fallback === 'number' && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  out.version = 1;
  return out;
}
