/**
 * What the test suites read from the environment, in one place. CI=true makes the suites that
 * need a system part (PostgreSQL) mandatory instead of skipped.
 */
export const testEnv = {
  ci: process.env.CI === 'true',
  /** A PostgreSQL server for the scale-out wiring's suites. */
  postgresUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  corpusDir: process.env.CORPUS_DIR,
  merkleVectorsDir: process.env.MERKLE_VECTORS_DIR,
  /** Run the slow suites (1 GB upload): always in CI, otherwise on request. */
  slow: process.env.CI === 'true' || process.env.SLOW_TESTS === '1',
  /**
   * The migrate kill-and-rerun suite (test/cli-migrate-scale.test.ts). Default (and CI): 150 cases
   * killed three times at concurrency 8, 24 cases killed once at 1 and at 32, about two minutes.
   * MIGRATE_SCALE_CASES=2000: that many cases at each of 1, 8 and 32, killed MIGRATE_SCALE_KILLS
   * times each (default 3 then), for the thousands-of-cases run (tens of minutes).
   */
  migrateScaleCases: Number(process.env.MIGRATE_SCALE_CASES ?? 150),
  migrateScaleSideCases: Number(process.env.MIGRATE_SCALE_CASES ?? 24),
  migrateScaleSideKills: Number(process.env.MIGRATE_SCALE_KILLS ?? (process.env.MIGRATE_SCALE_CASES ? 3 : 1)),
  migrateScaleKills: Number(process.env.MIGRATE_SCALE_KILLS ?? 3),
  /** test/ingest-statements.test.ts prints each statement's count per dossier (SHOW_STATEMENTS=1). */
  showStatements: process.env.SHOW_STATEMENTS === '1',
  /** Fuzzing (`npm run test:fuzz`): runs over all its properties, and the seed (`random`: a new one, printed). */
  fuzzRuns: Number(process.env.FUZZ_RUNS ?? 2000),
  fuzzSeed: process.env.FUZZ_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED ?? 17),
  /** Tamper evidence (`npm run test:tamper`): single-byte changes in all, and their seed. */
  tamperRuns: Number(process.env.TAMPER_RUNS ?? 1000),
  tamperSeed: Number(process.env.TAMPER_SEED ?? process.env.FUZZ_SEED ?? 17),
  /** Shrink a failing HTTP fuzz case to a smallest one (slow: every try is a round of requests). */
  fuzzShrink: process.env.FUZZ_SHRINK === '1',
  /** `postgres-s3`: test gateways run on PostgreSQL and S3 instead of the embedded default (test/support/wiring.ts). */
  wiring: process.env.TEST_WIRING === 'postgres-s3' ? ('postgres-s3' as const) : ('embedded' as const),
  /** A real S3 server (MinIO…) for the S3 suites (`npm run test:s3`); unset: s3rver, started by the tests. */
  s3: {
    endpoint: process.env.TEST_S3_ENDPOINT,
    region: process.env.TEST_S3_REGION ?? 'us-east-1',
    accessKeyId: process.env.TEST_S3_ACCESS_KEY_ID,
    secretAccessKey: process.env.TEST_S3_SECRET_ACCESS_KEY,
  },
};
