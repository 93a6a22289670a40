/**
 * The tus locker shared by every gateway process on one PostgreSQL: an upload's lock is a
 * session-level advisory lock held on a connection of its own for the length of the request, so
 * a gateway that dies frees its locks with its connections. A request that finds the lock taken
 * asks the holder to let go (tus: a new request for an upload ends the stale one, e.g. a client
 * that reconnected to another gateway) with NOTIFY; every gateway LISTENs and cancels its own
 * request for that upload. The waiter polls until the lock is free or its time is up.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import type { Log } from '../../dossier/ports/log.js';

const CHANNEL = 'dossier_tus_release';
const POLL_MS = 50;
/** While waiting, the holder is asked again this often (a notice can cross its LISTEN starting). */
const ASK_AGAIN_MS = 1_000;

/** The advisory lock key of an upload: 63 bits of SHA-256, in a namespace of its own. */
export function lockKey(uploadId: string): string {
  return BigInt.asIntN(64, BigInt(`0x${createHash('sha256').update(`tus-upload:${uploadId}`).digest('hex').slice(0, 16)}`)).toString();
}

export class PgUploadLocker implements Locker {
  /** Requests of this process holding a lock, by upload id: told to let go when another asks. */
  readonly held = new Map<string, RequestRelease>();
  /** Connections holding a lock: closed with the locker, which frees their locks on the server. */
  readonly holding = new Set<pg.PoolClient>();
  private listener: pg.Client | null = null;
  private listening: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly url: string,
    readonly pool: pg.Pool,
    readonly acquireTimeoutMs: number,
    private readonly log: Log,
  ) {}

  /**
   * Connects nothing until the first lock is asked for (a `dossier worker` composes one and never
   * uses it). `maxLocks`: uploads this process may hold at once (one connection each).
   */
  static create(url: string, o: { log: Log; acquireTimeoutMs?: number; maxLocks?: number }): PgUploadLocker {
    const pool = new pg.Pool({ connectionString: url, max: o.maxLocks ?? 64, idleTimeoutMillis: 30_000 });
    return new PgUploadLocker(url, pool, o.acquireTimeoutMs ?? 30_000, o.log);
  }

  /** A locker already listening for release requests. */
  static async open(url: string, o: { log: Log; acquireTimeoutMs?: number; maxLocks?: number }): Promise<PgUploadLocker> {
    const locker = PgUploadLocker.create(url, o);
    await locker.ready();
    return locker;
  }

  /** Resolves once this process hears release requests (a failed start is tried again next time). */
  ready(): Promise<void> {
    this.listening ??= this.listen(this.url).catch((err: unknown) => {
      this.listening = null;
      throw err;
    });
    return this.listening;
  }

  private async listen(url: string): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    client.on('notification', (n) => {
      const release = n.payload ? this.held.get(n.payload) : undefined;
      if (release) Promise.resolve(release()).catch((err: unknown) => this.log.warn({ err, upload: n.payload }, 'releasing an upload lock failed'));
    });
    // A lost listener only means slower hand-overs (waiters time out instead); say so, reconnect.
    client.on('error', (err) => {
      if (this.closed) return;
      this.log.warn({ err }, 'upload lock listener lost; reconnecting');
      this.listener = null;
      this.listening = null;
      setTimeout(() => void this.ready().catch(() => {}), 1_000).unref();
    });
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  newLock(id: string): Lock {
    return new PgUploadLock(this, id);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listening?.catch(() => {});
    const l = this.listener;
    this.listener = null;
    l?.removeAllListeners('error');
    await l?.end().catch(() => {});
    for (const c of this.holding) c.release(new Error('upload locker closed'));
    this.holding.clear();
    this.held.clear();
    await this.pool.end();
  }
}

class PgUploadLock implements Lock {
  private client: pg.PoolClient | null = null;

  constructor(
    private readonly locker: PgUploadLocker,
    private readonly id: string,
  ) {}

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    await this.locker.ready();
    const key = lockKey(this.id);
    const client = await this.locker.pool.connect();
    const deadline = Date.now() + this.locker.acquireTimeoutMs;
    let asked = 0;
    try {
      for (;;) {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
        if (rows[0]?.ok) break;
        if (signal.aborted || Date.now() > deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
        if (Date.now() - asked >= ASK_AGAIN_MS) {
          asked = Date.now();
          await client.query('SELECT pg_notify($1, $2)', [CHANNEL, this.id]);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } catch (err) {
      client.release();
      throw err;
    }
    this.client = client;
    this.locker.holding.add(client);
    this.locker.held.set(this.id, requestRelease);
  }

  async unlock(): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('Releasing an unlocked lock!');
    this.client = null;
    // Already let go of by a closing locker: its connection, and so the lock, is gone.
    if (!this.locker.holding.delete(client)) return;
    this.locker.held.delete(this.id);
    try {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey(this.id)]);
      client.release();
    } catch (err) {
      // A connection that failed is dropped, which releases its session's locks on the server.
      client.release(err as Error);
    }
  }
}
