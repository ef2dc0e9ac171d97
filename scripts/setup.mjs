#!/usr/bin/env node
/**
 * Makes a checkout ready to run Glimpser (`node scripts/setup.mjs`) or to test it (`--test`), then optionally runs
 * an npm script with the Node it chose (`--then <script>`) and after it a JavaScript file on that Node (`--run <file>`,
 * how `npm start` starts Glimpser): picks the Node.js that runs Glimpser (the system one when
 * it is new enough, otherwise a pinned official build fetched from the npm registry into .cache/node/, and this
 * script then runs again under it), installs npm dependencies when package.json or package-lock.json changed, and
 * installs the Debian packages listed in SYSTEM_TOOLS. For tests it also prepares the second LTS line the unit tests
 * run on. It runs before node_modules exists, so it uses node: built-ins only, and it is idempotent: with nothing
 * missing it only reads a few files and probes a few paths.
 *
 * Signals: SIGTERM, SIGINT and SIGHUP sent to this process reach the child it waits for, and it exits with that
 * child's code. Nothing between `npm start` and Glimpser may be a shell that waits for its child: a shell killed by
 * SIGTERM does not pass the signal on, and Glimpser and its ffmpeg processes were left running. So package.json's
 * `start` execs this script (npm runs scripts through `sh -c`, and `exec` replaces that shell), and `--run` starts
 * Glimpser with this Node directly instead of through another npm script and shell.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { ensureNodeBuild, headersDirOf, NODE_BUILDS, NodeBuildError } from './node-builds.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.cache');
/** Tools unpacked from a .deb without installing the package; the tests look here after PATH. */
const toolsBin = join(cacheDir, 'tools', 'bin');
const stampFile = join(root, 'node_modules', '.glimpser-setup-stamp');
const APT_LISTS = '/var/lib/apt/lists';
const APT_LISTS_MAX_AGE_MS = 6 * 60 * 60 * 1000;

/** Probe for the RTSP test camera: the Python bindings plus every element of its pipeline (see TEST-SERVERS.md). */
const RTSP_SERVER_PROBE = `
import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtspServer
Gst.init(None)
raise SystemExit(any(Gst.ElementFactory.find(e) is None for e in ('videotestsrc', 'x264enc', 'rtph264pay')))
`;

/**
 * Every system tool Glimpser needs, once: how to tell it is there, the Debian packages that provide it, and
 * whether running Glimpser needs it or only its tests do.
 * `unpack` takes the listed files out of the package into .cache/tools/bin instead of installing it: the
 * `prometheus` package would add a system user and enable a Prometheus server at boot just to provide promtool.
 */
const SYSTEM_TOOLS = [
  { need: 'runtime', name: 'ffmpeg', packages: ['ffmpeg'], probe: binaries('ffmpeg', 'ffprobe') },
  { need: 'runtime', name: 'chromium', packages: ['chromium'], probe: file('/usr/bin/chromium') },
  { need: 'runtime', name: 'chromedriver', packages: ['chromium-driver'], probe: file('/usr/bin/chromedriver') },
  { need: 'runtime', name: 'yt-dlp', packages: ['yt-dlp'], probe: binaries('yt-dlp') },
  { need: 'test', name: 'mosquitto', packages: ['mosquitto'], probe: binaries('mosquitto') },
  { need: 'test', name: 'mosquitto clients', packages: ['mosquitto-clients'], probe: binaries('mosquitto_sub', 'mosquitto_pub') },
  { need: 'test', name: 'promtool', packages: ['prometheus'], probe: binaries('promtool'), unpack: ['usr/bin/promtool'] },
  { need: 'test', name: 'xmllint', packages: ['libxml2-utils'], probe: binaries('xmllint') },
  { need: 'test', name: 'openssl', packages: ['openssl'], probe: binaries('openssl') },
  {
    need: 'test',
    name: 'GStreamer RTSP server',
    packages: ['gir1.2-gst-rtsp-server-1.0', 'python3-gi', 'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-ugly'],
    probe: succeeds('/usr/bin/python3', ['-c', RTSP_SERVER_PROBE]),
  },
];

class SetupError extends Error {}

const log = (message) => console.log(`[setup] ${message}`);

function searchDirs() {
  // sbin is often missing from a user's PATH, and mosquitto lives there on Debian.
  return [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin', toolsBin];
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findBinary(name) {
  return searchDirs()
    .map((dir) => join(dir, name))
    .find(isExecutable);
}

function binaries(...names) {
  return () => names.every((name) => findBinary(name) !== undefined);
}

function file(path) {
  return () => isExecutable(path);
}

function succeeds(command, args) {
  return () => {
    if (!isExecutable(command)) return false;
    // Keep GStreamer's plugin registry inside the repo, and Python from writing bytecode next to system modules.
    const env = { ...process.env, GST_REGISTRY: join(cacheDir, 'gstreamer-registry.bin'), PYTHONDONTWRITEBYTECODE: '1' };
    return spawnSync(command, args, { stdio: 'ignore', env, timeout: 60_000 }).status === 0;
  };
}

/** Runs a command with its output shown and tells whether it succeeded; throws only when it cannot start. */
function run(command, args, options = {}) {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw new SetupError(`could not run ${command}: ${result.error.message}`);
  return result.status === 0;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The oldest Node that runs Glimpser: the first version named in engines.node, so package.json stays the one place. */
function minimumNode() {
  const wanted = /(\d+)\.(\d+)/.exec(readJson(join(root, 'package.json'))?.engines?.node ?? '');
  if (!wanted) throw new SetupError('package.json has no engines.node version such as ">=22.9"');
  return [Number(wanted[1]), Number(wanted[2])];
}

function isAtLeast(version, [wantMajor, wantMinor]) {
  const [major, minor] = version.split('.').map(Number);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/**
 * Makes sure this script runs on a Node that can run Glimpser. Returns true when it does; otherwise fetches the
 * pinned LTS build and returns false after starting this script again under it (the caller then waits for that).
 */
function ensureRuntimeNode(args) {
  const minimum = minimumNode();
  // Set by the first run for the second: Glimpser itself refuses unknown GLIMPSER_* variables, so it is removed.
  const rerun = process.env.SETUP_RERUN_FROM_NODE;
  delete process.env.SETUP_RERUN_FROM_NODE;
  if (isAtLeast(process.versions.node, minimum)) return true;
  if (rerun) throw new SetupError(`Node ${process.versions.node} at ${process.execPath} is older than engines.node (${minimum.join('.')})`);
  log(
    `system Node ${process.versions.node} is older than ${minimum.join('.')} (engines.node): using Node.js ${NODE_BUILDS.runtime.version} LTS from .cache/node`,
  );
  const dir = ensureNodeBuild(NODE_BUILDS.runtime, { cacheDir, log, run });
  const env = { ...process.env, SETUP_RERUN_FROM_NODE: process.versions.node };
  forwardedExit(spawnForwarding(join(dir, 'bin', 'node'), [fileURLToPath(import.meta.url), ...args], env));
  return false;
}

/**
 * Every command below (npm, its install scripts, node-gyp, tsc, jest, Glimpser) runs on the Node that runs this
 * script: its folder leads PATH, and native addons build against its own headers instead of downloading them.
 */
function useThisNode() {
  process.env.PATH = [dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter);
  const headers = headersDirOf(process.execPath);
  if (headers) process.env.npm_config_nodedir = headers;
}

/** Starts a child that gets the signals sent to this process while it runs. */
function spawnForwarding(command, args, env) {
  const child = spawn(command, args, { stdio: 'inherit', cwd: root, env });
  const forwards = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((signal) => [signal, () => child.kill(signal)]);
  for (const [signal, forward] of forwards) process.on(signal, forward);
  child.once('exit', () => {
    for (const [signal, forward] of forwards) process.off(signal, forward);
  });
  return child;
}

/** A child's exit as an exit code, the shell's way: 128 + the signal's number when a signal ended it. */
const exitCodeOf = (code, signal) => code ?? (signal ? 128 + (osConstants.signals[signal] ?? 1) : 1);

/** Calls `then` with the child's exit code; a child that cannot start ends this process. */
function onExit(child, then) {
  child.on('error', (error) => {
    log(`error: could not run ${child.spawnfile}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => then(exitCodeOf(code, signal)));
}

/** Ends this process with the child's exit code. */
function forwardedExit(child) {
  onExit(child, (code) => process.exit(code));
}

function dependencyHash() {
  const hash = createHash('sha256');
  for (const name of ['package.json', 'package-lock.json']) {
    const path = join(root, name);
    hash
      .update(`${name}\0`)
      .update(existsSync(path) ? readFileSync(path) : '')
      .update('\0');
  }
  // Native addons are built for one Node ABI, platform and CPU: changing any of them needs a fresh install.
  hash.update(`${process.versions.modules} ${process.platform} ${process.arch}`);
  return hash.digest('hex');
}

function sameDependencies(a = {}, b = {}) {
  const sorted = (deps) => JSON.stringify(Object.entries(deps).sort(([x], [y]) => x.localeCompare(y)));
  return sorted(a) === sorted(b);
}

/**
 * True when node_modules already holds what package-lock.json pins: every locked package is on disk at its locked
 * version. This spares a full reinstall after `npm install some-package` or on a checkout installed before this
 * script wrote stamps. Optional packages for other platforms are never installed, so an optional package may be
 * absent unless npm's own record of the tree (node_modules/.package-lock.json) says it was installed; that record
 * alone is not trusted, as `npm install --package-lock-only` rewrites it without installing anything.
 */
function installedTreeMatchesLock() {
  const pkg = readJson(join(root, 'package.json'));
  const lock = readJson(join(root, 'package-lock.json'));
  if (!pkg || !lock?.packages) return false;
  const lockRoot = lock.packages[''] ?? {};
  const fields = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
  if (!fields.every((field) => sameDependencies(pkg[field], lockRoot[field]))) return false;
  const recorded = readJson(join(root, 'node_modules', '.package-lock.json'))?.packages ?? {};
  return Object.entries(lock.packages).every(([path, entry]) => {
    if (path === '' || ((entry.optional || entry.devOptional) && !(path in recorded))) return true;
    return entry.link ? existsSync(join(root, path)) : readJson(join(root, path, 'package.json'))?.version === entry.version;
  });
}

/** Returns what it did, for the summary line. */
function ensureNpmDependencies() {
  const hash = dependencyHash();
  const stamp = readJson(stampFile);
  const writeStamp = (value) => writeFileSync(stampFile, `${JSON.stringify({ hash: value, abi: process.versions.modules })}\n`);
  if (stamp?.hash === hash) return 'npm dependencies up to date';
  // Versions on disk say nothing about the Node ABI native addons were built for, so a known switch reinstalls.
  const sameAbi = !stamp?.abi || stamp.abi === process.versions.modules;
  if (sameAbi && existsSync(join(root, 'package-lock.json')) && installedTreeMatchesLock()) {
    writeStamp(hash);
    return 'npm dependencies match package-lock.json';
  }
  if (!sameAbi) {
    // An install over the old tree would keep addons built for the other ABI; npm ci starts empty as well.
    log(`Node ABI changed (${stamp.abi} → ${process.versions.modules}): removing node_modules`);
    rmSync(join(root, 'node_modules'), { recursive: true, force: true });
  }
  log(existsSync(join(root, 'node_modules')) ? 'npm dependencies changed: reinstalling' : 'installing npm dependencies');
  const how = installNpmDependencies();
  // `npm install` may have just written package-lock.json, so hash again.
  writeStamp(dependencyHash());
  return `npm dependencies installed with ${how}`;
}

/**
 * Install scripts run only for the packages package.json's `allowScripts` sets to true; npm itself does not read that
 * map, so every install runs with --ignore-scripts and the allowed ones are rebuilt after. Today none is allowed:
 * better-sqlite3 and sharp ship prebuilt binaries, and the others' scripts only report usage (@scarf/scarf) or build
 * what is prebuilt already.
 */
function allowedScriptPackages() {
  const allow = readJson(join(root, 'package.json')).allowScripts ?? {};
  return Object.keys(allow).filter((name) => allow[name] === true);
}

function installNpmDependencies() {
  const how = installPackages();
  const allowed = allowedScriptPackages();
  if (allowed.length > 0 && !run('npm', ['rebuild', ...allowed])) throw new SetupError(`npm rebuild ${allowed.join(' ')} failed (see its output above)`);
  return how;
}

function installPackages() {
  const quiet = ['--no-audit', '--no-fund', '--ignore-scripts'];
  if (!existsSync(join(root, 'package-lock.json'))) {
    if (!run('npm', ['install', ...quiet])) throw new SetupError('npm install failed (see its output above); fix the cause and run setup again');
    return 'npm install';
  }
  if (run('npm', ['ci', ...quiet])) return 'npm ci';
  // npm ci also refuses a lock that lacks optional packages for other platforms (npm/cli#4828), which happens
  // whenever the lock was written where the registry could not serve them. `--no-save` installs exactly what the
  // lock pins and leaves both committed files untouched.
  log('npm ci refused package-lock.json; installing from it with `npm install --no-save` instead');
  log('if npm ci listed packages "Missing ... from lock file", regenerate the lock with `npm install` and commit it');
  if (!run('npm', ['install', '--no-save', ...quiet]))
    throw new SetupError('npm ci and npm install both failed (see their output above); fix the cause and run setup again');
  return 'npm install --no-save (npm ci refused the lock)';
}

/**
 * apt keeps each list's mtime at the server's Last-Modified, so an update that changed nothing leaves them old;
 * the partial/ folder it downloads through is touched on every update and tells when the last one ran.
 */
function aptListsAreFresh() {
  try {
    const lists = readdirSync(APT_LISTS)
      .filter((name) => name.includes('_Packages'))
      .map((name) => join(APT_LISTS, name));
    if (lists.length === 0) return false;
    const newest = Math.max(...[join(APT_LISTS, 'partial'), ...lists].filter(existsSync).map((path) => statSync(path).mtimeMs));
    return Date.now() - newest < APT_LISTS_MAX_AGE_MS;
  } catch {
    return false;
  }
}

const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// Two setups started together (two test runs) queue on dpkg's lock instead of failing.
const aptLockWait = ['-o', 'DPkg::Lock::Timeout=300'];
let aptUpdated = false;

function aptUpdate() {
  aptUpdated = true;
  // A third-party source that cannot be reached makes apt-get update fail although Debian's lists did refresh.
  if (!run('apt-get', ['update', ...aptLockWait], { env: aptEnv })) log('apt-get update reported errors; trying with the lists it has');
}

function aptInstall(packages) {
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...aptLockWait, ...packages], { env: aptEnv });
  if (install()) return;
  // Lists younger than the refresh age can still name a version the mirror no longer has.
  if (aptUpdated) throw new SetupError(`apt-get install ${packages.join(' ')} failed (see its output above)`);
  aptUpdate();
  if (!install()) throw new SetupError(`apt-get install ${packages.join(' ')} failed (see its output above)`);
}

/** Downloads a package's .deb (no root needed) and copies the named files out of it into .cache/tools/bin. */
function unpackTool(tool, asRoot) {
  mkdirSync(toolsBin, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'tools', 'download-'));
  try {
    const [pkg] = tool.packages;
    // As root apt would hand the download to its _apt user, who cannot write into the repo.
    const sandbox = asRoot ? ['-o', 'APT::Sandbox::User=root'] : [];
    if (!run('apt-get', ['download', ...sandbox, pkg], { cwd: work })) throw new SetupError(`apt-get download ${pkg} failed (see its output above)`);
    const deb = readdirSync(work).find((name) => name.endsWith('.deb'));
    if (!deb || !run('dpkg-deb', ['-x', deb, 'tree'], { cwd: work })) throw new SetupError(`could not unpack ${pkg}'s .deb in ${work}`);
    for (const path of tool.unpack) renameSync(join(work, 'tree', path), join(toolsBin, path.split('/').pop()));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function installHint(tool, canApt) {
  const packages = tool.packages.join(' ');
  const how = canApt ? `run  sudo apt-get install ${packages}` : `install the Debian package(s) ${packages} or your system's equivalent`;
  return `missing ${tool.name} (needed for ${tool.need === 'runtime' ? 'running Glimpser' : 'tests'}): ${how}`;
}

/** Returns what it did, for the summary line. */
function ensureSystemTools(forTest) {
  const wanted = SYSTEM_TOOLS.filter((tool) => tool.need === 'runtime' || forTest);
  const missing = wanted.filter((tool) => !tool.probe());
  if (missing.length === 0) return `${wanted.length} system tools present`;

  const asRoot = process.getuid?.() === 0;
  const canApt = findBinary('apt-get') !== undefined;
  if (!canApt) {
    for (const tool of missing) log(installHint(tool, false));
    throw new SetupError(`${missing.length} system tool(s) missing and apt-get is not available; install them and run setup again`);
  }
  const toInstall = missing.filter((tool) => !tool.unpack);
  const toUnpack = missing.filter((tool) => tool.unpack);
  if (asRoot) {
    log(`installing ${missing.map((tool) => tool.name).join(', ')}`);
    if (!aptListsAreFresh()) aptUpdate();
    if (toInstall.length > 0) aptInstall(toInstall.flatMap((tool) => tool.packages));
  } else {
    for (const tool of toInstall) log(installHint(tool, true));
  }
  // Unpacking needs no root, so a user without sudo still gets these.
  for (const tool of toUnpack) unpackTool(tool, asRoot);
  if (!asRoot && toInstall.length > 0) throw new SetupError(`${toInstall.length} system tool(s) missing; install them and run setup again`);

  const stillMissing = missing.filter((tool) => !tool.probe());
  if (stillMissing.length > 0) {
    throw new SetupError(`installed, but still not usable: ${stillMissing.map((tool) => `${tool.name} (${tool.packages.join(' ')})`).join(', ')}`);
  }
  return `installed ${missing.map((tool) => tool.name).join(', ')}`;
}

const secondNodeFile = join(cacheDir, 'second-node.json');

/**
 * Prepares the other LTS line for the unit tests (Node 24 when Glimpser runs on 22, 22 when it runs on 24) and
 * records it in .cache/second-node.json for scripts/second-node.mjs. The native addons in use (better-sqlite3,
 * sharp) load through Node-API, whose ABI is stable across Node versions, so node_modules serves both.
 */
function ensureSecondNode() {
  const build = process.versions.node.split('.')[0] === NODE_BUILDS.second.version.split('.')[0] ? NODE_BUILDS.runtime : NODE_BUILDS.second;
  const dir = ensureNodeBuild(build, { cacheDir, log, run });
  writeFileSync(secondNodeFile, `${JSON.stringify({ version: build.version, binary: join(dir, 'bin', 'node') })}\n`);
  return `second Node ${build.version} ready`;
}

function parseArgs(args) {
  const options = { test: false, then: undefined, run: undefined };
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === '--test') options.test = true;
    else if (args[i] === '--then' && args[i + 1]) options.then = args[(i += 1)];
    else if (args[i] === '--run' && args[i + 1]) options.run = args[(i += 1)];
    else throw new SetupError(`unknown option ${args[i]}; usage: node scripts/setup.mjs [--test] [--then <npm script>] [--run <file.js>]`);
  }
  return options;
}

function main(args) {
  const options = parseArgs(args);
  const started = Date.now();
  if (!ensureRuntimeNode(args)) return;
  useThisNode();
  const steps = [ensureNpmDependencies(), ensureSystemTools(options.test)];
  if (options.test) steps.push(ensureSecondNode());
  log(`ready: Node ${process.versions.node} (${process.execPath}), ${steps.join(', ')} (${((Date.now() - started) / 1000).toFixed(2)} s)`);
  // The file runs on this Node with no shell in between, so the signals this process forwards reach it.
  const run = () => forwardedExit(spawnForwarding(process.execPath, [join(root, options.run)], process.env));
  if (options.then) {
    const script = spawnForwarding('npm', ['run', '--silent', options.then], process.env);
    if (options.run) onExit(script, (code) => (code === 0 ? run() : process.exit(code)));
    else forwardedExit(script);
  } else if (options.run) run();
}

try {
  main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof SetupError || error instanceof NodeBuildError)) throw error;
  log(`error: ${error.message}`);
  process.exitCode = 1;
}
