/**
 * Sealing at rest in the thread that makes a blob's bytes: a page reader's worker thread
 * (dossier/pages/page-worker.ts) seals each page it reads, with a data key of its own making,
 * wrapped there under the current master key, so that the main thread (which runs the embedded
 * database, the HTTP edge and every blob write) gets the sealed bytes and the wrapped key only.
 * The domain carries this as an opaque BlobPreparation (dossier/ports/blob-store.ts): this
 * module's URL and its material; the thread imports the module and makes the sealer of it.
 *
 * The page is sealed exactly as EncryptedBlobStore.putBytes would seal it (the same layout and
 * associated data); the store records the key row before it writes the sealed bytes, and when
 * another key stands for the hash (the same page stored meanwhile) seals the page again under it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BlobPreparation, PrepareBlob, PreparedBlob } from '../../../dossier/ports/blob-store.js';
import { masterKeyOf, wrapDataKey, type MasterKey } from '../../keys/master-keys.js';
import { sealBuffer } from './seal-streams.js';
import { CIPHERS, KEY_BYTES, segmentCipher, type CipherName } from './segment-cipher.js';

/** What crosses to the thread: the cipher of new blobs and the current master key. */
export interface SealingMaterial {
  readonly cipher: CipherName;
  readonly masterKey: Uint8Array;
  /** The SHA-256 of the sealed bytes too (an S3 put's checksum), computed in the thread. */
  readonly storedChecksum: boolean;
}

/** What a sealed page carries back beside its stored bytes. */
export interface SealedNote {
  readonly cipher: CipherName;
  readonly masterKid: string;
  readonly wrapped: Buffer;
  readonly storedSha256?: string;
}

const fromSource = import.meta.url.endsWith('.ts');
const moduleUrl = new URL(`./thread-sealer${fromSource ? '.ts' : '.js'}`, import.meta.url).href;

export function sealingPreparation(cipher: CipherName, master: MasterKey, storedChecksum: boolean): BlobPreparation {
  // Its own 32 bytes: a Buffer may be a view of Node's shared pool, which a structured clone would copy whole.
  return { module: moduleUrl, material: { cipher, masterKey: new Uint8Array(master.key), storedChecksum } satisfies SealingMaterial };
}

/** The note of a prepared blob, checked (it crossed threads as plain data), or null when it is not one of ours. */
export function sealedNote(prepared: PreparedBlob): SealedNote | null {
  const n = prepared.note as Partial<Record<keyof SealedNote, unknown>> | null;
  if (!n || typeof n !== 'object' || !CIPHERS.includes(n.cipher as CipherName) || typeof n.masterKid !== 'string' || !(n.wrapped instanceof Uint8Array)) return null;
  const wrapped = Buffer.from(n.wrapped.buffer, n.wrapped.byteOffset, n.wrapped.byteLength);
  return { cipher: n.cipher as CipherName, masterKid: n.masterKid, wrapped, ...(typeof n.storedSha256 === 'string' ? { storedSha256: n.storedSha256 } : {}) };
}

export default function threadSealer(material: SealingMaterial): PrepareBlob {
  const master = masterKeyOf(Buffer.from(material.masterKey));
  const cipher = segmentCipher(material.cipher);
  return (sha256, bytes) => {
    const dataKey = randomBytes(KEY_BYTES);
    const stored = sealBuffer({ cipher, dataKey, sha256 }, bytes);
    const { masterKid, wrapped } = wrapDataKey(master, sha256, material.cipher, dataKey);
    const note = { cipher: material.cipher, masterKid, wrapped: new Uint8Array(wrapped), ...(material.storedChecksum ? { storedSha256: createHash('sha256').update(stored).digest('hex') } : {}) };
    return { stored, note };
  };
}
