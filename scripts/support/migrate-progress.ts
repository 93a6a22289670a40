/**
 * What a person (or a script) follows during `dossier migrate`: cases and dossiers done of total,
 * cases per minute, MB/s, ETA, failures so far and the OCR backlog of what this run sealed. One
 * status line redrawn on a terminal, a plain line every ten seconds otherwise, and with `--json`
 * one JSON object a line (on stderr: stdout keeps the report, as before).
 */
export type ProgressMode = 'tty' | 'lines' | 'json';

export interface ProgressSnapshot {
  readonly type: 'progress' | 'done';
  readonly elapsedSeconds: number;
  readonly cases: { readonly done: number; readonly total: number };
  readonly dossiers: { readonly done: number; readonly total: number; readonly sent: number; readonly alreadyThere: number; readonly failed: number };
  readonly bytesSent: number;
  readonly casesPerMinute: number;
  readonly mbPerSecond: number;
  readonly etaSeconds: number | null;
  /** Pages this run sealed whose OCR the server has not finished (it catches up after). */
  readonly ocrBacklogPages: number;
  /** In the closing line only: mean milliseconds per dossier of each phase, as the CLI saw it. */
  readonly phases?: Record<string, { meanMs: number; count: number }>;
}

export class MigrateProgress {
  private readonly started = Date.now();
  private casesDone = 0;
  private dossiersDone = 0;
  private sent = 0;
  private alreadyThere = 0;
  private failed = 0;
  private bytes = 0;
  private readonly remainingByCase = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly mode: ProgressMode,
    private readonly totals: { readonly cases: number; readonly dossiers: number },
    dossiersByCase: ReadonlyMap<string, number>,
    private readonly ocrBacklog: () => number,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {
    for (const [c, n] of dossiersByCase) {
      if (n > 0) this.remainingByCase.set(c, n);
      else this.casesDone++;
    }
  }

  start(): void {
    this.timer = setInterval(() => this.print(), this.mode === 'lines' ? 10_000 : 1000);
    this.timer.unref();
  }

  /** One dossier reached its final state in this run: `sent` when its bytes went up now. */
  item(caseNumber: string, how: 'sent' | 'alreadyThere' | 'failed', bytes: number): void {
    this.dossiersDone++;
    if (how === 'sent') (this.sent++, (this.bytes += bytes));
    else if (how === 'alreadyThere') this.alreadyThere++;
    else this.failed++;
    const left = (this.remainingByCase.get(caseNumber) ?? 1) - 1;
    if (left > 0) this.remainingByCase.set(caseNumber, left);
    else if (this.remainingByCase.delete(caseNumber)) this.casesDone++;
  }

  stop(phases?: ProgressSnapshot['phases']): ProgressSnapshot {
    if (this.timer) clearInterval(this.timer);
    const last: ProgressSnapshot = { ...this.snapshot('done'), ...(phases ? { phases } : {}) };
    if (this.mode === 'tty') this.out.write('\r\x1b[2K');
    if (this.mode === 'json') this.out.write(`${JSON.stringify(last)}\n`);
    return last;
  }

  snapshot(type: 'progress' | 'done' = 'progress'): ProgressSnapshot {
    const elapsed = Math.max(0.001, (Date.now() - this.started) / 1000);
    const casesPerMinute = this.casesDone / (elapsed / 60);
    const left = this.totals.cases - this.casesDone;
    return {
      type,
      elapsedSeconds: round(elapsed),
      cases: { done: this.casesDone, total: this.totals.cases },
      dossiers: { done: this.dossiersDone, total: this.totals.dossiers, sent: this.sent, alreadyThere: this.alreadyThere, failed: this.failed },
      bytesSent: this.bytes,
      casesPerMinute: round(casesPerMinute),
      mbPerSecond: round(this.bytes / 1e6 / elapsed),
      etaSeconds: left === 0 ? 0 : casesPerMinute > 0 ? Math.round((left / casesPerMinute) * 60) : null,
      ocrBacklogPages: this.ocrBacklog(),
    };
  }

  private print(): void {
    const s = this.snapshot();
    if (this.mode === 'json') return void this.out.write(`${JSON.stringify(s)}\n`);
    const line = describe(s);
    this.out.write(this.mode === 'tty' ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}

export function describe(s: ProgressSnapshot): string {
  const eta = s.etaSeconds === null ? '?' : clock(s.etaSeconds);
  return (
    `cases ${s.cases.done}/${s.cases.total} · dossiers ${s.dossiers.done}/${s.dossiers.total} · ` +
    `${s.casesPerMinute.toFixed(0)} cases/min · ${s.mbPerSecond.toFixed(1)} MB/s · ETA ${eta} · ` +
    `${s.dossiers.failed} failed · OCR backlog ${s.ocrBacklogPages} pages`
  );
}

function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
