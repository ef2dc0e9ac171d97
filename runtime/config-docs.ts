import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema, envName } from './config';

/** Renders docs/configuration.md from the config schema, so the docs cannot drift from what start-up accepts. */
export function configurationMarkdown(): string {
  const rows = Object.entries(ConfigSchema.properties).map(([key, raw]) => {
    const schema = raw as TSchema;
    const type = schema.anyOf
      ? (schema.anyOf as TSchema[]).map((s) => `\`${s.const}\``).join(' \\| ')
      : schema.type === 'integer'
        ? `integer ${schema.minimum}–${schema.maximum}`
        : schema.type === 'number'
          ? `number ≤ ${schema.maximum}`
          : schema.type === 'array'
            ? 'list (comma-separated)'
            : String(schema.type);
    const fallback =
      schema.default === undefined ? '—' : Array.isArray(schema.default) && schema.default.length === 0 ? 'empty' : `\`${String(schema.default)}\``;
    return `| \`${envName(key)}\` | \`${key}\` | ${type} | ${fallback} | ${schema.description ?? ''}${schema.secret ? ' *Secret: never logged.*' : ''} |`;
  });
  return [
    '# Configuration',
    '',
    'Glimpser reads `GLIMPSER_*` environment variables, over an optional JSON file named by `GLIMPSER_CONFIG` whose keys',
    'are the camelCase names below. Unknown variables and keys are refused, and a wrong value stops start-up with one',
    'line naming it. This page is generated from the schema in `runtime/config.ts` (`npm run docs`); a test keeps it current.',
    '',
    '| Variable | File key | Type | Default | Meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (require.main === module) process.stdout.write(configurationMarkdown());
