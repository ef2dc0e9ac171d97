import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EventJournal, type Synchronous } from '../../core/store/journal';

const WRITER = path.join(__dirname, '..', 'support', 'journal-writer.ts');
/**
 * Runs the TypeScript writer straight from source with the SWC compiler jest itself uses, so the test needs no
 * build step and always exercises the code under test rather than a stale dist/.
 */
const RUN_TYPESCRIPT = `
const { readFileSync } = require('node:fs');
const { transformSync } = require(${JSON.stringify(require.resolve('@swc/core'))});
require.extensions['.ts'] = (module, filename) => {
  const options = { filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } };
  module._compile(transformSync(readFileSync(filename, 'utf8'), options).code, filename);
};
require(process.argv[1]);
`;

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'glimpser-journal-crash-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts the writer, SIGKILLs it once it has acknowledged `count` events, and returns the ids it printed. */
function writeUntilKilled(synchronous: Synchronous, count: number): Promise<string[]> {
  const child = spawn(process.execPath, ['-e', RUN_TYPESCRIPT, WRITER, dataDir, synchronous], { stdio: ['ignore', 'pipe', 'pipe'] });
  const ids: string[] = [];
  let partial = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer acknowledged only ${ids.length} of ${count} events in time: ${stderr}`));
    }, 30000);
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      // A line cut off by the kill was never acknowledged as a whole; it is not counted.
      partial = lines.pop() ?? '';
      ids.push(...lines);
      if (ids.length >= count && child.signalCode === null) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(ids);
      else reject(new Error(`the writer exited by itself (code ${code}): ${stderr}`));
    });
  });
}

function integrity(file: string): unknown {
  const db = new Database(file);
  try {
    return db.pragma('integrity_check');
  } finally {
    db.close();
  }
}

describe('the event journal under SIGKILL', () => {
  it.each<[Synchronous, number]>([
    ['normal', 3],
    ['full', 1],
  ])('loses no acknowledged event and stays intact with synchronous=%s (%i kills)', async (synchronous, kills) => {
    const acknowledged: string[] = [];
    for (let kill = 0; kill < kills; kill++) {
      acknowledged.push(...(await writeUntilKilled(synchronous, 1500)));
      expect(integrity(path.join(dataDir, 'events', 'journal.db'))).toEqual([{ integrity_check: 'ok' }]);
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(1500 * kills);
    const journal = new EventJournal({ dataDir, maxAgeDays: Number.POSITIVE_INFINITY });
    journal.open();
    try {
      const missing = acknowledged.filter((id) => journal.get(id) === null);
      expect(missing).toEqual([]);
      expect(journal.stats().events).toBeGreaterThanOrEqual(acknowledged.length);
    } finally {
      await journal.close();
    }
  });
});
