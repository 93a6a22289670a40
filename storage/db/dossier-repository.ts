import type { DossierRecord, DossierStatus, PageRecord } from '../../dossier/model.js';
import type { OutlineEntry, PageMediaType } from '../../dossier/pages/types.js';
import type { DossierRepository, NewDossier, SealRecord } from '../../dossier/ports/repositories.js';
import { type Database, queryableIn, inTransaction } from './database.js';
import { caseVisibleSql } from './visibility.js';
import type { Tx } from '../../dossier/ports/transactions.js';

interface DossierRow {
  id: string;
  case_id: string;
  agency_id: string;
  uploaded_by: string;
  filename: string;
  title: string | null;
  status: DossierStatus;
  declared_bytes: number | null;
  bytes: number | null;
  sha256: string | null;
  media_type: string | null;
  page_count: number | null;
  pages_done: number;
  thumbnails_done: number;
  merkle_root: string | null;
  manifest_jws: string | null;
  kid: string | null;
  sealed_at: Date | null;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  updated_at: Date;
}

const toDossier = (r: DossierRow): DossierRecord => ({
  id: r.id,
  caseId: r.case_id,
  agency: r.agency_id,
  uploadedBy: r.uploaded_by,
  filename: r.filename,
  title: r.title,
  status: r.status,
  declaredBytes: r.declared_bytes,
  bytes: r.bytes,
  sha256: r.sha256,
  mediaType: r.media_type,
  pageCount: r.page_count,
  pagesDone: r.pages_done,
  thumbnailsDone: r.thumbnails_done,
  merkleRoot: r.merkle_root,
  manifestJws: r.manifest_jws,
  kid: r.kid,
  sealedAt: r.sealed_at ? new Date(r.sealed_at) : null,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

interface PageRow {
  dossier_id: string;
  index: number;
  sha256: string;
  sm3: string | null;
  size: number;
  media_type: PageMediaType;
  width: number | null;
  height: number | null;
  source_name: string;
  signature: string;
  thumbnail_sha256: string | null;
}

const toPage = (r: PageRow): PageRecord => ({
  dossierId: r.dossier_id,
  index: r.index,
  sha256: r.sha256,
  sm3: r.sm3 || null,
  size: r.size,
  mediaType: r.media_type,
  width: r.width,
  height: r.height,
  sourceName: r.source_name,
  signature: r.signature,
  thumbnailSha256: r.thumbnail_sha256 || null,
});

/** Rows per multi-row INSERT: few round trips, well under PostgreSQL's 65,535 parameters. */
const PAGE_BATCH = 500;

/** The upsert of page rows; with `progress`, the dossier's progress set (and rows from `trimFrom` on removed) by the same statement. */
function pageUpsert(batch: readonly PageRecord[], progress: { id: string; pagesDone: number; trimFrom: number | null } | null): [string, (string | number | null)[]] {
  const params: (string | number | null)[] = progress ? [progress.id, progress.pagesDone, progress.trimFrom] : [];
  const tuples = batch.map((p) => {
    const n = params.length;
    params.push(p.dossierId, p.index, p.sha256, p.size, p.mediaType, p.width, p.height, p.sourceName, p.signature, p.sm3 ?? null);
    return `(${Array.from({ length: 10 }, (_, k) => `$${n + k + 1}`).join(', ')})`;
  });
  const upsert = `INSERT INTO pages (dossier_id, index, sha256, size, media_type, width, height, source_name, signature, sm3)
         VALUES ${tuples.join(', ')}
         ON CONFLICT (dossier_id, index) DO UPDATE SET sha256 = excluded.sha256, sm3 = excluded.sm3, size = excluded.size,
           media_type = excluded.media_type, width = excluded.width, height = excluded.height,
           source_name = excluded.source_name, signature = excluded.signature`;
  if (!progress) return [upsert, params];
  return [
    `WITH upsert AS (${upsert} RETURNING 1),
          trim AS (DELETE FROM pages WHERE dossier_id = $1 AND index >= $3 AND $3::int IS NOT NULL)
     UPDATE dossiers SET pages_done = $2, updated_at = now() WHERE id = $1`,
    params,
  ];
}

export class SqlDossierRepository implements DossierRepository {
  constructor(private readonly db: Database) {}

  async create(d: NewDossier): Promise<DossierRecord> {
    const rows = await this.db.query<DossierRow>(
      `INSERT INTO dossiers (id, case_id, agency_id, uploaded_by, filename, title, status, declared_bytes)
       VALUES ($1, $2, $3, $4, $5, $6, 'receiving', $7) RETURNING *`,
      [d.id, d.caseId, d.agency, d.uploadedBy, d.filename, d.title, d.declaredBytes],
    );
    return toDossier(rows[0]!);
  }

  async get(id: string): Promise<DossierRecord | null> {
    const rows = await this.db.query<DossierRow>(`SELECT * FROM dossiers WHERE id = $1`, [id]);
    return rows[0] ? toDossier(rows[0]) : null;
  }

  async findVisible(id: string, agency: string): Promise<DossierRecord | null> {
    // Visible exactly when its case is: one rule, kept in the case repository's terms.
    const rows = await this.db.query<DossierRow>(
      `SELECT d.* FROM dossiers d JOIN cases c ON c.id = d.case_id WHERE d.id = $2 AND ${caseVisibleSql('c', '$1')}`,
      [agency, id],
    );
    return rows[0] ? toDossier(rows[0]) : null;
  }

  async findVisibleMany(ids: readonly string[], agency: string): Promise<DossierRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<DossierRow>(
      `SELECT d.* FROM dossiers d JOIN cases c ON c.id = d.case_id WHERE d.id = ANY($2::text[]) AND ${caseVisibleSql('c', '$1')}`,
      [agency, [...ids]],
    );
    return rows.map(toDossier);
  }

  async listByCase(caseId: string): Promise<DossierRecord[]> {
    const rows = await this.db.query<DossierRow>(`SELECT * FROM dossiers WHERE case_id = $1 ORDER BY created_at, id`, [caseId]);
    return rows.map(toDossier);
  }

  async idsByStatus(status: DossierStatus, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM dossiers WHERE status = $1 ORDER BY created_at LIMIT $2`, [status, limit]);
    return rows.map((r) => r.id);
  }

  async markReceived(id: string, bytes: number, sha256: string | null, within?: Tx): Promise<boolean> {
    const rows = await queryableIn(this.db, within).query(
      `UPDATE dossiers SET status = 'processing', bytes = $2, sha256 = coalesce($3, sha256), updated_at = now()
        WHERE id = $1 AND status = 'receiving' RETURNING id`,
      [id, bytes, sha256],
    );
    return rows.length === 1;
  }

  async setOriginal(id: string, sha256: string, mediaType: string): Promise<void> {
    await this.db.query(`UPDATE dossiers SET sha256 = $2, media_type = $3, updated_at = now() WHERE id = $1`, [id, sha256, mediaType]);
  }

  async putPages(pages: readonly PageRecord[]): Promise<void> {
    for (let i = 0; i < pages.length; i += PAGE_BATCH) await this.db.query(...pageUpsert(pages.slice(i, i + PAGE_BATCH), null));
  }

  async recordPages(id: string, pages: readonly PageRecord[], pagesDone: number, trimFrom: number | null): Promise<void> {
    // The rows, the progress and (for the last batch) the trim of an earlier attempt's extra rows
    // in one statement: on the embedded database each statement is main-thread CPU.
    for (let i = 0; i < pages.length; i += PAGE_BATCH) {
      const last = i + PAGE_BATCH >= pages.length;
      await this.db.query(...pageUpsert(pages.slice(i, i + PAGE_BATCH), { id, pagesDone: last ? pagesDone : pagesDone - pages.length + i + PAGE_BATCH, trimFrom: last ? trimFrom : null }));
    }
    if (pages.length === 0) {
      await this.db.query(
        `WITH trim AS (DELETE FROM pages WHERE dossier_id = $1 AND index >= $3 AND $3::int IS NOT NULL)
         UPDATE dossiers SET pages_done = $2, updated_at = now() WHERE id = $1`,
        [id, pagesDone, trimFrom],
      );
    }
  }

  async deletePagesFrom(id: string, fromIndex: number): Promise<void> {
    await this.db.query(`DELETE FROM pages WHERE dossier_id = $1 AND index >= $2`, [id, fromIndex]);
  }

  async setProgress(id: string, pagesDone: number): Promise<void> {
    await this.db.query(`UPDATE dossiers SET pages_done = $2, updated_at = now() WHERE id = $1`, [id, pagesDone]);
  }

  async seal(id: string, s: SealRecord, within?: Tx): Promise<void> {
    await queryableIn(this.db, within).query(
      `UPDATE dossiers SET status = 'sealed', merkle_root = $2, manifest_jws = $3, kid = $4, sealed_at = $5,
              page_count = $6, pages_done = $6, updated_at = now()
        WHERE id = $1 AND status = 'processing'`,
      [id, s.merkleRoot, s.manifestJws, s.kid, s.sealedAt, s.pageCount],
    );
    if (s.outline?.length) {
      await queryableIn(this.db, within).query(
        `INSERT INTO dossier_outlines (dossier_id, entries) VALUES ($1, $2::jsonb)
           ON CONFLICT (dossier_id) DO UPDATE SET entries = EXCLUDED.entries`,
        [id, JSON.stringify(s.outline)],
      );
    }
  }

  async outline(id: string): Promise<OutlineEntry[]> {
    const rows = await this.db.query<{ entries: OutlineEntry[] | string }>(`SELECT entries FROM dossier_outlines WHERE dossier_id = $1`, [id]);
    const entries = rows[0]?.entries;
    return typeof entries === 'string' ? (JSON.parse(entries) as OutlineEntry[]) : (entries ?? []);
  }

  async reject(id: string, code: string, message: string, within?: Tx): Promise<void> {
    await inTransaction(this.db, within, async (tx) => {
      await tx.query(`DELETE FROM pages WHERE dossier_id = $1`, [id]);
      await tx.query(
        `UPDATE dossiers SET status = 'rejected', error_code = $2, error_message = $3, page_count = NULL,
                pages_done = 0, updated_at = now() WHERE id = $1 AND status <> 'sealed'`,
        [id, code, message.slice(0, 2000)],
      );
    });
  }

  async delete(id: string): Promise<void> {
    await this.db.query(`DELETE FROM dossiers WHERE id = $1 AND status = 'receiving'`, [id]);
  }

  async listPages(id: string, o: { offset: number; limit: number }): Promise<PageRecord[]> {
    const rows = await this.db.query<PageRow>(
      `SELECT * FROM pages WHERE dossier_id = $1 ORDER BY index LIMIT $2 OFFSET $3`,
      [id, o.limit, o.offset],
    );
    return rows.map(toPage);
  }

  async getPage(id: string, index: number): Promise<PageRecord | null> {
    const rows = await this.db.query<PageRow>(`SELECT * FROM pages WHERE dossier_id = $1 AND index = $2`, [id, index]);
    return rows[0] ? toPage(rows[0]) : null;
  }

  async pageHashes(id: string, digest: 'sha256' | 'sm3' = 'sha256'): Promise<string[]> {
    // One aggregated string instead of thousands of rows: row decoding dominates on PGlite.
    const column = digest === 'sm3' ? 'sm3' : 'sha256'; // a fixed name, never caller text
    const rows = await this.db.query<{ h: string | null }>(`SELECT string_agg(${column}, '' ORDER BY index) AS h FROM pages WHERE dossier_id = $1`, [id]);
    return rows[0]?.h?.match(/.{64}/g) ?? [];
  }

  /** A null sha256 records "no thumbnail can be made" (stored as '' so the page counts as done). */
  async setThumbnails(id: string, thumbs: readonly { index: number; sha256: string | null }[]): Promise<void> {
    if (thumbs.length === 0) return;
    await this.db.query(
      `UPDATE pages p SET thumbnail_sha256 = t.sha
         FROM unnest($2::int[], $3::text[]) AS t(idx, sha)
        WHERE p.dossier_id = $1 AND p.index = t.idx`,
      [id, thumbs.map((t) => t.index), thumbs.map((t) => t.sha256 ?? '')],
    );
    await this.db.query(
      `UPDATE dossiers SET thumbnails_done = (SELECT count(*) FROM pages WHERE dossier_id = $1 AND thumbnail_sha256 IS NOT NULL),
              updated_at = now() WHERE id = $1`,
      [id],
    );
  }
}
