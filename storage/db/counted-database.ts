/**
 * Counts the database round trips of this process: statements outside a transaction, statements
 * inside one, and transactions (each a BEGIN and a COMMIT more). On the embedded database every
 * statement is CPU of the gateway's main thread, so these counts are the per-dossier fixed cost
 * an operator (and the migrate benchmark) reads from /metrics.
 */
import type { Database, Queryable } from './database.js';

export interface DatabaseCounts {
  statements: number;
  statementsInTransactions: number;
  transactions: number;
}

/** Told of every statement (its SQL text) and whether it ran inside a transaction: for tests and benchmarks. */
export type StatementWatcher = (sql: string, inTransaction: boolean) => void;

export function countedDatabase(db: Database): { db: Database; counts: Readonly<DatabaseCounts>; watch(fn: StatementWatcher): () => void } {
  const counts: DatabaseCounts = { statements: 0, statementsInTransactions: 0, transactions: 0 };
  const watchers = new Set<StatementWatcher>();
  const tell = (sql: string, inTransaction: boolean) => {
    for (const w of watchers) w(sql, inTransaction);
  };
  const counted: Database = {
    kind: db.kind,
    query(sql, params) {
      counts.statements++;
      if (watchers.size) tell(sql, false);
      return db.query(sql, params);
    },
    exec(sql) {
      counts.statements++;
      if (watchers.size) tell(sql, false);
      return db.exec(sql);
    },
    transaction(fn) {
      counts.transactions++;
      if (watchers.size) tell('BEGIN … COMMIT', false);
      return db.transaction((tx) => {
        const inner: Queryable = {
          query(sql, params) {
            counts.statementsInTransactions++;
            if (watchers.size) tell(sql, true);
            return tx.query(sql, params);
          },
        };
        return fn(inner);
      });
    },
    close: () => db.close(),
    // The embedded engine's snapshot (`dossier backup`) is one operation, not a statement.
    ...(db.snapshot ? { snapshot: () => db.snapshot!() } : {}),
  };
  return {
    db: counted,
    counts,
    watch(fn) {
      watchers.add(fn);
      return () => void watchers.delete(fn);
    },
  };
}
