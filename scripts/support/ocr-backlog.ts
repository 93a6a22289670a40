/**
 * The OCR backlog of the dossiers one migration sealed: pages sealed minus pages whose OCR is done
 * or failed. The server works OCR after ingest and roughly in seal order, so a slow loop asking
 * about the oldest unfinished dossiers (up to 100 in one request; a few one by one on a server
 * without the batch route) keeps the figure close to the truth at a bounded cost.
 */
import { apiJson, type DossierJson } from './resumable-upload.js';
import { dossiersStatus, STATUS_BATCH } from './dossier-status.js';

type OcrProgress = { done: number; failed: number; total: number };

export class OcrBacklog {
  private readonly open = new Map<string, number>();
  private backlog = 0;
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;
  private batch = true;

  constructor(private readonly server: string, private readonly token: string, private readonly perTick = 4) {}

  get pages(): number {
    return this.backlog;
  }

  /** A dossier this run saw sealed, with the OCR progress the server reported then. */
  sealed(d: DossierJson): void {
    const left = remaining(d.pageCount ?? 0, d.progress?.ocr);
    if (left === 0) return;
    this.open.set(d.id, left);
    this.backlog += left;
  }

  start(everyMs = 1000): void {
    this.timer = setInterval(() => void this.sample(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Asks about the oldest unfinished dossiers once; also called at the end of a run. */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const oldest = [...this.open.keys()].slice(0, this.batch ? STATUS_BATCH : this.perTick);
      if (oldest.length === 0) return;
      let answers = this.batch ? await dossiersStatus(this.server, this.token, oldest).catch(() => undefined) : null;
      if (answers === undefined) return; // not reachable now: the next tick asks again
      if (answers === null) {
        this.batch = false;
        answers = new Map((await Promise.all(oldest.slice(0, this.perTick).map(async (id) => {
          const { status, json } = await apiJson<DossierJson>(this.server, this.token, 'GET', `/api/dossiers/${id}`).catch(() => ({ status: 0, json: null }));
          return status === 200 && json ? [[id, json] as const] : [];
        }))).flat());
      }
      for (const [id, json] of answers) {
        const left = remaining(json.pageCount ?? 0, json.progress?.ocr);
        this.backlog += left - (this.open.get(id) ?? 0);
        if (left === 0) this.open.delete(id);
        else this.open.set(id, left);
      }
    } finally {
      this.sampling = false;
    }
  }
}

function remaining(pages: number, ocr: OcrProgress | null | undefined): number {
  if (!ocr) return pages;
  return Math.max(0, (ocr.total || pages) - ocr.done - ocr.failed);
}
