/**
 * The tus locker shared by every gateway process on one PostgreSQL. An upload's lock is a
 * session-level advisory lock, all of a process's on one session of its own (a connection per
 * held upload would exhaust the server's connections with a hundred uploads at once), so a
 * gateway that dies frees its locks with its connection. Within the process a second request
 * for an upload waits for the first, since the session's advisory locks are re-entrant.
 *
 * A request that finds the lock taken asks the holder to let go (tus: a new request for an
 * upload ends the stale one, e.g. of a client that reconnected to another gateway) with NOTIFY;
 * every gateway LISTENs on the same session and cancels its own request for that upload. The
 * waiter polls until the lock is free or its time is up. If the session is lost, so are its
 * locks: every request holding one is told to let go at once.
 */
import type { ConnectionOptions } from 'node:tls';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import type { Log } from '../../dossier/ports/log.js';

const CHANNEL = 'dossier_tus_release';
const POLL_MS = 50;
/** While waiting, the holder is asked again this often (a notice can cross its LISTEN starting). */
const ASK_AGAIN_MS = 1_000;

/** The advisory lock key of an upload: 64 bits of SHA-256, in a namespace of its own. */
export function lockKey(uploadId: string): string {
  return BigInt.asIntN(64, BigInt(`0x${createHash('sha256').update(`tus-upload:${uploadId}`).digest('hex').slice(0, 16)}`)).toString();
}

interface Holder {
  readonly release: RequestRelease;
  /** Resolves when the holder has unlocked. */
  readonly freed: Promise<void>;
  free(): void;
}

function holder(release: RequestRelease): Holder {
  let free!: () => void;
  const freed = new Promise<void>((r) => (free = r));
  return { release, freed, free };
}

export class PgUploadLocker implements Locker {
  /** This process's requests holding (or taking) an upload's lock. */
  readonly local = new Map<string, Holder>();
  private session: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private closed = false;

  private constructor(
    private readonly url: string,
    readonly acquireTimeoutMs: number,
    private readonly log: Log,
    private readonly tls: ConnectionOptions | false = false,
  ) {}

  /** Connects nothing until the first lock is asked for (a `dossier worker` composes one and never uses it). */
  static create(url: string, o: { log: Log; acquireTimeoutMs?: number; tls?: ConnectionOptions | false }): PgUploadLocker {
    return new PgUploadLocker(url, o.acquireTimeoutMs ?? 30_000, o.log, o.tls ?? false);
  }

  /** A locker already connected and listening for release requests. */
  static async open(url: string, o: { log: Log; acquireTimeoutMs?: number }): Promise<PgUploadLocker> {
    const locker = PgUploadLocker.create(url, o);
    await locker.connection();
    return locker;
  }

  /** The session holding this process's locks (made on first use, again after a loss). */
  connection(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('upload locker closed'));
    if (this.session) return Promise.resolve(this.session);
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.url, ssl: this.tls });
      client.on('error', (err) => this.lost(client, err));
      await client.connect();
      client.on('notification', (n) => {
        const h = n.payload ? this.local.get(n.payload) : undefined;
        if (h) Promise.resolve(h.release()).catch((err: unknown) => this.log.warn({ err, upload: n.payload }, 'releasing an upload lock failed'));
      });
      await client.query(`LISTEN ${CHANNEL}`);
      this.session = client;
      return client;
    })().finally(() => (this.connecting = null));
    return this.connecting;
  }

  /** The session is gone and its locks with it: every request that held one must stop now. */
  private lost(client: pg.Client, err: Error): void {
    if (this.session !== client) return;
    this.session = null;
    if (!this.closed) this.log.warn({ err, held: this.local.size }, 'upload lock session lost; its requests are ended');
    for (const h of this.local.values()) void Promise.resolve(h.release()).catch(() => {});
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** One query at a time on the session (pg queues them itself, but will stop doing so). */
  query<T extends pg.QueryResultRow>(session: pg.Client, sql: string, params: unknown[]): Promise<pg.QueryResult<T>> {
    const run = this.queue.then(() => session.query<T>(sql, params));
    this.queue = run.catch(() => {});
    return run;
  }

  isCurrent(session: pg.Client): boolean {
    return this.session === session;
  }

  newLock(id: string): Lock {
    return new PgUploadLock(this, id);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => {});
    const s = this.session;
    this.session = null;
    // Ending the session frees every lock it holds on the server.
    await s?.end().catch(() => {});
    for (const h of this.local.values()) h.free();
    this.local.clear();
  }
}

class PgUploadLock implements Lock {
  private mine: Holder | null = null;
  private session: pg.Client | null = null;

  constructor(
    private readonly locker: PgUploadLocker,
    private readonly id: string,
  ) {}

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const deadline = Date.now() + this.locker.acquireTimeoutMs;
    const giveUp = () => signal.aborted || Date.now() > deadline;
    // First this process's own holder, if any: asked to let go, then waited for.
    for (let h = this.locker.local.get(this.id); h; h = this.locker.local.get(this.id)) {
      await h.release();
      const waited = await Promise.race([h.freed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, deadline - Date.now())).unref())]);
      if (!waited || giveUp()) throw ERRORS.ERR_LOCK_TIMEOUT;
    }
    const mine = holder(requestRelease);
    this.locker.local.set(this.id, mine);
    try {
      const key = lockKey(this.id);
      let asked = 0;
      for (;;) {
        const session = await this.locker.connection();
        const { rows } = await this.locker.query<{ ok: boolean }>(session, 'SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
        if (rows[0]?.ok) {
          this.session = session;
          break;
        }
        if (giveUp()) throw ERRORS.ERR_LOCK_TIMEOUT;
        if (Date.now() - asked >= ASK_AGAIN_MS) {
          asked = Date.now();
          await this.locker.query(session, 'SELECT pg_notify($1, $2)', [CHANNEL, this.id]);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } catch (err) {
      this.locker.local.delete(this.id);
      mine.free();
      throw err;
    }
    this.mine = mine;
  }

  async unlock(): Promise<void> {
    const mine = this.mine;
    if (!mine) throw new Error('Releasing an unlocked lock!');
    this.mine = null;
    const session = this.session;
    this.session = null;
    try {
      // A lost session took the lock with it; otherwise give it back on the server.
      if (session && this.locker.isCurrent(session)) await this.locker.query(session, 'SELECT pg_advisory_unlock($1::bigint)', [lockKey(this.id)]);
    } catch {
      // The session failed under us: its locks are gone with it.
    } finally {
      if (this.locker.local.get(this.id) === mine) this.locker.local.delete(this.id);
      mine.free();
    }
  }
}
