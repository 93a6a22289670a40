import type { DossierRecord, PageRecord } from '../../dossier/model.js';
import type { PageTextRecord } from '../../dossier/ports/page-text.js';

/** The JSON of CONTRACT.md for a dossier; `received` is the tus offset while receiving. */
/** `ocr`: counts of a sealed dossier's pages (null before the seal, or where not looked up). */
export function dossierView(d: DossierRecord, received?: number | null, ocr?: { done: number; failed: number; total: number } | null) {
  return {
    id: d.id,
    caseId: d.caseId,
    filename: d.filename,
    title: d.title,
    status: d.status,
    pageCount: d.pageCount,
    bytes: d.bytes ?? d.declaredBytes,
    ...(d.status === 'receiving' ? { received: received ?? 0 } : {}),
    sha256: d.sha256,
    merkleRoot: d.merkleRoot,
    kid: d.kid,
    sealedAt: d.sealedAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    progress: { pages: d.pagesDone, thumbnails: d.thumbnailsDone, ocr: ocr ?? null },
    ...(d.errorCode ? { error: { code: d.errorCode, message: d.errorMessage ?? '' } } : {}),
  };
}

/** `ocr`: the page's OCR record, 'queued' when a sealed dossier's page has none yet, null before the seal. */
export function pageView(p: PageRecord, ocr: PageTextRecord | 'queued' | null = null) {
  return {
    index: p.index,
    sha256: p.sha256,
    // The national suite's page digest, beside SHA-256 (CONTRACT.md); absent under the default suite.
    ...(p.sm3 ? { sm3: p.sm3 } : {}),
    size: p.size,
    mediaType: p.mediaType,
    width: p.width,
    height: p.height,
    source: p.sourceName,
    signature: p.signature,
    thumbnail: p.thumbnailSha256 !== null,
    /** Clockwise degrees that show the page upright (OCR found it scanned turned); 0 until known. */
    rotation: ocr !== null && ocr !== 'queued' && ocr.status === 'done' ? ocr.rotation : 0,
    ocr:
      ocr === null
        ? null
        : ocr === 'queued'
          ? { status: 'queued' as const, confidence: null }
          : {
              status: ocr.status,
              confidence: ocr.confidence,
              ...(ocr.status === 'done' ? { source: ocr.source } : {}),
              // The languages read with (OCR pages), and what could not be read, when there is any.
              ...(ocr.status === 'done' && ocr.languages ? { languages: ocr.languages } : {}),
              ...(ocr.status === 'done' && ocr.note ? { note: ocr.note } : {}),
              ...(ocr.status === 'failed' ? { reason: ocr.reason } : {}),
            },
  };
}
