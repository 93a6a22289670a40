/**
 * In-stream ingest, after the last byte: the central directory decides. It is read and checked
 * exactly as the after-upload reader does (planEntries: the same names, limits, order and the same
 * rejections); then every entry it plans must be one the stream read at the same offset with the
 * same method, CRC-32 and sizes, which makes its bytes the very bytes the after-upload reader
 * would take. Anything else (an entry the stream did not see or could not delimit, content that is
 * not a single image, a limit the dossier as a whole crosses) returns null, and the caller reads
 * the file the ordinary way, which gives the same pages or the same rejection.
 */
import { DossierError } from '../../errors.js';
import { pageStatement, signCanonical } from '../../evidence/statements.js';
import type { PageRecord } from '../../model.js';
import type { ContainedBlob } from '../../ports/blob-store.js';
import { newContext } from '../../pages/context.js';
import { detectFormat, readHead } from '../../pages/detect.js';
import { imagePages } from '../../pages/image-pages.js';
import type { HashedPage, PageSource } from '../../pages/page-source.js';
import { closeArchive, openArchive, planEntries } from '../../pages/zip-entries.js';
import { extractPages } from '../extract-pages.js';
import type { IngestDeps } from '../ingest-dossier.js';
import type { StreamedUpload } from './upload-tails.js';

export type StreamedPagesDeps = Pick<IngestDeps, 'dossiers' | 'blobs' | 'keys' | 'pages' | 'limits' | 'batchSize' | 'writeConcurrency'>;

/** The dossier's page records, stored and recorded, or null: read the file the ordinary way. */
export async function streamedPages(
  deps: StreamedPagesDeps,
  d: { id: string; caseId: string },
  path: string,
  streamed: StreamedUpload,
  phase: (name: string) => void = () => {},
): Promise<{ records: PageRecord[] } | null> {
  if (streamed.gaveUp !== null) return null;
  // The stream hashes with SHA-256 alone; the national suite's SM3 digests come from the page source.
  if (deps.keys.current().suite !== 'ed25519-sha256') return null;
  if (streamed.format === 'image') return extractPages(deps, d, path, knownImage(streamed.sha256));
  if (streamed.format !== 'zip' || streamed.centralDirectory === null) return null;
  const ctx = newContext(deps.limits);
  if (deps.limits.maxDepth < 1) return null;
  const zip = await openArchive(path, '');
  let planned;
  try {
    planned = await planEntries(zip, '', ctx, 1); // its rejections are the after-upload reader's
  } finally {
    await closeArchive(zip, true);
  }
  phase('streamPlan');
  const signer = deps.keys.current();
  const records: PageRecord[] = [];
  const stored: Promise<void>[] = [];
  const ranges: ContainedBlob[] = [];
  let inflated = 0;
  for (const p of planned) {
    const s = streamed.entries.get(p.entry.relativeOffsetOfLocalHeader);
    const same = s && s.method === p.entry.compressionMethod && s.crc32 === p.entry.crc32
      && s.compressedSize === p.entry.compressedSize && s.uncompressedSize === p.entry.uncompressedSize;
    if (!s || !same) return null;
    if (!s.page) {
      if (p.pageLike) return null; // named like a page, not one: the ordinary reader words the rejection
      continue;
    }
    inflated += s.uncompressedSize;
    if (inflated > deps.limits.maxTotalUncompressedBytes || records.length >= deps.limits.maxPages) return null;
    const index = records.length + 1;
    const signed = await s.page.signature;
    // Signed in the stream at the index the page had there; again if the dossier order differs.
    const signature = s.page.index === index && signed.kid === signer.kid ? signed.jws : await signCanonical(signer, pageStatement({ dossier: d.id, case: d.caseId }, index, s.page));
    stored.push(s.page.stored);
    if (s.page.rangeStart !== null) ranges.push({ sha256: s.page.sha256, container: streamed.sha256, start: s.page.rangeStart, size: s.page.size });
    records.push({
      dossierId: d.id, index, sha256: s.page.sha256, size: s.page.size, mediaType: s.page.mediaType,
      width: s.page.width, height: s.page.height, sourceName: p.path, signature, thumbnailSha256: null,
    });
  }
  if (records.length === 0) return null;
  phase('streamMatch');
  await Promise.all(stored);
  // Ranges only where the store keeps them (the tail was told so); the upload is kept whole next.
  if (ranges.length) await deps.blobs.keepContained!(ranges);
  phase('streamBlobs');
  await recordAll(deps, d.id, records);
  phase('streamRows');
  return { records };
}

/** Page rows in batches, progress after each, any rows of an earlier attempt past the end removed. */
async function recordAll(deps: StreamedPagesDeps, dossierId: string, records: readonly PageRecord[]): Promise<void> {
  const batch = deps.batchSize ?? 250;
  for (let at = 0; at < records.length; at += batch) {
    const upto = Math.min(records.length, at + batch);
    await deps.dossiers.recordPages(dossierId, records.slice(at, upto), upto, upto === records.length ? upto + 1 : null);
  }
}

/** A single image upload: one page, whose hash is the upload's own (the page is the file). */
function knownImage(sha256: string): PageSource {
  return async function* (path, limits) {
    const format = detectFormat(await readHead(path));
    if (format !== 'jpeg' && format !== 'png' && format !== 'webp' && format !== 'jp2') throw new DossierError('internal', 'the streamed image is no longer an image');
    const ctx = newContext(limits);
    for await (const page of imagePages(path, format, '', ctx)) yield { ...page, sha256 } satisfies HashedPage;
  };
}
