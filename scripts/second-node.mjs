#!/usr/bin/env node
/**
 * Builds Glimpser and runs the unit tests on the second LTS line that `node scripts/setup.mjs --test` prepared
 * (.cache/second-node.json): Node 24 when Glimpser runs on 22. The same node_modules serves both: its native addons
 * load through Node-API.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let second;
try {
  second = JSON.parse(readFileSync(join(root, '.cache', 'second-node.json'), 'utf8'));
} catch {
  console.error('[second-node] .cache/second-node.json is missing: run `node scripts/setup.mjs --test` first');
  process.exit(1);
}
const env = { ...process.env, PATH: [dirname(second.binary), process.env.PATH].join(delimiter) };
const steps = [
  ['build', [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--noEmit']],
  ['unit tests', [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), 'test/unit', '--ci']],
];
for (const [name, args] of steps) {
  console.log(`[second-node] ${name} on Node ${second.version}`);
  const result = spawnSync(second.binary, args, { stdio: 'inherit', cwd: root, env });
  if (result.status !== 0) {
    console.error(`[second-node] ${name} failed on Node ${second.version}`);
    process.exit(result.status ?? 1);
  }
}
