/** The scan-encoding fixtures (scripts/bench/fixtures/scan-encodings.ts) and their encoders' presence. */
import { missingScanTools } from '../../scripts/bench/fixtures/scan-encodings.js';
import { testEnv } from './env.js';

export * from '../../scripts/bench/fixtures/scan-encodings.js';

/** Skips the suite (mandatory in CI) when an encoder is missing; true when all are there. */
export function scanToolsOrSkip(ctx: Mocha.Context): boolean {
  const missing = missingScanTools();
  if (missing.length === 0) return true;
  if (testEnv.ci) throw new Error(`${missing.join(', ')} missing: mandatory in CI (apt-get install libtiff-tools libopenjp2-tools)`);
  console.warn(`    ! ${missing.join(', ')} missing (Debian libtiff-tools, libopenjp2-tools): SKIPPED`);
  ctx.skip();
  return false;
}
