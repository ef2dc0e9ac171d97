import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Issue 14, acceptance 6: the web app stays small and runs under a strict Content-Security-Policy. Read from the
 * build's own listing (dist/web/assets.json, written by scripts/build-web.mjs), so files of earlier builds still in
 * the folder do not count. Run after `node scripts/build-web.mjs`.
 */
const WEB = path.resolve(__dirname, '../../dist/web');
const BUDGET_BYTES = 100 * 1000;

interface Listing {
  entry: string;
  files: Record<string, { size: number; gzip?: number }>;
}

function listing(): Listing {
  const file = path.join(WEB, 'assets.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: build the web app first (node scripts/build-web.mjs)`);
  return JSON.parse(readFileSync(file, 'utf8')) as Listing;
}

const fileOf = (url: string) => path.join(WEB, ...url.split('/'));

describe('the built web app (acceptance 6)', () => {
  it('loads less than 100 kB of gzipped JavaScript, service worker included', () => {
    const { entry, files } = listing();
    const scripts = Object.keys(files).filter((url) => url.endsWith('.js'));
    expect(scripts).toContain(entry);
    expect(scripts).toContain('/sw.js');
    // Measured here rather than trusted from the listing, so a listing that under-reports cannot pass.
    const sizes = scripts.map((url) => ({ url, gzip: gzipSync(readFileSync(fileOf(url)), { level: 9 }).length }));
    const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
    if (total >= BUDGET_BYTES) throw new Error(`the app's JavaScript is ${total} bytes gzipped, over the ${BUDGET_BYTES} budget: ${JSON.stringify(sizes)}`);
    expect(total).toBeLessThan(BUDGET_BYTES);
  });

  it('contains no eval and no Function constructor in any file it serves', () => {
    const { files } = listing();
    const served = Object.keys(files).filter((url) => /\.(js|html|css|webmanifest|svg)$/.test(url));
    expect(served.length).toBeGreaterThan(3);
    const found = served.flatMap((url) => {
      const text = readFileSync(fileOf(url), 'utf8');
      return [/\beval\s*\(/, /\bnew\s+Function\s*\(/, /\bFunction\s*\(\s*["'`]/, /\bset(?:Timeout|Interval)\s*\(\s*["'`]/]
        .filter((pattern) => pattern.test(text))
        .map((pattern) => `${url}: ${pattern.source}`);
    });
    expect(found).toEqual([]);
  });
});
