import { Type, type Static } from '@sinclair/typebox';
import { checkRegions, type CheckedRegions, type Polygon } from '../../core/motion/regions';
import { nodeConfig, readNodeConfig, Settings } from '../shared/config';
import { MOTION_HISTORY } from './migrations';

/** motion node configuration, version 1. */
export const MotionConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Settings.name(),
    mode: Type.Union([Type.Literal('video'), Type.Literal('scene')]),
    threshold: Type.Number({ minimum: 1, maximum: 255 }),
    minArea: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    minDuration: Type.Number({ minimum: 0, maximum: 600 }),
    quiet: Type.Number({ minimum: 0.1, maximum: 3600 }),
    sceneThreshold: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    /** JSON: a list of polygons, each a list of [x, y] fractions of the picture. */
    masks: Type.String({ maxLength: 65536 }),
    /** JSON: named polygons, {"door": [[x, y], …]}. */
    zones: Type.String({ maxLength: 65536 }),
    tamper: Type.Boolean(),
    publish: Type.Boolean(),
    camera: Type.String({ maxLength: 64 }),
    /** Where frames come from: wired frame messages, or the selected camera's own decode (grey planes). */
    input: Type.Union([Type.Literal('messages'), Type.Literal('camera')]),
  },
  { additionalProperties: false },
);

export type MotionConfig = Static<typeof MotionConfigSchema>;

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text || 'null');
  } catch (err) {
    throw new Error(`motion setting "${field}" is not valid JSON: ${(err as Error).message}`);
  }
}

/** The masks and zones typed into the editor as JSON, checked polygon by polygon; errors name the setting. */
export function motionRegions(config: Pick<MotionConfig, 'masks' | 'zones'>): CheckedRegions {
  const masks = parseJson(config.masks, 'masks') ?? [];
  const zones = parseJson(config.zones, 'zones') ?? {};
  if (!Array.isArray(masks)) throw new Error('motion setting "masks" must be a JSON array of polygons like [[[0,0],[0.2,0],[0.2,0.2]]]');
  if (typeof zones !== 'object' || Array.isArray(zones))
    throw new Error('motion setting "zones" must be a JSON object of named polygons like {"door":[[0.1,0.1],[0.4,0.1],[0.4,0.9]]}');
  return checkRegions({ masks: masks as Polygon[], zones: Object.entries(zones as Record<string, Polygon>).map(([name, points]) => ({ name, points })) });
}

export const motionConfig = nodeConfig('motion', MotionConfigSchema, MOTION_HISTORY, {
  check: (config) => {
    motionRegions(config);
  },
});

/** Migrates a stored motion node definition to the current version and validates it; the error names the setting. */
export function motionConfigFrom(def: Record<string, unknown>): MotionConfig {
  return readNodeConfig(motionConfig, def);
}
