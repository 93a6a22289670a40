/**
 * Keys on disk, outside the database: one private JWK file per key (mode 0600) and an index that
 * names the current key and the retired ones. Rotation adds a key and retires the old one; a
 * retired key's public half stays published so that what it signed stays verifiable.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { JWK } from 'jose';
import { ed25519FromPrivateJwk, ed25519Signer, generateEd25519, type Ed25519KeyPair } from '../../dossier/signing/ed25519.js';
import type { KeyRing, PublicJwks, Signer } from '../../dossier/signing/signer.js';

interface KeyIndex {
  current: string;
  keys: { kid: string; createdAt: string; retiredAt: string | null }[];
}

export interface KeyInfo {
  readonly kid: string;
  readonly createdAt: string;
  readonly retiredAt: string | null;
  readonly current: boolean;
}

export class FileKeyRing implements KeyRing {
  private constructor(
    private readonly dir: string,
    private index: KeyIndex,
    private pairs: Map<string, Ed25519KeyPair>,
  ) {}

  /** Opens the key ring in `dir`, creating it with a first key when `create` and it is empty. */
  static async open(dir: string, options: { create: boolean }): Promise<FileKeyRing> {
    const index = await readIndex(dir);
    if (!index) {
      if (!options.create) throw new Error(`no signing keys in ${dir}: run \`dossier keys generate\``);
      const ring = new FileKeyRing(dir, { current: '', keys: [] }, new Map());
      await ring.rotate();
      return ring;
    }
    const pairs = new Map<string, Ed25519KeyPair>();
    for (const k of index.keys) {
      const jwk = JSON.parse(await fs.readFile(keyFile(dir, k.kid), 'utf8')) as JWK;
      const pair = await ed25519FromPrivateJwk(jwk);
      if (pair.kid !== k.kid) throw new Error(`key file ${keyFile(dir, k.kid)} holds key ${pair.kid}`);
      pairs.set(k.kid, pair);
    }
    if (!pairs.has(index.current)) throw new Error(`key index in ${dir} names a missing current key`);
    return new FileKeyRing(dir, index, pairs);
  }

  current(): Signer {
    return ed25519Signer(this.pairs.get(this.index.current)!);
  }

  publicJwks(): PublicJwks {
    return { keys: this.index.keys.map((k) => this.pairs.get(k.kid)!.publicJwk) };
  }

  /** The private key material of the current key, for local token issuing. */
  currentPair(): Ed25519KeyPair {
    return this.pairs.get(this.index.current)!;
  }

  list(): KeyInfo[] {
    return this.index.keys.map((k) => ({ ...k, current: k.kid === this.index.current }));
  }

  /** Adds a new current key; the previous one is retired but stays published. */
  async rotate(): Promise<KeyInfo> {
    const { pair, privateJwk } = await generateEd25519();
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writePrivate(keyFile(this.dir, pair.kid), JSON.stringify(privateJwk));
    const now = new Date().toISOString();
    const keys = this.index.keys.map((k) => (k.kid === this.index.current && !k.retiredAt ? { ...k, retiredAt: now } : k));
    keys.push({ kid: pair.kid, createdAt: now, retiredAt: null });
    const index: KeyIndex = { current: pair.kid, keys };
    await writePrivate(path.join(this.dir, 'index.json'), JSON.stringify(index, null, 2));
    this.index = index;
    this.pairs = new Map(this.pairs).set(pair.kid, pair);
    return { kid: pair.kid, createdAt: now, retiredAt: null, current: true };
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
