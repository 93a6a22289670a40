/**
 * One contract for every signer: Ed25519 and SM2 pass the same tests, through the same key ring,
 * the same verifier and the same JWKS, so the suite is a configuration choice and nothing else.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeProtectedHeader, type JWK } from 'jose';
import { SUITE_ALG, SIGNATURE_SUITES, type SignatureSuite } from '../dossier/signing/suite.js';
import { verifyCompactJws } from '../dossier/signing/verify-jws.js';
import { FileKeyRing } from '../storage/keys/file-keyring.js';
import { tempDir } from './support/fixtures.js';

const bareOf = (jwk: JWK): JWK => (jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x });
const ALL_ALGS = Object.values(SUITE_ALG);

/** Changes one byte of one base64url part of a compact JWS (0 header, 1 payload, 2 signature). */
function flipByte(jws: string, part: 0 | 1 | 2, at = 0): string {
  const parts = jws.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[at % bytes.length]! ^= 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

for (const suite of SIGNATURE_SUITES) {
  describe(`signer contract: ${suite}`, () => {
    let dir: string;
    let ring: FileKeyRing;
    beforeEach(async () => {
      dir = await tempDir(`signer-${suite}-`);
      ring = await FileKeyRing.open(dir, { create: true, suite });
    });
    afterEach(() => fs.rm(dir, { recursive: true, force: true }));

    it('names its suite and alg; kid is the RFC 7638 thumbprint of the published public JWK, with no private part', async () => {
      const signer = ring.current();
      expect(signer.suite).to.equal(suite);
      expect(signer.alg).to.equal(SUITE_ALG[suite]);
      const [jwk] = ring.publicJwks().keys;
      expect(jwk).to.include({ kid: signer.kid, alg: SUITE_ALG[suite], use: 'sig' });
      expect(await calculateJwkThumbprint(bareOf(jwk!))).to.equal(signer.kid);
      expect(JSON.stringify(ring.publicJwks())).not.to.contain('"d"');
      expect((await fs.stat(path.join(dir, `${signer.kid}.jwk.json`))).mode & 0o777).to.equal(0o600);
    });

    it('signs a compact JWS {alg, kid} that verifies with the JWKS and gives back the exact payload', async () => {
      const payload = Buffer.from(JSON.stringify({ v: 1, hello: '案卷', n: 5253 }));
      const jws = await ring.current().sign(payload);
      expect(jws.split('.')).to.have.length(3);
      expect(decodeProtectedHeader(jws)).to.deep.equal({ alg: SUITE_ALG[suite], kid: ring.current().kid });
      const v = await verifyCompactJws(jws, ring.publicJwks(), ALL_ALGS);
      expect(Buffer.from(v.payload).equals(payload)).to.equal(true);
      expect(v.protectedHeader.kid).to.equal(ring.current().kid);
    });

    it('carries an extra typ in the protected header', async () => {
      const jws = await ring.current().sign(Buffer.from('{}'), { typ: 'JWT' });
      expect(decodeProtectedHeader(jws)).to.deep.equal({ typ: 'JWT', alg: SUITE_ALG[suite], kid: ring.current().kid });
      await verifyCompactJws(jws, ring.publicJwks(), ALL_ALGS);
    });

    it('two signatures of the same payload both verify (SM2 is randomised, Ed25519 deterministic)', async () => {
      const signer = ring.current();
      const [a, b] = [await signer.sign(Buffer.from('same')), await signer.sign(Buffer.from('same'))];
      for (const jws of [a, b]) await verifyCompactJws(jws, ring.publicJwks(), ALL_ALGS);
      expect(a === b).to.equal(suite === 'ed25519-sha256');
    });

    for (const [part, name] of [[0, 'header'], [1, 'payload'], [2, 'signature']] as const) {
      it(`refuses a one-byte change in the ${name}`, async () => {
        const jws = await ring.current().sign(Buffer.from(JSON.stringify({ v: 1, page: 17, sha256: 'ab'.repeat(32) })));
        for (const at of [0, 5, 31]) {
          const bad = flipByte(jws, part, at);
          const err = await verifyCompactJws(bad, ring.publicJwks(), ALL_ALGS).then(() => null, (e: unknown) => e);
          expect(err, `byte ${at} of the ${name}`).to.be.instanceOf(Error);
        }
      });
    }

    it('refuses a key it was not given, an algorithm not allowed, and a signature of the wrong length', async () => {
      const jws = await ring.current().sign(Buffer.from('x'));
      const otherDir = await tempDir('signer-other-');
      try {
        const other = await FileKeyRing.open(otherDir, { create: true, suite });
        // Same kid claimed, other key: relabel the stranger's key with our kid.
        const stranger = { keys: other.publicJwks().keys.map((k) => ({ ...k, kid: ring.current().kid })) };
        expect(await verifyCompactJws(jws, stranger, ALL_ALGS).then(() => 'ok', () => 'refused')).to.equal('refused');
      } finally {
        await fs.rm(otherDir, { recursive: true, force: true });
      }
      const otherAlg = ALL_ALGS.filter((a) => a !== SUITE_ALG[suite]);
      expect(await verifyCompactJws(jws, ring.publicJwks(), otherAlg).then(() => 'ok', () => 'refused')).to.equal('refused');
      const [h, p, s] = jws.split('.') as [string, string, string];
      const short = `${h}.${p}.${Buffer.from(s, 'base64url').subarray(0, 63).toString('base64url')}`;
      expect(await verifyCompactJws(short, ring.publicJwks(), ALL_ALGS).then(() => 'ok', () => 'refused')).to.equal('refused');
    });

    it('rotation keeps old signatures verifiable through the reopened ring', async () => {
      const before = await ring.current().sign(Buffer.from('old'));
      await ring.rotate();
      const after = await ring.current().sign(Buffer.from('new'));
      const reopened = await FileKeyRing.open(dir, { create: false });
      expect(reopened.suite()).to.equal(suite);
      expect(reopened.list().map((k) => k.suite)).to.deep.equal([suite, suite]);
      for (const [jws, text] of [[before, 'old'], [after, 'new']] as const) {
        expect(Buffer.from((await verifyCompactJws(jws, reopened.publicJwks(), ALL_ALGS)).payload).toString()).to.equal(text);
      }
    });
  });
}

describe('key ring across a suite switch', () => {
  let dir: string;
  beforeEach(async () => (dir = await tempDir('suite-switch-')));
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('opening for another suite retires the current key for one of that suite; the JWKS keeps both', async () => {
    const first = await FileKeyRing.open(dir, { create: true, suite: 'ed25519-sha256' });
    const old = await first.current().sign(Buffer.from('sealed under ed25519'));
    const switched = await FileKeyRing.open(dir, { create: true, suite: 'sm2-sm3' });
    expect(switched.suite()).to.equal('sm2-sm3');
    const now = await switched.current().sign(Buffer.from('sealed under sm2'));
    const back = await FileKeyRing.open(dir, { create: false });
    expect(back.list().map((k) => [k.suite, k.current])).to.deep.equal([['ed25519-sha256', false], ['sm2-sm3', true]]);
    const jwks = back.publicJwks();
    expect(jwks.keys.map((k) => k.kty)).to.deep.equal(['OKP', 'EC']);
    expect(jwks.keys[1]).to.include({ crv: 'SM2', alg: 'SM2' });
    for (const jws of [old, now]) await verifyCompactJws(jws, jwks, ALL_ALGS);
    // An Ed25519 JWS still verifies with jose itself against the same published set.
    await compactVerify(old, createLocalJWKSet(jwks as never));
    // Opened without a suite (a reader), nothing rotates.
    expect((await FileKeyRing.open(dir, { create: true })).list()).to.have.length(2);
  });

  it('the current key of an SM2 ring is not handed out as an Ed25519 pair', async () => {
    const ring = await FileKeyRing.open(dir, { create: true, suite: 'sm2-sm3' as SignatureSuite });
    expect(() => ring.currentPair()).to.throw(/not Ed25519/);
  });

  it('refuses an index whose suite disagrees with the key file', async () => {
    const ring = await FileKeyRing.open(dir, { create: true, suite: 'sm2-sm3' });
    const indexFile = path.join(dir, 'index.json');
    const index = JSON.parse(await fs.readFile(indexFile, 'utf8'));
    index.keys[0].suite = 'ed25519-sha256';
    await fs.writeFile(indexFile, JSON.stringify(index));
    const err = await FileKeyRing.open(dir, { create: false }).catch((e: unknown) => e);
    expect(String(err)).to.contain(ring.current().kid);
  });
});
