import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';

/** glimpser-camera node configuration, version 1. The editor's validators mirror these limits. */
export const CameraConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    cameraId: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' }),
    source: Type.Union([Type.Literal('demo'), Type.Literal('url'), Type.Literal('file')]),
    url: Type.String({ maxLength: 4096 }),
    path: Type.String({ maxLength: 4096 }),
    loop: Type.Boolean(),
    width: Type.Integer({ minimum: 16, maximum: 7680 }),
    height: Type.Integer({ minimum: 16, maximum: 4320 }),
    fps: Type.Number({ exclusiveMinimum: 0, maximum: 60 }),
    quality: Type.Integer({ minimum: 2, maximum: 31 }),
    offlineAfter: Type.Number({ minimum: 2, maximum: 3600 }),
  },
  { additionalProperties: false },
);

export type CameraConfig = Static<typeof CameraConfigSchema>;

const check = new Ajv({ allErrors: false, strict: false }).compile<CameraConfig>(CameraConfigSchema);

export function validateCameraConfig(config: unknown): CameraConfig {
  if (check(config)) return config;
  const error = check.errors?.[0];
  const field = error?.instancePath.replace(/^\//, '') || String(error?.params.additionalProperty ?? error?.params.missingProperty ?? 'config');
  throw new Error(`camera setting "${field}" ${error?.message ?? 'is invalid'}`);
}
