/**
 * Where a migration's time goes, per dossier, as the CLI sees it: summed wall time of each phase
 * over the items that went through it (phases overlap across items: these are costs, not a
 * timeline). Printed in the `--json` summary line, so a slow run can be told apart: case lookups,
 * hashing, the server's hash check, the upload, or the wait for the server's seal.
 */
export type Phase = 'room' | 'case' | 'hash' | 'heldCheck' | 'upload' | 'seal';

export class MigratePhases {
  private readonly ms = new Map<Phase, { total: number; count: number }>();

  async time<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      const p = this.ms.get(phase) ?? { total: 0, count: 0 };
      p.total += performance.now() - t0;
      p.count++;
      this.ms.set(phase, p);
    }
  }

  /** Mean milliseconds per item and how many items, by phase. */
  summary(): Record<string, { meanMs: number; count: number }> {
    const out: Record<string, { meanMs: number; count: number }> = {};
    for (const [phase, p] of this.ms) out[phase] = { meanMs: Math.round((p.total / p.count) * 10) / 10, count: p.count };
    return out;
  }
}
