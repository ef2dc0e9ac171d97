import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import Ajv from 'ajv';

/**
 * Glimpser's configuration: one TypeBox schema gives the TypeScript type, the ajv check, the environment variable
 * names (camelCase key → GLIMPSER_SNAKE_CASE) and docs/configuration.md. Unknown keys are refused.
 */
const Port = (description: string, fallback: number) => Type.Integer({ minimum: 0, maximum: 65535, default: fallback, description });

/** A list setting: a JSON array in the file, comma-separated in a variable. `expected` words one item for errors. */
const List = (item: string, pattern: string, description: string) =>
  Type.Array(Type.String({ pattern }), { default: [], maxItems: 64, uniqueItems: true, description, expected: `a comma-separated list of ${item}` });

export const ConfigSchema = Type.Object(
  {
    httpHost: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address the HTTP server (editor, API, metrics, MQTT over WebSocket) binds to.' }),
    httpPort: Port('HTTP port; 0 picks a free one.', 1880),
    mqttHost: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description: 'Address the embedded MQTT broker binds to; 0.0.0.0 lets edge cameras on the network connect.',
    }),
    mqttPort: Port('Embedded MQTT broker TCP port; 0 picks a free one.', 1883),
    dataDir: Type.String({ minLength: 1, default: './data', description: 'Where flows, users, secrets and captured media live.' }),
    mediaDir: Type.Optional(Type.String({ minLength: 1, description: 'The only directory file cameras may read from (default <dataDir>/media).' })),
    adminPassword: Type.Optional(
      Type.String({ minLength: 8, description: 'Password of the admin user created on first start; generated and printed once when unset.', secret: true }),
    ),
    credentialSecret: Type.Optional(
      Type.String({ minLength: 16, description: 'Key that encrypts flow credentials; generated once into <dataDir>/secrets.json when unset.', secret: true }),
    ),
    logLevel: Type.Union([Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug')], {
      default: 'info',
      description: 'Least severe log level written.',
    }),
    metricsAuth: Type.Boolean({ default: true, description: 'Whether GET /metrics requires a signed-in user (HTTP Basic or bearer token).' }),
    ffmpegPath: Type.String({ minLength: 1, default: 'ffmpeg', description: 'The ffmpeg binary cameras run.' }),
    archiveMaxFramesPerCamera: Type.Integer({
      minimum: 1,
      maximum: 10000000,
      default: 10000,
      description: 'Archived frames kept per camera (kept frames do not count); the oldest go first.',
    }),
    archiveMaxAgeDays: Type.Number({
      exclusiveMinimum: 0,
      maximum: 3650,
      default: 7,
      description: 'Archived frames older than this are deleted, unless kept.',
    }),
    archiveMaxMegabytes: Type.Number({
      exclusiveMinimum: 0,
      maximum: 10000000,
      default: 1024,
      description: 'Total size of the frame archive across cameras; the oldest unkept frames go first.',
    }),
    eventsMaxAgeDays: Type.Number({
      exclusiveMinimum: 0,
      maximum: 36500,
      default: 30,
      description: 'Events older than this are deleted from the journal, unless kept.',
    }),
    eventsMaxMegabytes: Type.Number({
      minimum: 8,
      maximum: 10000000,
      default: 1024,
      description: 'Size of the event journal on disk (database and snapshots); the oldest unkept events go first.',
    }),
    eventsSynchronous: Type.Union([Type.Literal('normal'), Type.Literal('full')], {
      default: 'normal',
      description:
        'SQLite durability of the event journal: normal survives process crashes (kill -9 included); full also survives power cuts, at 3–6× the cost per event.',
    }),
    streamMaxClientsPerCamera: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 8,
      description: 'Live-view (MJPEG) clients allowed per camera at once; more are answered 429.',
    }),
    tokenTtlSeconds: Type.Integer({ minimum: 60, maximum: 2592000, default: 86400, description: 'Lifetime of bearer tokens from POST /api/auth/login.' }),
    apiRequestsPerMinute: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      default: 3000,
      description:
        'Requests per minute to /api a signed-in client address may make (IPv6: per /56); past it 429 with Retry-After. RateLimit headers say what is left.',
    }),
    apiKeyRequestsPerMinute: Type.Integer({
      minimum: 1,
      maximum: 1000000,
      default: 1200,
      description: 'Requests per minute to /api one API key may make, wherever they come from; past it 429 with Retry-After.',
    }),
    trustProxy: List(
      'proxy addresses or subnets (10.0.0.1, 10.0.0.0/8, ::1) or loopback, linklocal, uniquelocal',
      '^(loopback|linklocal|uniquelocal|[0-9A-Fa-f:.]+(/[0-9]{1,3})?)$',
      'Reverse proxies in front of Glimpser (addresses, subnets or loopback) whose X-Forwarded-For and X-Forwarded-Proto are believed; sign-in limits then key on the client they name. Empty: those headers are ignored and the socket address is the client, so a spoofed X-Forwarded-For changes nothing.',
    ),
    corsOrigins: List(
      'origins like https://app.example.com (scheme, host and port only)',
      '^https?://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$',
      'Web origins allowed to call /api from a browser (CORS), e.g. https://app.example.com. Empty: no cross-origin calls; preflights from other origins get no CORS headers.',
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema> & { mediaDir: string };

export type ConfigKey = keyof Static<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** GLIMPSER_* variables that are not runtime settings: the config file's name and the `glimpser edge` password. */
const NOT_RUNTIME_SETTINGS = new Set(['GLIMPSER_CONFIG', 'GLIMPSER_EDGE_PASSWORD']);

export function envName(key: string): string {
  return `GLIMPSER_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

function schemaOf(key: string): TSchema {
  return ConfigSchema.properties[key as ConfigKey] as TSchema;
}

/** Keys whose values never reach a log line. */
export const SECRET_KEYS: string[] = Object.keys(ConfigSchema.properties).filter((k) => schemaOf(k).secret === true);

function expectation(schema: TSchema): string {
  if (typeof schema.expected === 'string') return schema.expected;
  if (schema.type === 'integer') return `an integer from ${schema.minimum} to ${schema.maximum}`;
  if (schema.type === 'number')
    return schema.exclusiveMinimum !== undefined
      ? `a number above ${schema.exclusiveMinimum} and at most ${schema.maximum}`
      : `a number from ${schema.minimum} to ${schema.maximum}`;
  if (schema.type === 'boolean') return 'true or false';
  if (schema.anyOf) return `one of ${(schema.anyOf as TSchema[]).map((s) => s.const).join(', ')}`;
  if (schema.minLength) return `a string of at least ${schema.minLength} characters`;
  return 'a string';
}

function coerce(key: string, raw: string): unknown {
  const schema = schemaOf(key);
  if (schema.type === 'integer') return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
  if (schema.type === 'number') return raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  if (schema.type === 'boolean') return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
  if (schema.type === 'array')
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  return raw;
}

const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: false });
const validate = ajv.compile(ConfigSchema);

/**
 * Reads GLIMPSER_* variables over an optional JSON file (GLIMPSER_CONFIG), validates, applies defaults and
 * resolves paths. Throws a ConfigError whose message is one line naming the variable (or file key) and what it expects.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const raw: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const file = env.GLIMPSER_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path.resolve(cwd, file), 'utf8'));
    } catch (err) {
      throw new ConfigError(`GLIMPSER_CONFIG: cannot read ${file} as JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`GLIMPSER_CONFIG: ${file} must hold a JSON object`);
    for (const [key, value] of Object.entries(parsed)) {
      if (!(key in ConfigSchema.properties))
        throw new ConfigError(`${file}: unknown key "${key}"; known keys: ${Object.keys(ConfigSchema.properties).join(', ')}`);
      raw[key] = value;
      origin[key] = `${file}: ${key}`;
    }
  }
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') {
      raw[key] = coerce(key, value);
      origin[key] = envName(key);
    }
  }
  const unknown = Object.keys(env).filter(
    (k) => k.startsWith('GLIMPSER_') && !NOT_RUNTIME_SETTINGS.has(k) && !Object.keys(ConfigSchema.properties).some((p) => envName(p) === k),
  );
  if (unknown.length > 0)
    throw new ConfigError(`${unknown[0]}: unknown setting; known variables: ${Object.keys(ConfigSchema.properties).map(envName).join(', ')}`);

  if (!validate(raw)) {
    const error = validate.errors?.[0];
    // A wrong list item is reported at /corsOrigins/1: the setting is the first segment.
    const key = (error?.instancePath ?? '').split('/')[1] || String(error?.params?.additionalProperty ?? '');
    const where = origin[key] ?? envName(key);
    const shown = SECRET_KEYS.includes(key) ? '(hidden)' : JSON.stringify(raw[key]);
    throw new ConfigError(`${where}: expected ${expectation(schemaOf(key))}, got ${shown}`);
  }
  const badProxy = (raw.trustProxy as string[]).find((entry) => !isProxyEntry(entry));
  if (badProxy !== undefined)
    throw new ConfigError(`${origin.trustProxy ?? envName('trustProxy')}: expected ${expectation(schemaOf('trustProxy'))}, got ${JSON.stringify(badProxy)}`);
  const dataDir = path.resolve(cwd, raw.dataDir as string);
  const mediaDir = path.resolve(dataDir, (raw.mediaDir as string | undefined) ?? 'media');
  return { ...(raw as Static<typeof ConfigSchema>), dataDir, mediaDir };
}

/** What Express' `trust proxy` accepts without throwing at start: a named range, an address, or an address/prefix. */
function isProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}
