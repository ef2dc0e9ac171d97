import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';
import { checkCronExpression } from '../../core/capture/sampler';
import { checkTimeZone } from '../../core/describe/prompt';
import { CAMERA_ID_PATTERN } from '../../core/frames/frame';

/** ai-summary node configuration, version 1. */
export const AiSummaryConfigSchema = Type.Object(
  {
    version: Type.Literal(1),
    name: Type.String({ maxLength: 128 }),
    ai: Type.String({ maxLength: 64 }),
    /** Empty: only `msg.topic === 'summarize'` closes a window. */
    schedule: Type.String({ maxLength: 128 }),
    timeZone: Type.String({ maxLength: 64 }),
    /** The camera id the summary events are stored under. */
    source: Type.String({ pattern: CAMERA_ID_PATTERN.source }),
    maxItems: Type.Integer({ minimum: 1, maximum: 5000 }),
    previous: Type.Integer({ minimum: 0, maximum: 10 }),
    fromJournal: Type.Boolean(),
    notes: Type.String({ maxLength: 2000 }),
  },
  { additionalProperties: false },
);

export type AiSummaryConfig = Static<typeof AiSummaryConfigSchema>;

export const AI_SUMMARY_DEFAULTS: AiSummaryConfig = { version: 1, name: '', ai: '', schedule: '0 * * * *', timeZone: '', source: 'glimpser', maxItems: 200, previous: 3, fromJournal: true, notes: '' };
const NUMERIC = new Set(['version', 'maxItems', 'previous']);
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'wires', 'info', '_users']);
const check = new Ajv({ strict: false }).compile<AiSummaryConfig>(AiSummaryConfigSchema);

const HINTS: Record<string, string> = {
  source: ' (expected a camera id such as "glimpser": 1-64 characters of a-z, 0-9, "_" or "-")',
};

/** Reads and validates a stored ai-summary definition (missing settings get their defaults); errors name the setting. */
export function aiSummaryConfigFrom(def: Record<string, unknown>): AiSummaryConfig {
  const out: Record<string, unknown> = { ...AI_SUMMARY_DEFAULTS };
  for (const [key, value] of Object.entries(def)) {
    if (NODE_RED_KEYS.has(key) || value === undefined) continue;
    out[key] = NUMERIC.has(key) && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  if (typeof out.schedule === 'string') out.schedule = out.schedule.trim();
  if (!check(out)) {
    const error = check.errors?.[0];
    const field = error?.instancePath.replace(/^\//, '') || String(error?.params.additionalProperty ?? 'config');
    throw new Error(`ai-summary setting "${field}" ${error?.message ?? 'is invalid'}${HINTS[field] ?? ''}`);
  }
  checkTimeZone(out.timeZone);
  if (out.schedule !== '') checkCronExpression(out.schedule, out.timeZone || undefined);
  return out;
}
