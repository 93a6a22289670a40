/**
 * The ingest job: a finished upload becomes a sealed dossier. Idempotent: run again after a
 * kill at any point, it produces the same pages, hashes, signatures (Ed25519 is deterministic)
 * and Merkle root, and no duplicate pages (page rows are keyed by dossier and index, blobs by hash).
 *
 * Steps: locate the bytes → pages (hash, store, sign; pipelined and bounded) → keep the original
 * → seal (Merkle root + signed manifest) → enqueue derivative work (thumbnails).
 */
import { DossierError, REJECTION_CODES, isDossierError } from '../errors.js';
import { hashFile } from '../hash.js';
import type { PageRecord } from '../model.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { BlobStore, PendingPut } from '../ports/blob-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { Log } from '../ports/log.js';
import type { DossierRepository } from '../ports/repositories.js';
import type { StagingArea } from '../ports/staging.js';
import type { Transactions } from '../ports/transactions.js';
import type { IngestLimits, OutlineEntry } from '../pages/types.js';
import type { PageSource } from '../pages/page-source.js';
import type { KeyRing } from '../signing/signer.js';
import { sniffMediaType } from '../pages/media-type.js';
import { signSeal } from './seal-dossier.js';
import { enqueueDerivatives } from './derivatives.js';
import { extractPages } from './extract-pages.js';
import { streamedPages } from './stream/streamed-pages.js';
import { storedOriginal, type CountedRangedFile } from './stored-original.js';
import type { StreamedUpload } from './stream/upload-tails.js';

export interface IngestDeps {
  readonly dossiers: DossierRepository;
  readonly blobs: BlobStore;
  readonly keys: KeyRing;
  readonly pages: PageSource;
  readonly limits: IngestLimits;
  readonly staging: StagingArea;
  readonly queue: JobQueue;
  readonly log: Log;
  /** The workers record seals and rejections as `system`. */
  readonly audit: AuditLog;
  /** A seal or a rejection commits with its audit event (and a seal with its follow-up jobs). */
  readonly transactions: Transactions;
  /** Page rows written per database round trip; progress advances by this step. */
  readonly batchSize?: number;
  /** Blob writes in flight at once (each one fsyncs). */
  readonly writeConcurrency?: number;
  /** What this process read of the upload while it arrived (upload-tails.ts), if anything. */
  readonly streamed?: { take(dossierId: string): Promise<StreamedUpload | null> };
}

export type IngestOutcome = 'sealed' | 'rejected' | 'skipped';

export async function ingestDossier(deps: IngestDeps, dossierId: string): Promise<IngestOutcome> {
  const log = deps.log.child({ dossier: dossierId });
  const d = await deps.dossiers.get(dossierId);
  if (!d) throw new DossierError('not_found', `dossier ${dossierId} does not exist`);
  if (d.status === 'sealed') {
    await enqueueDerivatives(deps.queue, d.id, d.pageCount ?? 0);
    return 'skipped';
  }
  if (d.status !== 'processing') return 'skipped';

  const started = Date.now();
  const phase = phaseTimer();
  let keeping: PendingPut | null = null;
  try {
    const source = await locateBytes(deps, dossierId, d.sha256, d.bytes);
    const staged = source.kind === 'staged' ? source.path : null;
    // Making the staged original durable is disk work that can overlap the page extraction.
    const flushing = staged ? deps.staging.flush(dossierId) : Promise.resolve();
    flushing.catch(() => {}); // awaited below; a failure surfaces there
    const original = d.sha256 && d.bytes !== null ? { sha256: d.sha256, size: d.bytes } : await hashFile(staged ?? fail('the staged upload has no hash'));
    // Recorded first, so that even a rejected dossier names exactly what was received.
    await deps.dossiers.setOriginal(d.id, original.sha256, await sniffMediaType(source.input));
    // A store that seals the original rewrites it instead of renaming it: that overlaps the pages.
    if (staged) keeping = deps.blobs.beginPutFile?.(original.sha256, staged) ?? null;
    phase('hash');
    const streamed = staged ? await deps.streamed?.take(dossierId) : null;
    if (streamed) phase('streamTail');
    const fromStream = staged && streamed && streamed.sha256 === original.sha256 ? await streamedPages(deps, { id: d.id, caseId: d.caseId }, staged, streamed, phase) : null;
    if (streamed && !fromStream && streamed.format !== 'other') log.info({ reason: streamed.gaveUp ?? 'the central directory differs from what the stream read' }, 'read after the upload');
    const pages: { records: PageRecord[]; outline?: readonly OutlineEntry[] } = fromStream ?? await extractPages(deps, { id: d.id, caseId: d.caseId }, source.input, deps.pages, original.sha256);
    if (!fromStream) phase('pages');
    if (staged) {
      await flushing;
      await (keeping ? keeping.finish() : deps.blobs.putFile(original.sha256, staged, { move: true }));
      await deps.staging.forget(dossierId);
    }
    phase('keepOriginal');
    const sealed = await signSeal(deps.keys, {
      dossier: d.id,
      caseId: d.caseId,
      original: { filename: d.filename, size: original.size, sha256: original.sha256 },
      pages: pages.records,
    });
    // Sealed, recorded in the chain and its thumbnail and OCR jobs queued: all or nothing.
    await deps.transactions.run(async (tx) => {
      // Only PDFs have outlines, and only the after-upload reader reads PDFs.
      const outline = pages.outline ?? [];
      await deps.dossiers.seal(d.id, outline.length ? { ...sealed, outline } : sealed, tx);
      await deps.audit.record({
        actor: 'system',
        agency: d.agency,
        action: 'dossier.sealed',
        target: { type: 'dossier', id: d.id },
        caseId: d.caseId,
        details: { pages: pages.records.length, bytes: original.size, sha256: original.sha256, merkleRoot: sealed.merkleRoot },
      }, tx);
      await enqueueDerivatives(deps.queue, d.id, pages.records.length, tx);
    });
    phase('seal');
    const ranged = source.kind === 'ranged' ? { ranged: source.input.fetched } : {};
    log.info({ pages: pages.records.length, bytes: original.size, ms: Date.now() - started, phases: phase.done(), root: sealed.merkleRoot, ...ranged }, 'dossier sealed');
    return 'sealed';
  } catch (err) {
    // Nothing of an original begun early stays in the store when its dossier does not seal.
    await keeping?.abandon();
    if (isDossierError(err) && REJECTION_CODES.has(err.code)) {
      log.warn({ code: err.code, reason: err.message }, 'dossier rejected');
      await rejectDossier(deps, d, err.code, err.message);
      await deps.staging.quarantine(dossierId);
      return 'rejected';
    }
    throw err;
  }
}

/** Rejects a dossier that is not sealed, with its audit event, in one transaction. */
export function rejectDossier(
  deps: Pick<IngestDeps, 'dossiers' | 'audit' | 'transactions'>,
  d: { id: string; agency: string; caseId: string },
  code: string,
  message: string,
): Promise<void> {
  return deps.transactions.run(async (tx) => {
    await deps.dossiers.reject(d.id, code, message, tx);
    await deps.audit.record({ actor: 'system', agency: d.agency, action: 'dossier.rejected', target: { type: 'dossier', id: d.id }, caseId: d.caseId, details: { code } }, tx);
  });
}

type Located =
  | { kind: 'staged'; path: string; input: string }
  | { kind: 'stored'; input: string }
  | { kind: 'ranged'; input: CountedRangedFile };

/**
 * The staged upload, or after a crash that happened past the move (or on a worker without the
 * staging volume), the stored original: in place on the filesystem store, else read from the
 * bucket by byte ranges, never copied to local disk.
 */
async function locateBytes(deps: IngestDeps, id: string, sha256: string | null, bytes: number | null): Promise<Located> {
  const staged = await deps.staging.path(id);
  if (staged) return { kind: 'staged', path: staged, input: staged };
  const size = sha256 ? await deps.blobs.size(sha256) : null;
  if (sha256 && size !== null) {
    const local = deps.blobs.localPath(sha256);
    if (local) return { kind: 'stored', input: local };
    if (bytes !== null && bytes !== size) throw new DossierError('internal', `the stored original of dossier ${id} has ${size} bytes, not the ${bytes} received`);
    return { kind: 'ranged', input: storedOriginal(deps.blobs, sha256, size) };
  }
  throw new DossierError('internal', `the bytes of dossier ${id} are neither staged nor stored`);
}

function fail(message: string): never {
  throw new DossierError('internal', message);
}

/** Milliseconds spent in each named phase, for the log line operators and the benchmark read. */
function phaseTimer() {
  const phases: Record<string, number> = {};
  let last = Date.now();
  const mark = (name: string) => {
    const now = Date.now();
    phases[name] = now - last;
    last = now;
  };
  return Object.assign(mark, { done: () => phases });
}
