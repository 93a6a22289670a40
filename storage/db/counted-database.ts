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

export function countedDatabase(db: Database): { db: Database; counts: Readonly<DatabaseCounts> } {
  const counts: DatabaseCounts = { statements: 0, statementsInTransactions: 0, transactions: 0 };
  const counted: Database = {
    kind: db.kind,
    query(sql, params) {
      counts.statements++;
      return db.query(sql, params);
    },
    exec(sql) {
      counts.statements++;
      return db.exec(sql);
    },
    transaction(fn) {
      counts.transactions++;
      return db.transaction((tx) => {
        const inner: Queryable = {
          query(sql, params) {
            counts.statementsInTransactions++;
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
  return { db: counted, counts };
}
