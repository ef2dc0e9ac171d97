/**
 * Collects what is asked in one turn of the event loop and runs it as one batch in the next (setImmediate): a group
 * commit for SQLite writes, where one transaction (and one fsync) answers every request of the turn instead of one
 * each. `run` answers each item, in order, with its result or with the Error that item alone failed with; a throw
 * from `run` fails every item of the batch.
 */
export class TurnBatch<I, R> {
  private items: Array<{ item: I; resolve(result: R): void; reject(err: Error): void }> = [];
  private scheduled = false;

  constructor(private readonly run: (items: I[]) => Array<R | Error>) {}

  /** How many items wait for the next batch. */
  get size(): number {
    return this.items.length;
  }

  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.items.push({ item, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  /** Runs what waits now (close() calls it so that nothing asked is left unanswered). */
  flush(): void {
    this.scheduled = false;
    const batch = this.items;
    if (batch.length === 0) return;
    this.items = [];
    let results: Array<R | Error>;
    try {
      results = this.run(batch.map(({ item }) => item));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const { reject } of batch) reject(error);
      return;
    }
    batch.forEach(({ resolve, reject }, i) => {
      const result = results[i];
      if (result instanceof Error) reject(result);
      else resolve(result);
    });
  }
}
