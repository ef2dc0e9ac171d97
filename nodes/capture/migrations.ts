/** The keys Node-RED adds to every node definition; they are not capture settings. */
const NODE_RED_KEYS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'wires', 'info', '_users']);

const V1_DEFAULTS = { name: '', camera: '', mode: 'interval', fps: 1, interval: 5, timeout: 10, publish: true };

/**
 * Brings a stored capture definition up to the current version (2), so flows saved by older Glimpser releases keep
 * loading. Numbers typed into the editor arrive as text and are read as numbers.
 * - v1 → v2: adds the cron mode (`cron`, `timeZone`) and `archive` (off, as v1 never archived).
 */
export function migrateCaptureConfig(def: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...V1_DEFAULTS, version: 1 };
  for (const [key, value] of Object.entries(def)) {
    if (NODE_RED_KEYS.has(key) || value === undefined) continue;
    out[key] = typeof value === 'string' && ['fps', 'interval', 'timeout', 'version'].includes(key) && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  // v1 → v2 added settings only; a missing setting (a v1 flow, or a hand-written or imported v2 one) gets its default.
  out.cron ??= '';
  out.timeZone ??= '';
  out.archive ??= false;
  if (out.version === 1) out.version = 2;
  return out;
}
