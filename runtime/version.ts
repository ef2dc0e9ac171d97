import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../settings';

/** What this Glimpser is and runs on: for the start log, GET /api/version and bug reports. */
export interface Versions {
  glimpser: string;
  node: string;
  nodeRed: string;
}

function packageVersion(file: string): string {
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

let cached: Versions | undefined;

export function versions(): Versions {
  cached ??= {
    glimpser: packageVersion(path.join(PACKAGE_ROOT, 'package.json')),
    node: process.versions.node,
    nodeRed: packageVersion(require.resolve('node-red/package.json')),
  };
  return cached;
}
