/**
 * Keys on disk, outside the database: one private JWK file per key (mode 0600) and an index that
 * names the current key and the retired ones. Rotation adds a key and retires the old one; a
 * retired key's public half stays published so that what it signed stays verifiable.
 *
 * Keys are Ed25519 or SM2 (the signature suite). Opened for a suite whose key is not the current
 * one, the ring rotates to a new key of that suite: switching SIGNATURE_SUITE retires the old
 * suite's key, which stays in the JWKS, so dossiers sealed before stay verifiable.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { JWK } from 'jose';
import { ed25519FromPrivateJwk, ed25519Signer, generateEd25519, type Ed25519KeyPair } from '../../dossier/signing/ed25519.js';
import type { KeyRing, PublicJwks, Signer } from '../../dossier/signing/signer.js';
import { generateSm2, sm2FromPrivateJwk, sm2Signer, type Sm2KeyPair } from '../../dossier/signing/sm2.js';
import { DEFAULT_SUITE, type SignatureSuite } from '../../dossier/signing/suite.js';

interface KeyIndex {
  current: string;
  /** `suite` absent: an Ed25519 key written before there were suites. */
  keys: { kid: string; createdAt: string; retiredAt: string | null; suite?: SignatureSuite }[];
}

export interface KeyInfo {
  readonly kid: string;
  readonly suite: SignatureSuite;
  readonly createdAt: string;
  readonly retiredAt: string | null;
  readonly current: boolean;
}

type RingPair = { readonly suite: 'ed25519-sha256'; readonly pair: Ed25519KeyPair } | { readonly suite: 'sm2-sm3'; readonly pair: Sm2KeyPair };

async function pairFromJwk(jwk: JWK): Promise<RingPair> {
  if (jwk.kty === 'EC' && jwk.crv === 'SM2') return { suite: 'sm2-sm3', pair: await sm2FromPrivateJwk(jwk) };
  return { suite: 'ed25519-sha256', pair: await ed25519FromPrivateJwk(jwk) };
}

async function generate(suite: SignatureSuite): Promise<{ ring: RingPair; privateJwk: JWK }> {
  if (suite === 'sm2-sm3') {
    const { pair, privateJwk } = await generateSm2();
    return { ring: { suite, pair }, privateJwk };
  }
  const { pair, privateJwk } = await generateEd25519();
  return { ring: { suite, pair }, privateJwk };
}

export class FileKeyRing implements KeyRing {
  private constructor(
    private readonly dir: string,
    private index: KeyIndex,
    private pairs: Map<string, RingPair>,
  ) {}

  /**
   * Opens the key ring in `dir`, creating it with a first key when `create` and it is empty.
   * With `suite` and `create`, a current key of another suite is retired for a new one of `suite`.
   */
  static async open(dir: string, options: { create: boolean; suite?: SignatureSuite }): Promise<FileKeyRing> {
    const index = await readIndex(dir);
    if (!index) {
      if (!options.create) throw new Error(`no signing keys in ${dir}: run \`dossier keys generate\``);
      const ring = new FileKeyRing(dir, { current: '', keys: [] }, new Map());
      await ring.rotate(options.suite);
      return ring;
    }
    const pairs = new Map<string, RingPair>();
    for (const k of index.keys) {
      const jwk = JSON.parse(await fs.readFile(keyFile(dir, k.kid), 'utf8')) as JWK;
      const ring = await pairFromJwk(jwk);
      if (ring.pair.kid !== k.kid) throw new Error(`key file ${keyFile(dir, k.kid)} holds key ${ring.pair.kid}`);
      if ((k.suite ?? DEFAULT_SUITE) !== ring.suite) throw new Error(`key index in ${dir} says key ${k.kid} is ${k.suite ?? DEFAULT_SUITE}, its file holds ${ring.suite}`);
      pairs.set(k.kid, ring);
    }
    if (!pairs.has(index.current)) throw new Error(`key index in ${dir} names a missing current key`);
    const ring = new FileKeyRing(dir, index, pairs);
    if (options.suite && options.create && ring.suite() !== options.suite) await ring.rotate(options.suite);
    return ring;
  }

  /** The suite of the current key. */
  suite(): SignatureSuite {
    return this.pairs.get(this.index.current)!.suite;
  }

  current(): Signer {
    const cur = this.pairs.get(this.index.current)!;
    return cur.suite === 'sm2-sm3' ? sm2Signer(cur.pair) : ed25519Signer(cur.pair);
  }

  publicJwks(): PublicJwks {
    return { keys: this.index.keys.map((k) => this.pairs.get(k.kid)!.pair.publicJwk) };
  }

  /** The private key material of the current key, for local token issuing (Ed25519 rings only). */
  currentPair(): Ed25519KeyPair {
    const cur = this.pairs.get(this.index.current)!;
    if (cur.suite !== 'ed25519-sha256') throw new Error(`the current key of ${this.dir} is ${cur.suite}, not Ed25519`);
    return cur.pair;
  }

  list(): KeyInfo[] {
    return this.index.keys.map((k) => ({ ...k, suite: k.suite ?? DEFAULT_SUITE, current: k.kid === this.index.current }));
  }

  /** Adds a new current key (of `suite`, else of the current key's suite); the previous one is retired but stays published. */
  async rotate(suite?: SignatureSuite): Promise<KeyInfo> {
    const want = suite ?? (this.index.current ? this.suite() : DEFAULT_SUITE);
    const { ring: pairOf, privateJwk } = await generate(want);
    const pair = pairOf.pair;
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writePrivate(keyFile(this.dir, pair.kid), JSON.stringify(privateJwk));
    const now = new Date().toISOString();
    const keys = this.index.keys.map((k) => (k.kid === this.index.current && !k.retiredAt ? { ...k, retiredAt: now } : k));
    keys.push({ kid: pair.kid, createdAt: now, retiredAt: null, suite: want });
    const index: KeyIndex = { current: pair.kid, keys };
    await writePrivate(path.join(this.dir, 'index.json'), JSON.stringify(index, null, 2));
    this.index = index;
    this.pairs = new Map(this.pairs).set(pair.kid, pairOf);
    return { kid: pair.kid, suite: want, createdAt: now, retiredAt: null, current: true };
  }
}

function keyFile(dir: string, kid: string): string {
  if (!/^[A-Za-z0-9_-]{43}$/.test(kid)) throw new Error(`bad key id ${kid}`);
  return path.join(dir, `${kid}.jwk.json`);
}

async function readIndex(dir: string): Promise<KeyIndex | null> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')) as KeyIndex;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Write, fsync, rename: a crash leaves the old file or the new one, never half of one. */
async function writePrivate(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}
