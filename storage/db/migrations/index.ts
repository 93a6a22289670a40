import foundation from './001-foundation.js';

/** Applied in order, each once, each in its own transaction. Never edit one that has shipped. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'foundation', sql: foundation },
];
