/**
 * One PostgreSQL dialect, two engines: PGlite (embedded, WASM, in DATA_DIR) and a real
 * PostgreSQL server (DATABASE_URL). Repositories see only this interface.
 */
import type { Transactions, Tx } from '../../dossier/ports/transactions.js';

export type SqlParam = string | number | boolean | null | Date | Buffer | readonly (string | null)[] | readonly number[];

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Several statements in one string, no parameters (migrations). */
  exec(sql: string): Promise<void>;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * The embedded engine only: a consistent copy of its data directory, a gzipped tar taken between
   * two transactions (`dossier backup`). A server's database is backed up with its own tools.
   */
  snapshot?(): Promise<Blob>;
}

/** The queryable behind a domain transaction handle (dossier/ports/transactions.ts). */
export const txQueryable = (tx: Tx): Queryable => tx as unknown as Queryable;

/** Runs `fn` in the caller's transaction when given, else in a transaction of its own. */
export function inTransaction<T>(db: Database, within: Tx | undefined, fn: (q: Queryable) => Promise<T>): Promise<T> {
  return within ? fn(txQueryable(within)) : db.transaction(fn);
}

const commitHooks = new WeakMap<object, (() => void)[]>();

/**
 * Runs `hook` once the transaction behind `tx` has committed (never if it rolls back): a wake-up
 * sent earlier would reach a worker on another connection before the rows it should find. At once
 * for a transaction that SqlTransactions did not open.
 */
export function afterCommit(tx: Tx, hook: () => void): void {
  const hooks = commitHooks.get(tx);
  if (hooks) hooks.push(hook);
  else hook();
}

/** The unit of work over this database. */
export class SqlTransactions implements Transactions {
  constructor(private readonly db: Database) {}

  async run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const hooks: (() => void)[] = [];
    const result = await this.db.transaction((q) => {
      commitHooks.set(q, hooks);
      return fn(q as unknown as Tx);
    });
    for (const hook of hooks) hook();
    return result;
  }
}

/** Where a single statement runs: the caller's transaction when given, else the database. */
export const queryableIn = (db: Database, within: Tx | undefined): Queryable => (within ? txQueryable(within) : db);
