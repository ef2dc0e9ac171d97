// Builds the web app (web/) into dist/web/: one bundle per entry with a content hash in its name (served with a year of
// caching), the service worker at a fixed name (browsers look it up by URL), index.html pointing at the hashed files,
// the public files copied, and a .br and .gz beside every text file so the server never compresses on a request.
// dist/web/assets.json lists every file with its size and gzipped size (the 100 kB budget is checked against it).
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'web');
const out = path.join(root, 'dist', 'web');
const COMPRESSIBLE = /\.(js|css|html|svg|json|webmanifest|map)$/;

/** Writes only what changed, as build-nodes does: a running Glimpser may be serving these files. */
function writeIfChanged(file, bytes) {
  if (existsSync(file) && readFileSync(file).equals(bytes)) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

const common = {
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};

const app = await build({
  ...common,
  entryPoints: { app: path.join(src, 'src', 'main.tsx') },
  outdir: path.join(out, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  format: 'esm',
  metafile: true,
});
const worker = await build({ ...common, sourcemap: false, entryPoints: { sw: path.join(src, 'src', 'sw.ts') }, outdir: out, format: 'iife' });

const files = new Map();
for (const file of [...app.outputFiles, ...worker.outputFiles]) files.set(file.path, Buffer.from(file.contents));
const urlOf = (file) => '/' + path.relative(out, file).split(path.sep).join('/');
const outputs = Object.entries(app.metafile.outputs).filter(([, o]) => o.entryPoint);
const entryJs = outputs.map(([p]) => path.resolve(root, p)).find((p) => p.endsWith('.js'));
const entryCss = entryJs && [...files.keys()].find((p) => p.endsWith('.css') && path.basename(p).startsWith('app-'));
if (!entryJs || !entryCss) throw new Error('build-web: the app bundle or its stylesheet is missing');

const template = readFileSync(path.join(src, 'index.html'), 'utf8');
files.set(path.join(out, 'index.html'), Buffer.from(template.replace('{{css}}', urlOf(entryCss)).replace('{{js}}', urlOf(entryJs))));
for (const entry of readdirSync(path.join(src, 'public'))) files.set(path.join(out, entry), readFileSync(path.join(src, 'public', entry)));

const listing = {};
for (const [file, bytes] of files) {
  writeIfChanged(file, bytes);
  const entry = { size: bytes.length };
  if (COMPRESSIBLE.test(file)) {
    const gz = gzipSync(bytes, { level: 9 });
    writeIfChanged(`${file}.gz`, gz);
    writeIfChanged(`${file}.br`, brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    entry.gzip = gz.length;
  }
  listing[urlOf(file)] = entry;
}
writeIfChanged(path.join(out, 'assets.json'), Buffer.from(JSON.stringify({ entry: urlOf(entryJs), files: listing }, null, 2) + '\n'));

// Hashed files of earlier builds are removed once they are an hour old: a page loaded just before a rebuild (or by a
// Glimpser still running from it) can still fetch what it points at, and the folder does not grow without end.
const keep = new Set([...files.keys()].flatMap((f) => [f, `${f}.gz`, `${f}.br`]));
const STALE_MS = 3600_000;
for (const entry of readdirSync(path.join(out, 'assets'))) {
  const file = path.join(out, 'assets', entry);
  if (!keep.has(file) && Date.now() - statSync(file).mtimeMs > STALE_MS) rmSync(file);
}
