/**
 * One PostgreSQL dialect, two engines: PGlite (embedded, WASM, in DATA_DIR) and a real
 * PostgreSQL server (DATABASE_URL). Repositories see only this interface.
 */
export type SqlParam = string | number | boolean | null | Date | Buffer | readonly string[] | readonly number[];

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Several statements in one string, no parameters (migrations). */
  exec(sql: string): Promise<void>;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
