/**
 * `npm run bench -- --only suites-crypto`: the primitives of the two signature suites side by side,
 * in this process on one core: SM3 vs SHA-256 throughput (page-sized and 64-byte Merkle inputs),
 * SM2 vs Ed25519 JWS sign and verify per second over a page statement's size. Prints markdown.
 */
import { createHash, hash as oneShotHash, randomBytes } from 'node:crypto';
import { generateEd25519, ed25519Signer } from '../../dossier/signing/ed25519.js';
import { generateSm2, sm2Signer } from '../../dossier/signing/sm2.js';
import { verifyCompactJws } from '../../dossier/signing/verify-jws.js';

/** Runs `fn` repeatedly for about `ms` (after a warm-up); returns calls per second. */
async function rate(fn: () => unknown, ms = 2000): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

export async function cryptoSuitesBench(): Promise<string> {
  const page = randomBytes(230 * 1024); // the benchmark dossier's mean page
  const node = randomBytes(65); // 0x01 ‖ left ‖ right
  const rows: string[] = ['| digest | 230 kB pages/s | MB/s | 65-byte Merkle nodes/s |', '|---|---|---|---|'];
  for (const alg of ['sha256', 'sm3']) {
    const pages = await rate(() => createHash(alg).update(page).digest());
    const nodes = await rate(() => oneShotHash(alg, node, 'buffer'), 1000);
    rows.push(`| ${alg.toUpperCase()} | ${pages.toFixed(0)} | ${((pages * page.length) / 1e6).toFixed(0)} | ${nodes.toFixed(0)} |`);
  }
  // A page statement's canonical JSON is ~250 bytes; a manifest of 5,253 pages ~590 kB.
  const statement = Buffer.from(JSON.stringify({ v: 1, dossier: 'x'.repeat(36), case: 'y'.repeat(36), index: 1234, sha256: 'a'.repeat(64), sm3: 'b'.repeat(64), size: 234567, mediaType: 'image/jpeg' }));
  const manifest = randomBytes(590 * 1024).toString('base64url').slice(0, 590 * 1024);
  const ed = await generateEd25519();
  const sm = await generateSm2();
  const suites = [
    { name: 'Ed25519 (EdDSA, node:crypto via jose)', signer: ed25519Signer(ed.pair), jwks: { keys: [ed.pair.publicJwk] }, alg: 'EdDSA' },
    { name: 'SM2 with SM3 (sm-crypto-v2)', signer: sm2Signer(sm.pair), jwks: { keys: [sm.pair.publicJwk] }, alg: 'SM2' },
  ];
  rows.push('', '| signature | sign/s (statement) | verify/s (statement) | sign ms (590 kB manifest) | verify ms (590 kB manifest) |', '|---|---|---|---|---|');
  for (const s of suites) {
    const jws = await s.signer.sign(statement);
    const sign = await rate(() => s.signer.sign(statement));
    const verify = await rate(() => verifyCompactJws(jws, s.jwks, [s.alg]));
    const big = await s.signer.sign(Buffer.from(manifest));
    const signBig = 1000 / (await rate(() => s.signer.sign(Buffer.from(manifest)), 3000));
    const verifyBig = 1000 / (await rate(() => verifyCompactJws(big, s.jwks, [s.alg]), 3000));
    rows.push(`| ${s.name} | ${sign.toFixed(0)} | ${verify.toFixed(0)} | ${signBig.toFixed(1)} | ${verifyBig.toFixed(1)} |`);
  }
  return rows.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await cryptoSuitesBench()}\n`);
}
