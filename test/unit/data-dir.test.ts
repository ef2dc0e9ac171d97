import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { secureDataDir } from '../../runtime/stores/data-dir';
import type { Logger } from '../../core/log/logger';

/** Issue 12, finding 9: a data folder from an older Glimpser (0755, with 0644 files in it) is closed to other users on start. */
describe('secureDataDir', () => {
  let root: string;
  const warnings: string[] = [];
  const log: Logger = {
    error: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    warn: (_o: unknown, msg?: string) => void warnings.push(String(msg)),
    child: () => log,
  } as Logger;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'glimpser-data-dir-'));
    warnings.length = 0;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('closes an existing folder that others could read, and says so', async () => {
    const dir = path.join(root, 'data');
    await secureDataDir(dir, log);
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, 'journal.db'), 'old', { mode: 0o644 });
    await secureDataDir(dir, log);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(warnings).toEqual(['data folder was readable by other users; now 0700']);
  });

  it('creates a missing folder 0700 and leaves a closed one as it is', async () => {
    const dir = path.join(root, 'nested', 'data');
    await secureDataDir(dir, log);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await secureDataDir(dir, log);
    expect(warnings).toEqual([]);
  });
});
