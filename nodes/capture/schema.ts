import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';

/** capture node configuration, version 1. */
export const CaptureConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    camera: Type.String({ minLength: 1 }),
    mode: Type.Union([Type.Literal('continuous'), Type.Literal('interval'), Type.Literal('on-demand')]),
    fps: Type.Number({ exclusiveMinimum: 0, maximum: 60 }),
    interval: Type.Number({ minimum: 0.1, maximum: 86400 }),
    timeout: Type.Number({ minimum: 0.5, maximum: 300 }),
    publish: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type CaptureConfig = Static<typeof CaptureConfigSchema>;

const check = new Ajv({ strict: false }).compile<CaptureConfig>(CaptureConfigSchema);

const DEFAULTS: CaptureConfig = { version: 1, name: '', camera: '', mode: 'interval', fps: 1, interval: 5, timeout: 10, publish: true };
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'wires', 'info', '_users']);

/** Brings a stored capture node definition to version 1 and validates it; the error names the setting. */
export function captureConfigFrom(def: Record<string, unknown>): CaptureConfig {
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [key, value] of Object.entries(def)) {
    if (NODE_RED_KEYS.has(key) || value === undefined) continue;
    const fallback = DEFAULTS[key as keyof CaptureConfig];
    out[key] = typeof fallback === 'number' && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  out.version = 1;
  if (check(out)) return out;
  const error = check.errors?.[0];
  const field = error?.instancePath.replace(/^\//, '') || String(error?.params.additionalProperty ?? 'config');
  throw new Error(`capture setting "${field}" ${error?.message ?? 'is invalid'}`);
}
