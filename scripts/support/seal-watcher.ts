/**
 * Waits for uploaded dossiers to leave `receiving`/`processing`, for many at once, without an
 * upload slot held per dossier: one loop polls the oldest few waiting dossiers (the server ingests
 * roughly in upload order), so the request rate stays bounded however many are waiting.
 */
import { apiJson, type DossierJson } from './resumable-upload.js';

export interface SealWatcherOptions {
  readonly server: string;
  readonly token: string;
  /** Dossiers asked about per round. */
  readonly perRound?: number;
  /** Pause after a round in which nothing finished. */
  readonly idleMs?: number;
}

interface Waiter {
  readonly id: string;
  readonly listeners: { resolve: (d: DossierJson) => void; reject: (err: Error) => void }[];
  failingSince: number | null;
}

/** A dossier that cannot be read back for this long (server gone) is given up on, and reported. */
const GIVE_UP_MS = 120_000;

export class SealWatcher {
  private readonly waiting = new Map<string, Waiter>();
  private running = false;
  private readonly perRound: number;
  private readonly idleMs: number;

  constructor(private readonly o: SealWatcherOptions) {
    this.perRound = o.perRound ?? 4;
    this.idleMs = o.idleMs ?? 100;
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Resolves once fewer than `max` dossiers are waiting: the uploads' back-pressure. */
  room(max: number): Promise<void> {
    if (this.waiting.size < max) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ max, resolve }));
  }

  private readonly roomWaiters: { max: number; resolve: () => void }[] = [];

  private left(id: string): void {
    this.waiting.delete(id);
    for (let i = 0; i < this.roomWaiters.length; i++) {
      const r = this.roomWaiters[i]!;
      if (this.waiting.size < r.max) {
        this.roomWaiters.splice(i--, 1);
        r.resolve();
      }
    }
  }

  /** Resolves with the dossier once it is sealed or rejected. */
  wait(id: string): Promise<DossierJson> {
    return new Promise((resolve, reject) => {
      const w = this.waiting.get(id) ?? { id, listeners: [], failingSince: null };
      w.listeners.push({ resolve, reject });
      this.waiting.set(id, w);
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      let idle = this.idleMs;
      while (this.waiting.size) {
        // Map iteration is insertion order: the oldest first.
        const round = [...this.waiting.values()].slice(0, this.perRound);
        const finished = await Promise.all(round.map((w) => this.check(w)));
        if (finished.some(Boolean)) idle = this.idleMs;
        else {
          // Nothing moved: ask less often (a large dossier takes a while), up to once a second.
          await new Promise((r) => setTimeout(r, idle));
          idle = Math.min(1000, idle * 2);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** True when the dossier left the wait (done or given up). */
  private async check(w: Waiter): Promise<boolean> {
    try {
      const { status, json } = await apiJson<DossierJson>(this.o.server, this.o.token, 'GET', `/api/dossiers/${w.id}`);
      if (status === 404 || status === 403) {
        // A definite answer (gone, or not ours to see): no point asking again.
        this.left(w.id);
        for (const l of w.listeners) l.reject(new Error(`GET /api/dossiers/${w.id}: ${status} ${JSON.stringify(json)}`));
        return true;
      }
      if (status !== 200) throw new Error(`GET /api/dossiers/${w.id}: ${status} ${JSON.stringify(json)}`);
      w.failingSince = null;
      if (json.status === 'receiving' || json.status === 'processing') return false;
      this.left(w.id);
      for (const l of w.listeners) l.resolve(json);
      return true;
    } catch (err) {
      w.failingSince ??= Date.now();
      if (Date.now() - w.failingSince < GIVE_UP_MS) return false;
      this.left(w.id);
      for (const l of w.listeners) l.reject(err instanceof Error ? err : new Error(String(err)));
      return true;
    }
  }
}
