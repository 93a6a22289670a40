/**
 * GET /api/dossiers/:id/progress: a dossier's ingest and OCR progress as Server-Sent Events, so a
 * browser sees it live after the last byte until it is sealed and searchable (or rejected), then
 * the stream ends. Access as GET /api/dossiers/:id. Each `progress` event carries the same JSON;
 * a last `done` event says the dossier is settled. The gateway reads the database on a short
 * tick and sends only what changed (the ingest runs in any process: there is no in-memory bus
 * to listen to), with a comment every so often so that proxies keep the connection.
 */
import { Router } from 'express';
import { requirePermission } from '../../dossier/access/policy.js';
import type { DossierRecord } from '../../dossier/model.js';
import type { PageTextRepository } from '../../dossier/ports/page-text.js';
import type { DossierRepository } from '../../dossier/ports/repositories.js';
import { principalOf } from '../auth.js';
import { notFound } from '../errors.js';
import { dossierView } from './dossier-view.js';

export interface ProgressRouteDeps {
  readonly dossiers: DossierRepository;
  readonly pageTexts: PageTextRepository;
  readonly uploadOffset: (id: string) => Promise<number | null>;
}

const TICK_MS = 400;
const KEEPALIVE_MS = 15_000;
/** A stream ends after this long even if the dossier is not settled; EventSource reconnects. */
const MAX_STREAM_MS = 30 * 60_000;

type View = ReturnType<typeof dossierView>;

/** Sealed with every page's OCR finished (done or failed), or rejected: nothing more will change. */
export const settled = (v: View): boolean =>
  v.status === 'rejected' || (v.status === 'sealed' && !!v.progress.ocr && v.progress.ocr.done + v.progress.ocr.failed >= v.progress.ocr.total);

export function dossierProgressRouter(deps: ProgressRouteDeps): Router {
  const r = Router();

  const viewOf = async (d: DossierRecord): Promise<View> => {
    const ocr = d.status === 'sealed' ? { ...(await deps.pageTexts.progress(d.id)), total: d.pageCount ?? 0 } : null;
    return dossierView(d, d.status === 'receiving' ? await deps.uploadOffset(d.id) : null, ocr);
  };

  r.get('/dossiers/:id/progress', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'dossier:read');
    const first = await deps.dossiers.findVisible(req.params.id, p.agency);
    if (!first) throw notFound('dossier');

    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no', // nginx: do not hold events back
    });
    res.flushHeaders();
    res.write('retry: 2000\n\n');

    let last = '';
    let closed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = Date.now();
    let lastWrite = started;
    const stop = () => {
      closed = true;
      clearTimeout(timer);
      if (!res.writableEnded) res.end();
    };
    req.on('close', stop);

    const tick = async (d: DossierRecord | null) => {
      if (closed) return;
      if (!d) {
        res.write(`event: gone\ndata: {}\n\n`);
        return stop();
      }
      const v = await viewOf(d);
      const json = JSON.stringify(v);
      if (json !== last) {
        last = json;
        res.write(`event: progress\ndata: ${json}\n\n`);
        lastWrite = Date.now();
      } else if (Date.now() - lastWrite > KEEPALIVE_MS) {
        res.write(': keepalive\n\n');
        lastWrite = Date.now();
      }
      if (settled(v)) {
        res.write(`event: done\ndata: ${json}\n\n`);
        return stop();
      }
      if (Date.now() - started > MAX_STREAM_MS) return stop();
      timer = setTimeout(() => void next(), TICK_MS);
    };
    const next = async (known?: DossierRecord) => {
      try {
        await tick(known ?? (await deps.dossiers.findVisible(first.id, p.agency)));
      } catch (err) {
        // Headers are sent: the error cannot become a JSON answer; end the stream, the client retries.
        req.log?.warn({ err, dossier: first.id }, 'progress stream failed');
        stop();
      }
    };
    await next(first);
  });

  return r;
}
