/**
 * Sealing at rest in the thread that makes a blob's bytes: a page reader's worker thread
 * (dossier/pages/page-worker.ts) seals each page it reads, with the data key that page's hash
 * derives from the current key-encryption key (storage/keys/blob-keks.ts), so that the main
 * thread (which runs the embedded database, the HTTP edge and every blob write) gets the sealed
 * bytes only. The domain carries this as an opaque BlobPreparation (dossier/ports/blob-store.ts):
 * this module's URL and its material; the thread imports the module and makes the sealer of it.
 *
 * The page is sealed exactly as EncryptedBlobStore.putBytes would seal it (the same header,
 * layout and associated data), so the store only writes it; a page prepared under another KEK or
 * cipher than the store's current one is sealed again there.
 */
import { createHash } from 'node:crypto';
import type { BlobPreparation, PrepareBlob, PreparedBlob } from '../../../dossier/ports/blob-store.js';
import { blobDataKey, type Kek } from '../../keys/blob-keks.js';
import { headerV2 } from './layout.js';
import { sealBuffer } from './seal-streams.js';
import { CIPHERS, segmentCipher, type CipherName } from './segment-cipher.js';

/** What crosses to the thread: the current key-encryption key. */
export interface SealingMaterial {
  readonly cipher: CipherName;
  readonly kekId: string;
  readonly kek: Uint8Array;
  /** The SHA-256 of the sealed bytes too (an S3 put's checksum), computed in the thread. */
  readonly storedChecksum: boolean;
}

/** What a sealed page carries back beside its stored bytes. */
export interface SealedNote {
  readonly cipher: CipherName;
  readonly kekId: string;
  readonly storedSha256?: string;
}

const fromSource = import.meta.url.endsWith('.ts');
const moduleUrl = new URL(`./thread-sealer${fromSource ? '.ts' : '.js'}`, import.meta.url).href;

export function sealingPreparation(kek: Kek, storedChecksum: boolean): BlobPreparation {
  // Its own 32 bytes: a Buffer may be a view of Node's shared pool, which a structured clone would copy whole.
  return { module: moduleUrl, material: { cipher: kek.cipher, kekId: kek.id, kek: new Uint8Array(kek.key), storedChecksum } satisfies SealingMaterial };
}

/** The note of a prepared blob, checked (it crossed threads as plain data), or null when it is not one of ours. */
export function sealedNote(prepared: PreparedBlob): SealedNote | null {
  const n = prepared.note as Partial<Record<keyof SealedNote, unknown>> | null;
  if (!n || typeof n !== 'object' || !CIPHERS.includes(n.cipher as CipherName) || typeof n.kekId !== 'string') return null;
  return { cipher: n.cipher as CipherName, kekId: n.kekId, ...(typeof n.storedSha256 === 'string' ? { storedSha256: n.storedSha256 } : {}) };
}

export default function threadSealer(material: SealingMaterial): PrepareBlob {
  const kek: Kek = { id: material.kekId, cipher: material.cipher, key: Buffer.from(material.kek) };
  const cipher = segmentCipher(material.cipher);
  return (sha256, bytes) => {
    const stored = sealBuffer({ cipher, dataKey: blobDataKey(kek, sha256), sha256, header: headerV2(kek.cipher, kek.id, bytes.byteLength) }, bytes);
    const note: SealedNote = { cipher: kek.cipher, kekId: kek.id, ...(material.storedChecksum ? { storedSha256: createHash('sha256').update(stored).digest('hex') } : {}) };
    return { stored, note };
  };
}
