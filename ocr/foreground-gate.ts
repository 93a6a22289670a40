/**
 * Background work yields to a person waiting. OCR asks for a turn before each page it recognises,
 * and the thumbnail jobs before each thumbnail they draw. Two kinds of foreground work:
 *
 * - a download (the export ZIP, a page, a signed link) while it streams: at most `whileBusy`
 *   background pages at a time (default 1 of 2 cores), so the download keeps a core and OCR goes
 *   on beside it: a download that never ends slows OCR, never starves it;
 * - intake, an upload while its PATCH (or creation-with-upload POST) runs and an ingest while its
 *   job runs: a migration's operator waits for its seals, and the OCR backlog a migration creates
 *   must not slow the migration (issue 18). At most `whileIntake` pages (default 0), but one page
 *   still starts once none has started for `trickleMs`, so an intake that never ends leaves OCR a
 *   trickle (one page per 20 s by default: about 5 % of a core), never nothing.
 *
 * With nothing in the foreground every page goes at once (up to the engine's workers). Pages
 * already under way finish; only new ones wait.
 */
export interface ForegroundGateOptions {
  /** Pages worked on at once while a download streams (≥ 1). */
  readonly whileBusy: number;
  /** Pages worked on at once while an upload or an ingest runs (≥ 0; default 0). */
  readonly whileIntake?: number;
  /** While intake holds every page back: one may start when none has for this long (default 20 s). */
  readonly trickleMs?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

interface Waiter {
  readonly go: () => void;
  readonly fail: (reason: unknown) => void;
  readonly signal?: AbortSignal;
}

/** What a foreground mark stands for: someone downloading, or a dossier coming in. */
export type ForegroundKind = 'download' | 'intake';

export class ForegroundGate {
  private readonly whileBusy: number;
  private readonly whileIntake: number;
  private readonly trickleMs: number;
  private readonly now: () => number;
  private readonly marks = { download: 0, intake: 0 };
  private running = 0;
  private lastStart = Number.NEGATIVE_INFINITY;
  private trickleTimer: NodeJS.Timeout | null = null;
  private readonly waiting: Waiter[] = [];
  /** One abort listener per signal, however many pages wait with it (a job's pages share one). */
  private readonly bySignal = new Map<AbortSignal, { waiters: Set<Waiter>; onAbort: () => void }>();

  constructor(options: ForegroundGateOptions = { whileBusy: 1 }) {
    this.whileBusy = Math.max(1, Math.floor(options.whileBusy));
    this.whileIntake = Math.max(0, Math.floor(options.whileIntake ?? 0));
    this.trickleMs = Math.max(1, options.trickleMs ?? 20_000);
    this.now = options.now ?? Date.now;
  }

  /** Marks one foreground task under way; call the result when it ends (once is enough). */
  foreground(kind: ForegroundKind = 'download'): () => void {
    this.marks[kind] += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.marks[kind] -= 1;
      this.wake();
    };
  }

  get busy(): boolean {
    return this.marks.download + this.marks.intake > 0;
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
    if (this.waiting.length === 0 && this.mayStart()) this.start();
    else {
      // wake() counts the turn before it resolves: two wakes in a row must not both see room.
      await new Promise<void>((resolve, reject) => {
        const entry: Waiter = { go: resolve, fail: reject, signal };
        if (signal) this.watch(signal, entry);
        this.waiting.push(entry);
        this.armTrickle();
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

  /** Stops the trickle's timer (a gateway that stops leaves no timer behind). */
  close(): void {
    if (this.trickleTimer) clearTimeout(this.trickleTimer);
    this.trickleTimer = null;
  }

  private start(): void {
    this.running += 1;
    this.lastStart = this.now();
  }

  private mayStart(): boolean {
    if (this.marks.intake > 0) return this.running < this.whileIntake || (this.running === 0 && this.trickleDue() <= 0);
    if (this.marks.download > 0) return this.running < this.whileBusy;
    return true;
  }

  /** Milliseconds until the trickle lets one page start (≤ 0: now). */
  private trickleDue(): number {
    return this.lastStart + this.trickleMs - this.now();
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.mayStart()) {
      const next = this.waiting.shift()!;
      if (next.signal) this.unwatch(next.signal, next);
      this.start();
      next.go();
    }
    this.armTrickle();
  }

  private watch(signal: AbortSignal, entry: Waiter): void {
    let watched = this.bySignal.get(signal);
    if (!watched) {
      const onAbort = () => {
        this.bySignal.delete(signal);
        for (const w of watched!.waiters) {
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          w.fail(signal.reason);
        }
      };
      watched = { waiters: new Set(), onAbort };
      this.bySignal.set(signal, watched);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    watched.waiters.add(entry);
  }

  private unwatch(signal: AbortSignal, entry: Waiter): void {
    const watched = this.bySignal.get(signal);
    if (!watched) return;
    watched.waiters.delete(entry);
    if (watched.waiters.size > 0) return;
    this.bySignal.delete(signal);
    signal.removeEventListener('abort', watched.onAbort);
  }

  /** While intake holds pages back, a timer lets the next one through when the trickle is due. */
  private armTrickle(): void {
    if (this.trickleTimer || this.waiting.length === 0 || this.marks.intake === 0) return;
    this.trickleTimer = setTimeout(() => {
      this.trickleTimer = null;
      this.wake();
    }, Math.max(1, this.trickleDue()));
    this.trickleTimer.unref();
  }
}
