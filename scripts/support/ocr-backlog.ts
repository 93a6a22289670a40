/**
 * The OCR backlog of the dossiers one migration sealed: pages sealed minus pages whose OCR is done
 * or failed. The server works OCR after ingest and roughly in seal order, so a slow loop asking
 * about the oldest few unfinished dossiers keeps the figure close to the truth at a bounded cost.
 */
import { apiJson, type DossierJson } from './resumable-upload.js';

type OcrProgress = { done: number; failed: number; total: number };

export class OcrBacklog {
  private readonly open = new Map<string, number>();
  private backlog = 0;
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;

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
      const oldest = [...this.open.keys()].slice(0, this.perTick);
      await Promise.all(
        oldest.map(async (id) => {
          const { status, json } = await apiJson<DossierJson>(this.server, this.token, 'GET', `/api/dossiers/${id}`).catch(() => ({ status: 0, json: null }));
          if (status !== 200 || !json) return;
          const left = remaining(json.pageCount ?? 0, json.progress?.ocr);
          this.backlog += left - (this.open.get(id) ?? 0);
          if (left === 0) this.open.delete(id);
          else this.open.set(id, left);
        }),
      );
    } finally {
      this.sampling = false;
    }
  }
}

function remaining(pages: number, ocr: OcrProgress | null | undefined): number {
  if (!ocr) return pages;
  return Math.max(0, (ocr.total || pages) - ocr.done - ocr.failed);
}
