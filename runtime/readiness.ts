/** The parts /readyz reports on; the runtime is ready only when every part is. */
export type ReadinessPart = 'stores' | 'broker' | 'http' | 'nodeRed';

export class Readiness {
  private readonly checks = new Map<ReadinessPart, () => boolean>();

  set(part: ReadinessPart, check: () => boolean): void {
    this.checks.set(part, check);
  }

  report(): { ready: boolean; parts: Record<string, boolean>; failing: string[] } {
    const all: ReadinessPart[] = ['stores', 'broker', 'http', 'nodeRed'];
    const parts = Object.fromEntries(all.map((p) => [p, this.checks.get(p)?.() ?? false]));
    const failing = all.filter((p) => !parts[p]);
    return { ready: failing.length === 0, parts, failing };
  }
}
