/**
 * The event feed of the agencies' own systems, derived from the audit chain: an audit event that
 * an agency's system needs to hear of becomes one feed event for each agency it concerns, written
 * in the same transaction and with the same seq (storage/db/event-feed.ts). Deriving it here, in
 * one pure function, means no state change can reach the chain without reaching the feed.
 * Data is metadata only: ids, agencies, stage, counts, a return's reason; never page content.
 */
import type { AuditEvent } from '../audit/event.js';

export const EVENT_TYPES = [
  'dossier.sealed',
  'dossier.rejected',
  'dossier.searchable',
  'transfer.received',
  'transfer.accepted',
  'transfer.returned',
  'transfer.overdue',
  'link.used',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface FeedEvent {
  readonly seq: number;
  readonly type: EventType;
  readonly time: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** The agencies whose feeds carry it. */
  readonly agencies: readonly string[];
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const pick = (d: Readonly<Record<string, unknown>>, keys: readonly string[]) =>
  Object.fromEntries(keys.filter((k) => d[k] !== undefined).map((k) => [k, d[k]]));

/** The feed event an audit event stands for, or null when the feed does not carry it. */
export function feedEventOf(e: AuditEvent): FeedEvent | null {
  const d = e.details;
  const base = { seq: e.seq, time: e.time };
  const dossierData = { dossierId: e.target.id, caseId: e.caseId };
  switch (e.action) {
    case 'dossier.sealed':
      return { ...base, type: 'dossier.sealed', agencies: [e.agency], data: { ...dossierData, ...pick(d, ['pages', 'bytes', 'sha256', 'merkleRoot']) } };
    case 'dossier.rejected':
      return { ...base, type: 'dossier.rejected', agencies: [e.agency], data: { ...dossierData, ...pick(d, ['code']) } };
    case 'dossier.searchable':
      return { ...base, type: 'dossier.searchable', agencies: [e.agency], data: { ...dossierData, ...pick(d, ['pages', 'done', 'failed']) } };
    case 'transfer.send': {
      const to = text(d.to);
      if (!to) return null;
      return { ...base, type: 'transfer.received', agencies: [to], data: transferData(e, e.agency, to) };
    }
    case 'transfer.accept':
    case 'transfer.return': {
      const from = text(d.from);
      if (!from) return null;
      const type = e.action === 'transfer.accept' ? 'transfer.accepted' : 'transfer.returned';
      return { ...base, type, agencies: [from, e.agency], data: { ...transferData(e, from, e.agency), ...pick(d, ['reason']) } };
    }
    case 'transfer.overdue': {
      const from = text(d.from);
      const to = text(d.to);
      if (!from || !to) return null;
      return { ...base, type: 'transfer.overdue', agencies: [from, to], data: { ...transferData(e, from, to), ...pick(d, ['dueAt']) } };
    }
    case 'link.use':
      return { ...base, type: 'link.used', agencies: [e.agency], data: { dossierId: e.target.id.split('/')[0], caseId: e.caseId, ...pick(d, ['linkId', 'what', 'page']) } };
    default:
      return null;
  }
}

function transferData(e: AuditEvent, from: string, to: string) {
  return { transferId: e.target.id, dossierId: e.details.dossier, caseId: e.caseId, fromAgency: from, toAgency: to, stage: e.details.stage };
}
