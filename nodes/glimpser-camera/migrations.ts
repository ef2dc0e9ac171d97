import type { Migration, NodeHistory } from '../shared/config';

/** What a version 1 flow left out gets these (the settings of the first release). */
export const CAMERA_V1 = {
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

/** Settings added in version 2, with the values that keep a version 1 camera behaving as before. */
export const CAMERA_V2_ADDITIONS = {
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

/** Each step takes the settings of one version to the next, so flows saved by older releases keep loading. */
const CAMERA_MIGRATIONS: readonly Migration[] = [
  // Only settings were added; the kit gives each missing one its current default (CAMERA_V2_ADDITIONS).
  { to: 2, change: 'new camera kinds (ytdlp, website, image, edge) and their settings, hardware decoding, post-processing', up: (config) => config },
];

/** A crop typed as "l,t,w,h" is read as four numbers. */
export function coerceCameraSetting(key: string, value: unknown): unknown {
  return key === 'crop' && typeof value === 'string' ? value.split(',').map((part) => Number(part.trim())) : value;
}

/** This node's settings over its versions (nodes/shared/config.ts reads stored definitions with it). */
export const CAMERA_HISTORY: NodeHistory = { v1: CAMERA_V1, migrations: CAMERA_MIGRATIONS, added: CAMERA_V2_ADDITIONS };
