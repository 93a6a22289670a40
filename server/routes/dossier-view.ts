import type { DossierRecord, PageRecord } from '../../dossier/model.js';

/** The JSON of CONTRACT.md for a dossier; `received` is the tus offset while receiving. */
export function dossierView(d: DossierRecord, received?: number | null) {
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
    // OCR arrives with the OCR workers; until then there is no OCR progress to report.
    progress: { pages: d.pagesDone, thumbnails: d.thumbnailsDone, ocr: null },
    ...(d.errorCode ? { error: { code: d.errorCode, message: d.errorMessage ?? '' } } : {}),
  };
}

export function pageView(p: PageRecord) {
  return {
    index: p.index,
    sha256: p.sha256,
    size: p.size,
    mediaType: p.mediaType,
    width: p.width,
    height: p.height,
    source: p.sourceName,
    signature: p.signature,
    thumbnail: p.thumbnailSha256 !== null,
    ocr: null,
  };
}
