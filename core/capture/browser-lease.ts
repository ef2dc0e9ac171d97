import { BrowserPool, type BrowserPoolOptions } from './browser-pool';

/**
 * One browser pool shared by every website camera: started for the first camera that needs it and closed after the
 * last one lets go, so a flow without website cameras never starts Chromium.
 */
export class BrowserPoolLease {
  private pool: BrowserPool | null = null;
  private users = 0;

  constructor(private readonly options: BrowserPoolOptions = {}) {}

  acquire(): BrowserPool {
    this.users += 1;
    this.pool ??= new BrowserPool(this.options);
    return this.pool;
  }

  async release(): Promise<void> {
    this.users = Math.max(0, this.users - 1);
    if (this.users > 0 || !this.pool) return;
    const pool = this.pool;
    this.pool = null;
    await pool.close();
  }

  /** Closes the pool whatever the count: the runtime's stop. */
  async close(): Promise<void> {
    this.users = 0;
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}
