import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';
import { checkRegions, type Polygon, type ZoneConfig } from '../../core/motion/regions';

/** motion node configuration, version 1. */
export const MotionConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    mode: Type.Union([Type.Literal('video'), Type.Literal('scene')]),
    threshold: Type.Number({ minimum: 1, maximum: 255 }),
    minArea: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    minDuration: Type.Number({ minimum: 0, maximum: 600 }),
    quiet: Type.Number({ minimum: 0.1, maximum: 3600 }),
    sceneThreshold: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
    masks: Type.String({ maxLength: 65536 }),
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

export interface MotionSettings extends MotionConfig {
  maskPolygons: Polygon[];
  zoneList: ZoneConfig[];
}

const DEFAULTS: MotionConfig = { version: 1, name: '', mode: 'video', threshold: 25, minArea: 0.3, minDuration: 0.3, quiet: 3, sceneThreshold: 0.05, masks: '[]', zones: '{}', tamper: true, publish: true, camera: '', input: 'messages' };
const NUMERIC = new Set(['version', 'threshold', 'minArea', 'minDuration', 'quiet', 'sceneThreshold']);
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'wires', 'info', '_users']);
const check = new Ajv({ strict: false }).compile<MotionConfig>(MotionConfigSchema);

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text || 'null');
  } catch (err) {
    throw new Error(`motion setting "${field}" is not valid JSON: ${(err as Error).message}`);
  }
}

/** Reads and validates a stored motion node definition (every missing setting gets its default); errors name the setting. */
export function motionConfigFrom(def: Record<string, unknown>): MotionSettings {
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [key, value] of Object.entries(def)) {
    if (NODE_RED_KEYS.has(key) || value === undefined) continue;
    out[key] = NUMERIC.has(key) && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  if (!check(out)) {
    const error = check.errors?.[0];
    const field = error?.instancePath.replace(/^\//, '') || String(error?.params.additionalProperty ?? 'config');
    throw new Error(`motion setting "${field}" ${error?.message ?? 'is invalid'}`);
  }
  const masks = parseJson(out.masks, 'masks') ?? [];
  const zones = parseJson(out.zones, 'zones') ?? {};
  if (!Array.isArray(masks)) throw new Error('motion setting "masks" must be a JSON array of polygons like [[[0,0],[0.2,0],[0.2,0.2]]]');
  if (typeof zones !== 'object' || Array.isArray(zones)) throw new Error('motion setting "zones" must be a JSON object of named polygons like {"door":[[0.1,0.1],[0.4,0.1],[0.4,0.9]]}');
  const regions = checkRegions({ masks: masks as Polygon[], zones: Object.entries(zones as Record<string, Polygon>).map(([name, points]) => ({ name, points })) });
  return { ...out, maskPolygons: regions.masks, zoneList: regions.zones };
}
