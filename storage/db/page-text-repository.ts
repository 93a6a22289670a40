import type { OcrProgress, OcrStatus, PageTextDone, PageTextRecord, PageTextRepository } from '../../dossier/ports/page-text.js';
import type { Database, Queryable } from './database.js';
import type { Tx } from '../../dossier/ports/transactions.js';

interface PageTextRow {
  dossier_id: string;
  index: number;
  status: OcrStatus;
  source: 'ocr' | 'text-layer' | 'blank' | null;
  confidence: number | null;
  text_sha256: string | null;
  words_sha256: string | null;
  engine: string | null;
  reason: string | null;
  attempts: number;
  rotation: number;
  languages: string | null;
  note: string | null;
}

const toRecord = (r: PageTextRow): PageTextRecord => ({
  dossierId: r.dossier_id,
  index: r.index,
  status: r.status,
  source: r.source,
  confidence: r.confidence === null ? null : Number(r.confidence),
  textSha256: r.text_sha256,
  wordsSha256: r.words_sha256,
  engine: r.engine,
  reason: r.reason,
  attempts: r.attempts,
  rotation: r.rotation as PageTextRecord['rotation'],
  languages: r.languages,
  note: r.note,
});

const COLUMNS = 'dossier_id, index, status, source, confidence, text_sha256, words_sha256, engine, reason, attempts, rotation, languages, note';

/** Runs in the transaction that ended a page's text (done, or failed for good). */
export type PageFinishedHook = (dossierId: string, tx: Queryable) => Promise<void>;

export class SqlPageTextRepository implements PageTextRepository {
  constructor(
    private readonly db: Database,
    private readonly onPageFinished: PageFinishedHook = async () => {},
  ) {}

  async get(dossierId: string, index: number): Promise<PageTextRecord | null> {
    const rows = await this.db.query<PageTextRow>(`SELECT ${COLUMNS} FROM page_text WHERE dossier_id = $1 AND index = $2`, [dossierId, index]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(dossierId: string, from: number, to: number): Promise<PageTextRecord[]> {
    const rows = await this.db.query<PageTextRow>(
      `SELECT ${COLUMNS} FROM page_text WHERE dossier_id = $1 AND index BETWEEN $2 AND $3 ORDER BY index`,
      [dossierId, from, to],
    );
    return rows.map(toRecord);
  }

  async markDone(p: PageTextDone): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // The row lock makes two workers finishing the same page (a lease that lapsed while the
      // first still ran) record it once: the second sees `done` and changes nothing.
      const changed = await tx.query(
        `INSERT INTO page_text (dossier_id, index, status, source, confidence, text_sha256, words_sha256, engine, reason, rotation, languages, note, updated_at)
         VALUES ($1, $2, 'done', $3, $4, $5, $6, $7, NULL, $8, $9, $10, now())
         ON CONFLICT (dossier_id, index) DO UPDATE SET status = 'done', source = excluded.source, confidence = excluded.confidence,
           text_sha256 = excluded.text_sha256, words_sha256 = excluded.words_sha256, engine = excluded.engine, reason = NULL,
           rotation = excluded.rotation, languages = excluded.languages, note = excluded.note, updated_at = now()
         WHERE page_text.status <> 'done'
         RETURNING index`,
        [p.dossierId, p.index, p.source, p.confidence, p.textSha256, p.wordsSha256, p.engine, p.rotation ?? 0, p.languages ?? null, p.note ?? null],
      );
      if (changed.length === 0) return false;
      await tx.query(
        `INSERT INTO page_search (dossier_id, index, body, terms) VALUES ($1, $2, $3, $4::tsvector)
         ON CONFLICT (dossier_id, index) DO UPDATE SET body = excluded.body, terms = excluded.terms`,
        [p.dossierId, p.index, p.text, p.terms],
      );
      await this.onPageFinished(p.dossierId, tx);
      return true;
    });
  }

  async recordFailure(
    dossierId: string,
    index: number,
    reason: string,
    options: { readonly maxAttempts: number; readonly retry: (attempts: number, within: Tx) => Promise<void> },
  ): Promise<{ attempts: number; status: OcrStatus }> {
    return this.db.transaction(async (tx: Queryable) => {
      const rows = await tx.query<{ attempts: number; status: OcrStatus }>(
        `INSERT INTO page_text (dossier_id, index, status, reason, attempts, updated_at)
         VALUES ($1, $2, CASE WHEN $4::int <= 1 THEN 'failed' ELSE 'queued' END, $3, 1, now())
         ON CONFLICT (dossier_id, index) DO UPDATE SET attempts = page_text.attempts + 1, reason = excluded.reason,
           status = CASE WHEN page_text.attempts + 1 >= $4::int THEN 'failed' ELSE 'queued' END, updated_at = now()
         WHERE page_text.status = 'queued'
         RETURNING attempts, status`,
        [dossierId, index, reason.slice(0, 1000), options.maxAttempts],
      );
      const row = rows[0];
      if (!row) {
        const current = await tx.query<{ attempts: number; status: OcrStatus }>(
          `SELECT attempts, status FROM page_text WHERE dossier_id = $1 AND index = $2`,
          [dossierId, index],
        );
        return current[0] ?? { attempts: 0, status: 'queued' };
      }
      if (row.status === 'queued') await options.retry(row.attempts, tx as unknown as Tx);
      else await this.onPageFinished(dossierId, tx);
      return row;
    });
  }

  async failRemaining(dossierId: string, from: number, to: number, reason: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO page_text (dossier_id, index, status, reason, updated_at)
         SELECT p.dossier_id, p.index, 'failed', $4, now() FROM pages p WHERE p.dossier_id = $1 AND p.index BETWEEN $2 AND $3
         ON CONFLICT (dossier_id, index) DO UPDATE SET status = 'failed', reason = excluded.reason, updated_at = now()
         WHERE page_text.status = 'queued'`,
        [dossierId, from, to, reason.slice(0, 1000)],
      );
      await this.onPageFinished(dossierId, tx);
    });
  }

  async progress(dossierId: string): Promise<OcrProgress> {
    const rows = await this.db.query<{ done: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE status = 'done')::int AS done, count(*) FILTER (WHERE status = 'failed')::int AS failed
         FROM page_text WHERE dossier_id = $1`,
      [dossierId],
    );
    return { done: rows[0]?.done ?? 0, failed: rows[0]?.failed ?? 0 };
  }

  async progressOf(dossierIds: readonly string[]): Promise<Map<string, OcrProgress>> {
    const counts = new Map<string, OcrProgress>(dossierIds.map((id) => [id, { done: 0, failed: 0 }]));
    if (dossierIds.length === 0) return counts;
    const rows = await this.db.query<{ dossier_id: string; done: number; failed: number }>(
      `SELECT dossier_id, count(*) FILTER (WHERE status = 'done')::int AS done, count(*) FILTER (WHERE status = 'failed')::int AS failed
         FROM page_text WHERE dossier_id = ANY($1::text[]) GROUP BY dossier_id`,
      [dossierIds],
    );
    for (const r of rows) counts.set(r.dossier_id, { done: r.done, failed: r.failed });
    return counts;
  }
}
