/** Signed download links as stored: the row behind each link token (id = the token's jti). */
import type { Tx } from './transactions.js';

export const LINK_SCOPES = ['export'] as const;
/** `export`: the export ZIP and the dossier's single pages. */
export type LinkScope = (typeof LINK_SCOPES)[number];

export interface LinkRecord {
  readonly id: string;
  readonly dossierId: string;
  readonly caseId: string;
  /** The agency the link is for (the token's aud). */
  readonly audience: string;
  readonly scope: LinkScope;
  readonly createdBy: string;
  readonly createdAgency: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly singleUse: boolean;
  /** The first use. */
  readonly usedAt: Date | null;
  readonly uses: number;
  readonly revokedAt: Date | null;
  readonly revokedBy: string | null;
}

export type NewLink = Omit<LinkRecord, 'usedAt' | 'uses' | 'revokedAt' | 'revokedBy'>;

export interface LinkRepository {
  create(link: NewLink, within?: Tx): Promise<LinkRecord>;
  get(id: string): Promise<LinkRecord | null>;
  /** Revokes a link that `agency` created; null when it has none by that id. A second revocation keeps the first's time. */
  revoke(id: string, agency: string, by: string, at: Date, within?: Tx): Promise<LinkRecord | null>;
  /**
   * Counts one use in a single conditional UPDATE, so that two concurrent uses of a single-use
   * link cannot both pass. Null when the link is revoked, expired at `now`, or single-use and used.
   */
  consume(id: string, now: Date): Promise<LinkRecord | null>;
  /** The links `agency` made to a dossier, newest first. */
  listByDossier(dossierId: string, agency: string): Promise<LinkRecord[]>;
}
