/**
 * Background work yields to a person waiting. A download (the export ZIP) marks itself in the
 * foreground while it streams, an upload while its PATCH (or creation-with-upload POST) runs, an
 * ingest while its job runs (a migration's seals are what its operator waits for). OCR asks for a
 * turn before each page it recognises, and the thumbnail jobs before each thumbnail they draw.
 * With nothing in the foreground every page goes at once (up to the engine's workers); while
 * anything is in it, at most `whileBusy` pages are worked on at a time (default 1 of 2 cores), so
 * the foreground keeps a core without OCR ever stopping: a download (or a migration) that never
 * ends slows OCR, never starves it. Pages already under way finish; only new ones wait.
 */
export interface ForegroundGateOptions {
  /** Pages recognised at once while anything is in the foreground (≥ 1). */
  readonly whileBusy: number;
}

export class ForegroundGate {
  private readonly whileBusy: number;
  private foregroundCount = 0;
  private running = 0;
  private readonly waiting: { go: () => void; signal?: AbortSignal; onAbort?: () => void }[] = [];

  constructor(options: ForegroundGateOptions = { whileBusy: 1 }) {
    this.whileBusy = Math.max(1, Math.floor(options.whileBusy));
  }

  /** Marks one foreground task (a download) under way; call the result when it ends (once is enough). */
  foreground(): () => void {
    this.foregroundCount += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.foregroundCount -= 1;
      this.wake();
    };
  }

  get busy(): boolean {
    return this.foregroundCount > 0;
  }

  /** Background tasks under way now: for tests and metrics. */
  get inFlight(): number {
    return this.running;
  }

  /** Background tasks waiting for a turn: for tests and metrics. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Waits for a background turn; the result gives it back. Rejects with the signal's reason. */
  async turn(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.mayStart()) this.running += 1;
    else {
      // wake() counts the turn before it resolves: two wakes in a row must not both see room.
      await new Promise<void>((resolve, reject) => {
        const entry: (typeof this.waiting)[number] = { go: resolve, signal };
        if (signal) {
          entry.onAbort = () => {
            const i = this.waiting.indexOf(entry);
            if (i >= 0) this.waiting.splice(i, 1);
            reject(signal.reason);
          };
          signal.addEventListener('abort', entry.onAbort, { once: true });
        }
        this.waiting.push(entry);
      });
    }
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.running -= 1;
      this.wake();
    };
  }

  private mayStart(): boolean {
    return this.foregroundCount === 0 || this.running < this.whileBusy;
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.mayStart()) {
      const next = this.waiting.shift()!;
      if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
      this.running += 1;
      next.go();
    }
  }
}
