import type { CaseRecord, DossierRecord, DossierStatus, PageRecord } from '../model.js';
import type { OutlineEntry } from '../pages/types.js';
import type { Tx } from './transactions.js';

export interface NewCase {
  readonly id: string;
  readonly number: string;
  readonly title: string;
  readonly agency: string;
  readonly createdBy: string;
}

export interface CaseRepository {
  /** Throws DossierError('conflict') when the agency already has a case with that number. */
  create(c: NewCase, within?: Tx): Promise<CaseRecord>;
  /** The case if `agency` may see it, else null (callers answer 404 either way). */
  findVisible(id: string, agency: string): Promise<CaseRecord | null>;
  listVisible(agency: string, options: { limit: number; offset: number; number?: string }): Promise<CaseRecord[]>;
}

export interface NewDossier {
  readonly id: string;
  readonly caseId: string;
  readonly agency: string;
  readonly uploadedBy: string;
  readonly filename: string;
  readonly title: string | null;
  readonly declaredBytes: number | null;
}

export interface SealRecord {
  readonly merkleRoot: string;
  readonly manifestJws: string;
  readonly kid: string;
  readonly sealedAt: Date;
  readonly pageCount: number;
  /** The bookmarks of the dossier's PDFs, in dossier page numbers; stored with the seal when there are any. */
  readonly outline?: readonly OutlineEntry[];
}

export interface DossierRepository {
  create(d: NewDossier): Promise<DossierRecord>;
  get(id: string): Promise<DossierRecord | null>;
  findVisible(id: string, agency: string): Promise<DossierRecord | null>;
  /** Those of `ids` the agency sees (the rule of findVisible), in no particular order. */
  findVisibleMany(ids: readonly string[], agency: string): Promise<DossierRecord[]>;
  listByCase(caseId: string): Promise<DossierRecord[]>;
  /** Ids of dossiers in a status, oldest first (crash recovery at start). */
  idsByStatus(status: DossierStatus, limit: number): Promise<string[]>;
  /** receiving → processing, with the finished upload's size and hash (hash may come later); false if it was not receiving. */
  markReceived(id: string, bytes: number, sha256: string | null, within?: Tx): Promise<boolean>;
  setOriginal(id: string, sha256: string, mediaType: string): Promise<void>;
  /** Pages are written in batches, idempotently: a re-run overwrites the same rows. */
  putPages(pages: readonly PageRecord[]): Promise<void>;
  /** Removes every page row at or after `fromIndex` (a re-run that finds fewer pages). */
  deletePagesFrom(id: string, fromIndex: number): Promise<void>;
  setProgress(id: string, pagesDone: number): Promise<void>;
  /**
   * `pages` written (as putPages), the progress set to `pagesDone`, and with `trimFrom` every row
   * at or after it removed: what putPages, setProgress and deletePagesFrom do, in fewer round trips.
   */
  recordPages(id: string, pages: readonly PageRecord[], pagesDone: number, trimFrom: number | null): Promise<void>;
  seal(id: string, seal: SealRecord, within?: Tx): Promise<void>;
  reject(id: string, code: string, message: string, within?: Tx): Promise<void>;
  delete(id: string): Promise<void>;
  listPages(id: string, options: { offset: number; limit: number }): Promise<PageRecord[]>;
  getPage(id: string, index: number): Promise<PageRecord | null>;
  /** Every page's SHA-256 (or SM3, for a dossier sealed under sm2-sm3) in page order: the Merkle leaves' data. */
  pageHashes(id: string, digest?: 'sha256' | 'sm3'): Promise<string[]>;
  setThumbnails(id: string, thumbs: readonly { index: number; sha256: string | null }[]): Promise<void>;
  /** The outline stored with the seal; empty when the dossier has none. */
  outline(id: string): Promise<OutlineEntry[]>;
}
