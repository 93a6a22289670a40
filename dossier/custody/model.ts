/** Custody records: agencies, stages of proceedings, transfers of sealed dossiers between agencies. */
/** `committee`: a supervising body (政法委); its supervisors read every agency's transfer metadata. */
export const AGENCY_KINDS = ['police', 'procuratorate', 'court', 'committee', 'other'] as const;
export type AgencyKind = (typeof AGENCY_KINDS)[number];

export interface Agency {
  readonly id: string;
  readonly name: string;
  readonly kind: AgencyKind;
}

export interface Stage {
  /** Stable machine name, e.g. `prosecution`. */
  readonly name: string;
  readonly label: { readonly en: string; readonly 'zh-CN': string };
  /** ISO 8601 duration the receiving agency has for this stage, e.g. `P1M`. */
  readonly deadline: string;
  readonly order: number;
}

export const TRANSFER_STATUSES = ['pending', 'accepted', 'returned'] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];

export interface Transfer {
  readonly id: string;
  readonly dossierId: string;
  readonly caseId: string;
  readonly from: string;
  readonly to: string;
  readonly stage: string;
  readonly note: string | null;
  readonly status: TransferStatus;
  readonly sentBy: string;
  readonly sentAt: Date;
  readonly answeredBy: string | null;
  readonly answeredAt: Date | null;
  readonly reason: string | null;
  /** The signed receipt (JWS compact) of the answer; null while pending. */
  readonly receipt: string | null;
  /** sentAt plus the stage's deadline in force when it was sent. */
  readonly dueAt: Date | null;
  /** When the scheduled check found it pending past dueAt (once; null otherwise). */
  readonly overdueAt: Date | null;
}

/** One agency's own number for a case. */
export interface CaseNumber {
  readonly agency: string;
  readonly number: string;
}
