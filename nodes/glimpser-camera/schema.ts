import { Type, type Static } from '@sinclair/typebox';
import { ID_PATTERN_SOURCE } from '../../core/ids';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { CAMERA_HISTORY, coerceCameraSetting } from './migrations';

/** The kinds of camera, in the words the editor shows. */
export const CAMERA_SOURCES = ['demo', 'url', 'file', 'ytdlp', 'website', 'image', 'edge'] as const;
export type CameraSource = (typeof CAMERA_SOURCES)[number];

/** glimpser-camera node configuration, version 2. The editor's validators mirror these limits. */
export const CameraConfigSchema = Type.Object(
  {
    version: Type.Literal(2),
    name: Settings.name(),
    cameraId: Type.String({ pattern: ID_PATTERN_SOURCE }),
    source: Type.Union(CAMERA_SOURCES.map((s) => Type.Literal(s))),
    url: Type.String({ maxLength: 4096 }),
    path: Type.String({ maxLength: 4096 }),
    loop: Type.Boolean(),
    width: Type.Integer({ minimum: 16, maximum: 7680 }),
    height: Type.Integer({ minimum: 16, maximum: 4320 }),
    fps: Type.Number({ exclusiveMinimum: 0, maximum: 60 }),
    quality: Type.Integer({ minimum: 2, maximum: 31 }),
    offlineAfter: Type.Number({ minimum: 2, maximum: 3600 }),
    hwaccel: Type.Union([Type.Literal('none'), Type.Literal('auto'), Type.Literal('vaapi'), Type.Literal('qsv'), Type.Literal('cuda')]),
    every: Type.Number({ minimum: 0.5, maximum: 86400 }),
    fullPage: Type.Boolean(),
    element: Type.String({ maxLength: 1024 }),
    remove: Type.String({ maxLength: 8192 }),
    waitFor: Type.String({ maxLength: 1024 }),
    networkIdle: Type.Boolean(),
    pageTimeout: Type.Number({ minimum: 1, maximum: 300 }),
    darkMode: Type.Boolean(),
    stealth: Type.Boolean(),
    clearCookies: Type.Boolean(),
    allowHosts: Type.String({ maxLength: 2048 }),
    maxFrameKB: Type.Integer({ minimum: 16, maximum: 65536 }),
    overlayName: Type.Boolean(),
    overlayTimestamp: Type.Boolean(),
    timeZone: Type.String({ maxLength: 64 }),
    rotate: Type.Union([Type.Literal(0), Type.Literal(90), Type.Literal(180), Type.Literal(270)]),
    crop: Type.Tuple([
      Type.Number({ minimum: 0, maximum: 1 }),
      Type.Number({ minimum: 0, maximum: 1 }),
      Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
      Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    ]),
    rejectBlank: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type CameraConfig = Static<typeof CameraConfigSchema>;

export const cameraConfig = nodeConfig('glimpser-camera', CameraConfigSchema, CAMERA_HISTORY, {
  settingsName: 'camera',
  coerce: coerceCameraSetting,
});

/** Migrates a stored glimpser-camera definition to the current version and validates it; errors name the setting. */
export function cameraConfigFrom(def: Record<string, unknown>): CameraConfig {
  return readNodeConfig(cameraConfig, def);
}
