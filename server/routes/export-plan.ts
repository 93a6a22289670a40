/**
 * The plan of a dossier's export ZIP: every entry in order with its size and the hash of its bytes,
 * made before a byte is sent. It fixes the archive byte for byte (STORED entries, the dossier's
 * seal time on every entry, records that are pure functions of their fields: server/zip/), so it
 * gives the archive's length and its strong ETag: the SHA-256 of the plan, layout version
 * included. What can change an export of a sealed dossier (a page text finished by OCR, a new
 * custody receipt, a rotated key in jwks.json, ?original) changes the plan and so the ETag, and a
 * resumed download (If-Range) of an older export gets the whole new one instead of a splice.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { JWKS_FILE, MANIFEST_FILE, originalPath, pagePath, receiptPath, textPath } from '../../dossier/evidence/export-layout.js';
import type { DossierRecord, PageRecord } from '../../dossier/model.js';
import type { BlobStore } from '../../dossier/ports/blob-store.js';
import type { PageTextRepository } from '../../dossier/ports/page-text.js';
import type { DossierRepository } from '../../dossier/ports/repositories.js';
import type { TransferRepository } from '../../dossier/ports/custody.js';
import type { PublicJwks } from '../../dossier/signing/signer.js';
import type { CrcMemo } from '../zip/crc-memo.js';
import { zipLength } from '../zip/zip-length.js';
import type { BytesEntry, StreamEntry } from '../zip/zip-stream-writer.js';

/** Bump when anything about how a plan becomes bytes changes: old ETags must stop matching. */
export const EXPORT_LAYOUT_VERSION = 1;
/** Page rows (and page texts) fetched per query while the plan is made. */
const PAGE_WINDOW = 500;
const FIXED_TIME = new Date('2000-01-01T00:00:00Z');

export interface ExportDeps {
  readonly dossiers: DossierRepository;
  readonly blobs: BlobStore;
  readonly jwks: PublicJwks;
  readonly receipts: Pick<TransferRepository, 'receipts'>;
  readonly pageTexts: Pick<PageTextRepository, 'list'>;
  /** Marks the download in the foreground while it streams: OCR yields to it (ocr/foreground-gate.ts). */
  readonly foreground?: () => () => void;
  /** CRC-32s of blobs read before: a resumed download skips what precedes its offset unread. */
  readonly crcs?: CrcMemo;
}

/** The export's parts from a router's dependencies (the two export routes share them). */
export function exportDepsOf(deps: {
  readonly dossiers: DossierRepository;
  readonly blobs: BlobStore;
  readonly keys: { publicJwks(): PublicJwks };
  readonly transfers: Pick<TransferRepository, 'receipts'>;
  readonly pageTexts: Pick<PageTextRepository, 'list'>;
  readonly foreground?: () => () => void;
  readonly exportCrcs?: CrcMemo;
}): ExportDeps {
  return { dossiers: deps.dossiers, blobs: deps.blobs, jwks: deps.keys.publicJwks(), receipts: deps.transfers, pageTexts: deps.pageTexts, foreground: deps.foreground, crcs: deps.exportCrcs };
}

/** A blob entry names its blob, for the ETag and the CRC memo. */
export type BlobEntry = StreamEntry & { readonly sha256: string };

export interface ExportPlan {
  readonly entries: readonly (BytesEntry | BlobEntry)[];
  /** The archive's length in bytes. */
  readonly length: number;
  /** Strong ETag (quoted): the SHA-256 of the layout version and every entry's name, size and content hash. */
  readonly etag: string;
}

export async function planExport(deps: ExportDeps, d: DossierRecord, original: boolean, log?: Logger): Promise<ExportPlan> {
  const mtime = d.sealedAt ?? FIXED_TIME;
  const blob = (name: string, sha256: string, size: number): BlobEntry => {
    const crc = deps.crcs?.get(sha256);
    return {
      name, mtime, size, sha256, ...(crc === undefined ? {} : { crc }),
      open: (from = 0) => (from > 0 ? deps.blobs.read(sha256, { start: from, end: size - 1 }) : deps.blobs.read(sha256)),
    };
  };
  const entries: (BytesEntry | BlobEntry)[] = [
    { name: MANIFEST_FILE, mtime, bytes: Buffer.from(d.manifestJws!) },
    { name: JWKS_FILE, mtime, bytes: Buffer.from(JSON.stringify(deps.jwks, null, 2)) },
  ];
  // The custody receipts: the receiver can show whom it got exactly this dossier from.
  for (const [i, r] of (await deps.receipts.receipts(d.id)).entries()) {
    entries.push({ name: receiptPath(i + 1, r.transferId), mtime, bytes: Buffer.from(r.receipt) });
  }
  const total = d.pageCount ?? 0;
  for (let offset = 0; offset < total; offset += PAGE_WINDOW) {
    for (const p of await deps.dossiers.listPages(d.id, { offset, limit: PAGE_WINDOW }) as PageRecord[]) entries.push(blob(pagePath(p.index, p.mediaType), p.sha256, p.size));
  }
  for (let offset = 0; offset < total; offset += PAGE_WINDOW) {
    const done = (await deps.pageTexts.list(d.id, offset + 1, offset + PAGE_WINDOW)).filter((t) => t.status === 'done' && t.textSha256);
    // The entry needs its size before its bytes; blobs are content-addressed, so it cannot change.
    const sized = await Promise.all(done.map(async (t) => ({ index: t.index, sha256: t.textSha256!, size: await deps.blobs.size(t.textSha256!) })));
    for (const t of sized) {
      // Derived text whose blob is gone: the evidence still goes out, without this page's text.
      if (t.size === null) log?.warn({ dossier: d.id, page: t.index, blob: t.sha256 }, 'page text blob missing: left out of the export');
      else entries.push(blob(textPath(t.index), t.sha256, t.size));
    }
  }
  if (original && d.sha256 && d.bytes !== null) entries.push(blob(originalPath(d.filename), d.sha256, d.bytes));
  return { entries, length: zipLength(entries.map(sizeOf)), etag: etagOf(entries, mtime) };
}

function sizeOf(e: BytesEntry | BlobEntry): { name: string; size: number } {
  return { name: e.name, size: 'bytes' in e ? e.bytes.length : e.size };
}

function etagOf(entries: readonly (BytesEntry | BlobEntry)[], mtime: Date): string {
  const h = createHash('sha256').update(`dossier-export-zip v${EXPORT_LAYOUT_VERSION} ${mtime.toISOString()}\n`);
  for (const e of entries) {
    const content = 'bytes' in e ? createHash('sha256').update(e.bytes).digest('hex') : e.sha256;
    h.update(`${e.name}\0${sizeOf(e).size}\0${content}\n`);
  }
  return `"zip${EXPORT_LAYOUT_VERSION}-${h.digest('base64url')}"`;
}
