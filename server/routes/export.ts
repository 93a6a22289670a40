/**
 * GET /api/dossiers/:id/export (and GET /d/:token): the sealed dossier as a ZIP, streamed as it is
 * built (no temporary file): each page is opened only when the archive reaches it, so memory stays
 * flat whatever the dossier's size.
 *
 * Order: manifest.jws, jwks.json, receipts/…, pages/0001.<ext> …, text/0001.txt … (the pages whose
 * text is ready; derived after sealing, not signed), and original/<filename> (left out with
 * ?original=0): the pages are the evidence, each signed and in the Merkle root; the original
 * (as large again) is for the receiver who wants the clerk's very file, and `dossier verify`
 * checks it against the manifest when it is there.
 *
 * Resumable (HTTP Range): the archive's bytes are a function of its plan (export-plan.ts), whose
 * hash is the strong ETag, so the server can answer any byte range of it, the slice of the
 * whole, without writing what comes before (server/zip/zip-stream-writer.ts).
 */
import type { Request, Response } from 'express';
import { DossierError } from '../../dossier/errors.js';
import type { DossierRecord } from '../../dossier/model.js';
import { answerRange, requestedRange, type ByteRange } from '../http-range.js';
import { ZipOutputClosedError, ZipStreamWriter, type StreamEntry } from '../zip/zip-stream-writer.js';
import { planExport, type ExportDeps, type ExportPlan } from './export-plan.js';
import { failpoint } from '../../dossier/failpoints.js';

export type { ExportDeps } from './export-plan.js';

/** `?original=1` (or true, or absent) carries the original upload; 0 leaves it out; anything else is refused. */
export function wantsOriginal(query: unknown): boolean {
  const v = (query as Record<string, unknown> | undefined)?.original;
  // CONTRACT.md: the export carries original/<filename>; ?original=0 leaves it out (half the bytes
  // where the pages are the upload's own content), and verification checks either form.
  if (v === undefined || v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new DossierError('bad_request', 'original: expected 0 or 1');
}

/** What a request for the export will get: the plan, and the range it asked for (If-Range honoured). */
export interface ExportRequest {
  readonly plan: ExportPlan;
  readonly range: ByteRange | null | 'unsatisfiable';
}

/** Plans the export the request asks for; the caller checks access and counts the use before sendExport. */
export async function exportRequest(req: Request, deps: ExportDeps, d: DossierRecord): Promise<ExportRequest> {
  const plan = await planExport(deps, d, wantsOriginal(req.query), req.log);
  return { plan, range: requestedRange(req.headers.range, plan.length, req.headers['if-range'], plan.etag) };
}

/** The audit event's note of a range request (a resumed download). */
export function rangeDetails(range: ByteRange | null): { range?: string } {
  return range ? { range: `${range.start}-${range.end}` } : {};
}

export async function sendExport(req: Request, res: Response, deps: ExportDeps, d: DossierRecord, { plan, range }: ExportRequest): Promise<void> {
  res.setHeader('Content-Type', 'application/zip');
  res.attachment(`dossier-${d.id}.zip`);
  if (!res.getHeader('Cache-Control')) res.setHeader('Cache-Control', 'private, no-store');
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', plan.etag);
  if (!answerRange(req, res, range, plan.length)) return;
  const zip = new ZipStreamWriter(res, {
    ...(range ? { range } : {}),
    onCrc: (entry: StreamEntry & { sha256?: string }, crc) => {
      if (entry.sha256) deps.crcs?.set(entry.sha256, crc);
    },
  });
  const ended = deps.foreground?.();
  if (ended) res.once('close', ended);
  try {
    for (const entry of plan.entries) {
      failpoint('export.entry');
      await zip.add(entry);
    }
    await zip.finish();
  } catch (err) {
    // The client went away: nothing to answer, and the writer has already closed the open page.
    if (err instanceof ZipOutputClosedError) {
      req.log?.info({ dossier: d.id, bytes: zip.bytesWritten, from: range ? range.start : 0 }, 'export aborted by the client');
      return;
    }
    throw err;
  } finally {
    ended?.();
  }
}
