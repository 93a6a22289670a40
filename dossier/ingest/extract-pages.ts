/**
 * The pages of a staged upload read after its last byte: the page source reads, hashes and signs
 * the statements (or this thread signs them, for a key that cannot leave it), this stores and records.
 */
import type { PageRecord } from '../model.js';
import { containedLimit, type ContainedBlob } from '../ports/blob-store.js';
import { pageStatement, signCanonical } from '../evidence/statements.js';
import { keptAsRange, type PageSource } from '../pages/page-source.js';
import type { UploadInput } from '../pages/ranged-file.js';
import type { OutlineEntry } from '../pages/types.js';
import type { IngestDeps } from './ingest-dossier.js';

/**
 * Reads pages in order; hashing happens in the page source. Blob writes overlap up to a bound, and
 * page rows are recorded in batches behind them, each row only once its blob is durable, without
 * draining the writes in flight (a drain every batch would stall the reader).
 *
 * `original`: the hash of the upload that `input` holds. A page that is a stored entry of it, as
 * it is (`at`), is kept as that range of the upload where the store can (one row, no copy; the
 * upload is kept whole after the pages); the ranges are recorded just before their page rows.
 */
export async function extractPages(
  deps: Pick<IngestDeps, 'dossiers' | 'blobs' | 'keys' | 'pages' | 'limits' | 'batchSize' | 'writeConcurrency'>,
  d: { id: string; caseId: string },
  input: UploadInput,
  pages: PageSource = deps.pages,
  original: string | null = null,
): Promise<{ records: PageRecord[]; outline: OutlineEntry[] }> {
  const batchSize = deps.batchSize ?? 250;
  const writeConcurrency = deps.writeConcurrency ?? 16;
  const signer = deps.keys.current();
  const records: PageRecord[] = [];
  const outline: OutlineEntry[] = [];
  const writes: Promise<void>[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let recorded = 0;
  let scheduled = 0;
  let recording: Promise<void> = Promise.resolve();
  const limit = original ? containedLimit(deps.blobs) : null;
  /** The pages kept as ranges of the upload, by record position (undefined: a blob of its own). */
  const ranges: (ContainedBlob | undefined)[] = [];

  /** Records pages [recorded, upto) once their blobs are written; calls run one after another. */
  const record = (upto: number, final = false): Promise<void> => {
    recording = recording.then(async () => {
      await Promise.all(writes.slice(recorded, upto));
      if (failure) throw failure;
      const kept = ranges.slice(recorded, upto).filter((r) => r !== undefined);
      if (kept.length) await deps.blobs.keepContained!(kept);
      // The last batch also removes the rows of an earlier attempt past the end.
      await deps.dossiers.recordPages(d.id, records.slice(recorded, upto), upto, final ? upto + 1 : null);
      recorded = upto;
    });
    return recording;
  };

  try {
    // Statements are signed where the pages are read (a worker thread) when the key can go there.
    const key = signer.portable?.();
    // Likewise what the store does to a page (sealing at rest): where the page is read, not here.
    const preparation = deps.blobs.putPrepared ? deps.blobs.preparation?.() : null;
    const digests = { sm3: signer.suite === 'sm2-sm3', ...(key ? { statements: { dossier: d.id, case: d.caseId, key } } : {}), ...(preparation ? { blobs: preparation } : {}), ...(limit !== null ? { rangesKept: limit } : {}) };
    for await (const page of pages(input, deps.limits, digests)) {
      if (failure) throw failure;
      const index = records.length + 1;
      if (page.outline) outline.push(...inDossierPages(page.outline, index - 1));
      const signed = page.statement?.index === index && page.statement.kid === signer.kid ? page.statement.jws : null;
      const size = page.size ?? page.bytes.byteLength;
      const signature = signed ?? (await signCanonical(signer, pageStatement({ dossier: d.id, case: d.caseId }, index, { ...page, size })));
      // The same rule the reading thread applied when it left the bytes behind (keptAsRange).
      const inUpload = keptAsRange(page, digests) ? { sha256: page.sha256, container: original!, start: page.at!, size } : undefined;
      ranges.push(inUpload);
      const put = inUpload
        ? Promise.resolve()
        : page.prepared && deps.blobs.putPrepared
          ? deps.blobs.putPrepared(page.sha256, page.bytes, page.prepared)
          : deps.blobs.putBytes(page.sha256, page.bytes);
      const write = put.catch((err: unknown) => {
        failure ??= err;
      });
      writes.push(write);
      inFlight.add(write);
      void write.finally(() => inFlight.delete(write));
      records.push({
        dossierId: d.id,
        index,
        sha256: page.sha256,
        sm3: page.sm3 ?? null,
        size,
        mediaType: page.mediaType,
        width: page.width,
        height: page.height,
        sourceName: page.sourceName,
        signature,
        thumbnailSha256: null,
      });
      if (inFlight.size >= writeConcurrency) await Promise.race(inFlight);
      // Record the older pages (their writes are done or nearly) while the newest stay in flight.
      if (records.length - scheduled >= batchSize + writeConcurrency) {
        scheduled = records.length - writeConcurrency;
        record(scheduled).catch(() => {}); // a failure resurfaces at the final record() below
      }
    }
  } catch (err) {
    // Let what is under way settle, so nothing is written after this attempt has failed.
    await Promise.allSettled([...inFlight, recording]);
    throw err;
  }
  await record(records.length, true);
  return { records, outline };
}

/** A PDF's bookmarks (pages counted from its first page) in the dossier's page numbers. */
function inDossierPages(entries: readonly OutlineEntry[], before: number): OutlineEntry[] {
  return entries.map((e) => ({ title: e.title, page: e.page === null ? null : e.page + before, children: inDossierPages(e.children, before) }));
}
