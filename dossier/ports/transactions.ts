/**
 * A unit of work: a state change and its audit event commit together or not at all, so a crash
 * can never leave a change the chain does not show (or an event for a change that never was).
 * The transaction is opaque here; storage adapters that take `within?: Tx` run in it.
 */
declare const txBrand: unique symbol;

/** An open transaction of the database. Only storage adapters look inside. */
export interface Tx {
  readonly [txBrand]: true;
}

export interface Transactions {
  run<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}
