// Assembles each node's editor files next to its compiled runtime entry in dist/, from the one list of node types
// in package.json: the editor template, the locale strings, and the help (markdown, rendered by the editor).
// A node without help, locale strings or an example flow fails the build.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const problems = [];

/**
 * Writes only what changed: a build while Glimpser runs from dist/ (`npm start` in the tests, beside the runtime
 * tests) must not rewrite, and so briefly truncate, files another process is reading. tsc is incremental for the same reason.
 */
function writeIfChanged(file, content) {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  if (existsSync(file) && readFileSync(file).equals(bytes)) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

function copyTree(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copyTree(path.join(from, entry.name), path.join(to, entry.name));
    else writeIfChanged(path.join(to, entry.name), readFileSync(path.join(from, entry.name)));
  }
}

for (const [type, entry] of Object.entries(pkg['node-red'].nodes)) {
  const src = path.join(root, 'nodes', type);
  const out = path.join(root, path.dirname(entry));
  const need = (file) => {
    if (!existsSync(path.join(src, file))) problems.push(`nodes/${type}/${file} is missing`);
    return path.join(src, file);
  };
  if (path.basename(entry) !== `${type}.js`) problems.push(`package.json: node ${type} must point at dist/nodes/${type}/${type}.js`);
  const template = need(`${type}.html`);
  const help = need('help.md');
  const locale = need(`locales/en-US/${type}.json`);
  const examples = path.join(root, 'examples', type);
  if (!existsSync(examples) || !readdirSync(examples).some((f) => f.endsWith('.json'))) problems.push(`examples/${type}/ has no example flow`);
  if (problems.length > 0) continue;

  writeIfChanged(path.join(out, `${type}.html`), readFileSync(template));
  writeIfChanged(path.join(out, 'locales', 'en-US', `${type}.json`), readFileSync(locale));
  const markdown = readFileSync(help, 'utf8');
  if (markdown.includes('</script')) problems.push(`nodes/${type}/help.md must not contain </script>`);
  writeIfChanged(path.join(out, 'locales', 'en-US', `${type}.html`), `<script type="text/markdown" data-help-name="${type}">\n${markdown}</script>\n`);
}

// Data files core/ reads at run time beside its compiled code (tsc copies only what is imported).
for (const dir of ['core/alerts/cap/schema']) copyTree(path.join(root, dir), path.join(root, 'dist', dir));

if (problems.length > 0) {
  console.error(`build-nodes: ${problems.join('\n build-nodes: ')}`);
  process.exit(1);
}
