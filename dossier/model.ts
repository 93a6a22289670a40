/** The domain's records, as the rest of the system sees them. */
import type { PageMediaType } from './pages/types.js';

export const ROLES = ['clerk', 'prosecutor', 'judge', 'auditor', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated caller: who, for which agency, with which roles. */
export interface Principal {
  readonly subject: string;
  readonly agency: string;
  readonly roles: readonly Role[];
}

export interface CaseRecord {
  readonly id: string;
  readonly number: string;
  readonly title: string;
  readonly agency: string;
  readonly createdBy: string;
  readonly createdAt: Date;
}

export const DOSSIER_STATUSES = ['receiving', 'processing', 'sealed', 'rejected'] as const;
export type DossierStatus = (typeof DOSSIER_STATUSES)[number];

export interface DossierRecord {
  readonly id: string;
  readonly caseId: string;
  readonly agency: string;
  readonly uploadedBy: string;
  readonly filename: string;
  readonly title: string | null;
  readonly status: DossierStatus;
  /** Upload-Length declared by the client; null while deferred. */
  readonly declaredBytes: number | null;
  /** Bytes of the finished upload. */
  readonly bytes: number | null;
  /** SHA-256 of the finished upload (the original), lowercase hex. */
  readonly sha256: string | null;
  readonly mediaType: string | null;
  readonly pageCount: number | null;
  readonly pagesDone: number;
  readonly thumbnailsDone: number;
  readonly merkleRoot: string | null;
  readonly manifestJws: string | null;
  readonly kid: string | null;
  readonly sealedAt: Date | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface PageRecord {
  readonly dossierId: string;
  /** 1-based position in the dossier. */
  readonly index: number;
  readonly sha256: string;
  /** SM3 of the same bytes, under the national suite (null or absent under the default). */
  readonly sm3?: string | null;
  readonly size: number;
  readonly mediaType: PageMediaType;
  readonly width: number | null;
  readonly height: number | null;
  readonly sourceName: string;
  /** Page statement: JWS compact serialization. */
  readonly signature: string;
  readonly thumbnailSha256: string | null;
}
