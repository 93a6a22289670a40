/**
 * Failures that fuzzing found, kept as cases: the seed's format, the mutations fast-check printed,
 * what the reader did before the fix (`found`), and what it must do now (`expect`: `pages:N` or
 * a rejection code).
 */
import type { Mutation } from './mutations.js';
import type { SeedFormat } from './seed-dossiers.js';

export interface ReaderRegression {
  readonly format: SeedFormat;
  readonly mutations: readonly Mutation[];
  /** Set: the mutations apply to this entry of the ZIP seed, which is then packed again (stored). */
  readonly entry?: number;
  readonly found: string;
  readonly expect: string;
}

export const READER_REGRESSIONS: readonly ReaderRegression[] = [];

