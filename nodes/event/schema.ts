import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';

/** event node configuration, version 1. */
export const EventNodeConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    eventType: Type.String({ pattern: '^[a-z_]{1,32}$' }),
    snapshot: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type EventNodeConfig = Static<typeof EventNodeConfigSchema>;

const DEFAULTS: EventNodeConfig = { version: 1, name: '', eventType: 'motion', snapshot: true };
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'wires', 'info', '_users']);
const check = new Ajv({ strict: false }).compile<EventNodeConfig>(EventNodeConfigSchema);

export function eventNodeConfigFrom(def: Record<string, unknown>): EventNodeConfig {
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [key, value] of Object.entries(def)) if (!NODE_RED_KEYS.has(key) && value !== undefined) out[key] = key === 'version' ? Number(value) : value;
  if (check(out)) return out;
  const error = check.errors?.[0];
  const field = error?.instancePath.replace(/^\//, '') || String(error?.params.additionalProperty ?? 'config');
  throw new Error(`event setting "${field}" ${error?.message ?? 'is invalid'}`);
}
