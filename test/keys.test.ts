import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet } from 'jose';
import { FileKeyRing } from '../storage/keys/file-keyring.js';
import { tempDir } from './support/fixtures.js';

describe('signing keys', () => {
  let dir: string;
  beforeEach(async () => (dir = await tempDir('keys-')));
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('creates an Ed25519 key on first open, private file mode 0600, kid = RFC 7638 thumbprint', async () => {
    const ring = await FileKeyRing.open(dir, { create: true });
    const [jwk] = ring.publicJwks().keys;
    expect(jwk).to.include({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(jwk!.kid).to.equal(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk!.x! }));
    const st = await fs.stat(path.join(dir, `${jwk!.kid}.jwk.json`));
    expect(st.mode & 0o777).to.equal(0o600);
    expect(JSON.stringify(ring.publicJwks())).not.to.contain('"d"');
  });

  it('refuses to invent keys when asked not to', async () => {
    const err = await FileKeyRing.open(dir, { create: false }).catch((e: unknown) => e);
    expect(String(err)).to.contain('keys generate');
  });

  it('rotates: old signatures still verify with the published set, new ones use the new key', async () => {
    const ring = await FileKeyRing.open(dir, { create: true });
    const before = await ring.current().sign(Buffer.from('old'));
    await ring.rotate();
    const after = await ring.current().sign(Buffer.from('new'));
    const reopened = await FileKeyRing.open(dir, { create: false });
    const jwks = createLocalJWKSet(reopened.publicJwks() as never);
    expect(reopened.list()).to.have.length(2);
    expect(reopened.list()[0]!.retiredAt).to.be.a('string');
    for (const [jws, text] of [[before, 'old'], [after, 'new']] as const) {
      const { payload } = await compactVerify(jws, jwks);
      expect(Buffer.from(payload).toString()).to.equal(text);
    }
  });
});
