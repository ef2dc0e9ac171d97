import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import Ajv, { type ErrorObject } from 'ajv';

/**
 * Keys Node-RED adds to a node definition that are not the node's settings: position and wiring, group, info,
 * users of a config node, the credentials block, and `outputs` on nodes whose output count the editor may change.
 */
export const NODE_RED_KEYS: ReadonlySet<string> = new Set([
  'id',
  'type',
  'z',
  'g',
  'x',
  'y',
  'w',
  'h',
  'l',
  'd',
  'wires',
  'info',
  '_users',
  'credentials',
  'outputs',
]);

/** Settings many nodes share, written once: a node's name, a config node it points at, an IANA time zone, free notes. */
export const Settings = {
  name: () => Type.String({ maxLength: 128 }),
  /** Empty when none is picked. */
  configNode: () => Type.String({ maxLength: 64 }),
  /** Empty: the machine's zone. */
  timeZone: () => Type.String({ maxLength: 64 }),
  notes: () => Type.String({ maxLength: 2000 }),
};

/** One step of a node's settings from one version to the next; `up` receives the settings of version `to - 1`. */
export interface Migration {
  to: number;
  /** What changed, in a user's words (for the changelog and the test names). */
  change: string;
  up(config: Record<string, unknown>): Record<string, unknown>;
}

/**
 * Everything the kit needs to read one node type's stored definition: the current schema (its `version` a literal),
 * the settings of version 1 (what a v1 flow left out gets these), the migrations in order, and per-setting hints.
 */
export interface NodeConfigSpec<S extends TObject> {
  type: string;
  /** How errors name these settings when not by the node type: `camera setting "fps" must be <= 60`. */
  settingsName?: string;
  schema: S;
  v1: Record<string, unknown>;
  migrations: readonly Migration[];
  /** The current version's defaults: a hand-written or imported definition missing a setting gets it. */
  defaults: Static<S>;
  hints?: Readonly<Record<string, string>>;
  /** Checks what the schema cannot express (a cron expression, JSON inside a text setting); throws naming it. */
  check?(config: Static<S>): void;
  /** Reads settings typed as text into their stored shape (e.g. a crop "l,t,w,h" into four numbers). */
  coerce?(key: string, value: unknown): unknown;
}

/** A node's settings over its versions: those of version 1, each migration, and settings added since, with defaults. */
export interface NodeHistory {
  v1: Record<string, unknown>;
  migrations: readonly Migration[];
  added?: Record<string, unknown>;
}

/** A node's config spec: its current defaults are its v1 settings plus those added since, at the schema's version. */
export function nodeConfig<S extends TObject>(
  type: string,
  schema: S,
  history: NodeHistory,
  options: Pick<NodeConfigSpec<S>, 'settingsName' | 'hints' | 'check' | 'coerce'> = {},
): NodeConfigSpec<S> {
  const defaults = { ...history.v1, ...history.added, version: currentVersion(schema) } as Static<S>;
  return { type, schema, v1: history.v1, migrations: history.migrations, defaults, ...options };
}

export class NodeConfigError extends Error {}

const ajv = new Ajv({ strict: false, allErrors: false });
const compiled = new WeakMap<TSchema, ReturnType<typeof ajv.compile>>();

function validatorFor(schema: TSchema): ReturnType<typeof ajv.compile> {
  let check = compiled.get(schema);
  if (!check) {
    check = ajv.compile(schema);
    compiled.set(schema, check);
  }
  return check;
}

/** The current version: the literal of the schema's `version` property. */
export function currentVersion(schema: TObject): number {
  const version = (schema.properties.version as { const?: unknown } | undefined)?.const;
  if (typeof version !== 'number') throw new Error('a node config schema needs `version: Type.Literal(n)`');
  return version;
}

/** Whether a setting holds numbers: numbers typed into the editor arrive as text and are read as numbers. */
function isNumeric(schema: TSchema | undefined): boolean {
  if (!schema) return false;
  if (schema.type === 'number' || schema.type === 'integer') return true;
  if (typeof schema.const === 'number') return true;
  const options = (schema.anyOf ?? schema.oneOf) as TSchema[] | undefined;
  return Array.isArray(options) && options.length > 0 && options.every((option) => isNumeric(option));
}

function numberFrom(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
}

/** The first ajv error as the setting's name and what was expected. */
export function describeConfigError(type: string, error: ErrorObject | undefined, hints: Readonly<Record<string, string>> = {}): string {
  if (!error) return `${type} settings are invalid`;
  const params = error.params as { additionalProperty?: string; missingProperty?: string };
  if (params.additionalProperty) return `${type} setting "${params.additionalProperty}" ${error.message ?? 'is unknown'}`;
  const path = error.instancePath.replace(/^\//, '').replace(/\/\d+$/, '');
  const field = params.missingProperty ? [path, params.missingProperty].filter(Boolean).join('/') : path || 'settings';
  const message = params.missingProperty ? 'is missing' : (error.message ?? 'is invalid');
  return `${type} setting "${field}" ${message}${hints[field] ?? ''}`;
}

/** Validates settings against a schema; the error names the setting and what was expected. */
export function checkConfig<S extends TObject>(type: string, schema: S, config: unknown, hints?: Readonly<Record<string, string>>): Static<S> {
  const check = validatorFor(schema);
  if (check(config)) return config as Static<S>;
  throw new NodeConfigError(describeConfigError(type, check.errors?.[0], hints));
}

/**
 * Reads a stored node definition into its current, validated settings: strips Node-RED's own keys, reads numbers
 * typed as text, treats a definition without `version` as version 1 (filling what v1 left out), runs each migration
 * past its version, gives a setting still missing its current default, and refuses unknown keys.
 */
export function readNodeConfig<S extends TObject>(spec: NodeConfigSpec<S>, def: Record<string, unknown>): Static<S> {
  let config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(def)) {
    if (NODE_RED_KEYS.has(key) || value === undefined) continue;
    const typed = spec.coerce ? spec.coerce(key, value) : value;
    config[key] = key === 'version' || isNumeric(spec.schema.properties[key] as TSchema | undefined) ? numberFrom(typed) : typed;
  }
  config.version ??= 1;
  // Only a version 1 definition is read against the v1 settings; later versions are filled from current defaults.
  if (config.version === 1) config = { ...spec.v1, ...config };
  const latest = currentVersion(spec.schema);
  if (typeof config.version !== 'number' || !Number.isInteger(config.version) || config.version < 1 || config.version > latest) {
    throw new NodeConfigError(
      `${spec.settingsName ?? spec.type} setting "version" is ${JSON.stringify(config.version)}: this Glimpser reads versions 1 to ${latest}`,
    );
  }
  for (const migration of spec.migrations) {
    if ((config.version as number) < migration.to) config = { ...migration.up(config), version: migration.to };
  }
  for (const [key, value] of Object.entries(spec.defaults as Record<string, unknown>))
    if (config[key] === undefined) config[key] = Array.isArray(value) ? [...value] : value;
  const checked = checkConfig(spec.settingsName ?? spec.type, spec.schema, config, spec.hints);
  spec.check?.(checked);
  return checked;
}
