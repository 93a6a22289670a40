/**
 * Waits for uploaded dossiers to leave `receiving`/`processing`, for many at once, without an
 * upload slot held per dossier: one loop asks about the oldest waiting dossiers, up to 100 in one
 * request (GET /api/dossiers?ids=…), so the request rate stays bounded however many are waiting.
 * A server without that route (404) is asked about the oldest few one by one, as before.
 */
import { apiJson, type DossierJson } from './resumable-upload.js';
import { dossiersStatus, STATUS_BATCH } from './dossier-status.js';

export interface SealWatcherOptions {
  readonly server: string;
  readonly token: string;
  /** Dossiers asked about per round, one request each, on a server without the batch route. */
  readonly perRound?: number;
  /** Dossiers asked about per round in one request (at most the server's 100). */
  readonly perBatch?: number;
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
  private readonly perBatch: number;
  private readonly idleMs: number;
  /** Null until the first batch answer says whether the server has the route. */
  private batch: boolean | null = null;
  /** Requests sent, for the run's closing figures. */
  requests = 0;

  constructor(private readonly o: SealWatcherOptions) {
    this.perRound = o.perRound ?? 4;
    this.perBatch = Math.min(STATUS_BATCH, o.perBatch ?? STATUS_BATCH);
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
      if (!this.running) {
        // Started on the next turn: the waits registered in this one share its first request.
        this.running = true;
        setImmediate(() => void this.loop());
      }
    });
  }

  private async loop(): Promise<void> {
    try {
      let idle = this.idleMs;
      while (this.waiting.size) {
        // Map iteration is insertion order: the oldest first.
        const batched = this.batch !== false ? await this.checkBatch([...this.waiting.values()].slice(0, this.perBatch)) : null;
        const finished = batched ?? (await Promise.all([...this.waiting.values()].slice(0, this.perRound).map((w) => this.check(w)))).some(Boolean);
        if (finished) {
          idle = this.idleMs;
          // One batch answers many: a short pause lets the next seals land before the next ask.
          if (batched !== null) await new Promise((r) => setTimeout(r, this.idleMs / 2));
        } else {
          // Nothing moved: ask less often (a large dossier takes a while), up to once a second.
          await new Promise((r) => setTimeout(r, idle));
          idle = Math.min(1000, idle * 2);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * One request for many; true when any left the wait. Null when the server has no batch route
   * (then, and from then on, one request per dossier).
   */
  private async checkBatch(round: Waiter[]): Promise<boolean | null> {
    try {
      this.requests++;
      const byId = await dossiersStatus(this.o.server, this.o.token, round.map((w) => w.id));
      if (!byId && this.batch === null) {
        this.batch = false;
        return null;
      }
      if (!byId) throw new Error('GET /api/dossiers?ids=…: 404');
      this.batch = true;
      let moved = false;
      for (const w of round) {
        const d = byId.get(w.id);
        w.failingSince = null;
        if (d && (d.status === 'receiving' || d.status === 'processing')) continue;
        moved = true;
        this.left(w.id);
        // Left out: gone, or not ours to see (as the one-by-one GET's 404 or 403).
        for (const l of w.listeners) d ? l.resolve(d) : l.reject(new Error(`GET /api/dossiers?ids=${w.id}: not found`));
      }
      return moved;
    } catch (err) {
      let moved = false;
      for (const w of round) {
        w.failingSince ??= Date.now();
        if (Date.now() - w.failingSince < GIVE_UP_MS) continue;
        moved = true;
        this.left(w.id);
        for (const l of w.listeners) l.reject(err instanceof Error ? err : new Error(String(err)));
      }
      return moved;
    }
  }

  /** True when the dossier left the wait (done or given up). */
  private async check(w: Waiter): Promise<boolean> {
    try {
      this.requests++;
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
