import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pkg from '../../package.json';
import { lookup } from '../../nodes/shared/i18n';

/**
 * Every node folder holds the same files, and every status a node shows is a key of its own locale: one place per
 * text, so the palette can be translated.
 */
const NODES = path.join(__dirname, '..', '..', 'nodes');
const types = Object.keys(pkg['node-red'].nodes);

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(dir, file));
}

describe.each(types)('nodes/%s', (type) => {
  const dir = path.join(NODES, type);

  it('has the same files as every node: entry, controller, schema, migrations, editor, help, locale', () => {
    for (const file of [`${type}.ts`, 'controller.ts', 'schema.ts', 'migrations.ts', `${type}.html`, 'help.md', `locales/en-US/${type}.json`]) {
      expect(existsSync(path.join(dir, file)) ? file : `${file} is missing`).toBe(file);
    }
  });

  it('shows statuses only through keys of its locale', () => {
    const catalog = JSON.parse(readFileSync(path.join(dir, 'locales', 'en-US', `${type}.json`), 'utf8')) as Record<string, never>;
    for (const file of sources(dir)) {
      const code = readFileSync(file, 'utf8');
      const shows = [...code.matchAll(/status\.show\(\s*'(\w+)',\s*'([\w.]+)'/g)];
      // Every call names its key literally, so this test sees them all.
      expect(shows.length).toBe([...code.matchAll(/status\.show\(/g)].length);
      for (const [, , key] of shows) expect(lookup(catalog, `${type}.status.${key}`) === undefined ? `${type}.status.${key} missing` : key).toBe(key);
      expect(code).not.toMatch(/statusOf\(|\.status\(\{[^}]*text:/);
    }
  });
});
