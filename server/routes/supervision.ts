/**
 * Supervision: the overdue list, transfer metadata and statistics. A supervisor of a supervising
 * committee (agency kind `committee`) sees every agency's transfers; everyone else sees the
 * transfers their own agency sent or received. Metadata only, never content; every read by a
 * supervisor is recorded in the audit chain.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { stringify } from 'csv-stringify/sync';
import { clockOf } from '../../dossier/supervision/clock.js';
import { TRANSFER_STATUSES } from '../../dossier/custody/model.js';
import type { Principal } from '../../dossier/model.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { AgencyRepository } from '../../dossier/ports/custody.js';
import type { TransferMetadata } from '../../dossier/ports/supervision.js';
import type { SqlSupervisionRepository, Stats } from '../../storage/db/supervision-repository.js';
import { agencyIdSchema } from '../../dossier/custody/agency-schema.js';
import { principalOf } from '../auth.js';
import { notFound } from '../errors.js';
import { parseQuery } from '../validate.js';

export interface SupervisionRouteDeps {
  readonly supervision: SqlSupervisionRepository;
  readonly agencies: AgencyRepository;
  readonly audit: AuditLog;
}

const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]).transform((s) => new Date(s));
const page = { limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).default(0) };
const windowQuery = {
  from: instant.default(() => new Date(0)),
  to: instant.optional(),
  agency: agencyIdSchema.optional(),
  stage: z.string().min(1).max(64).optional(),
};
export const overdueQuery = z.object({ include: z.enum(['due-soon']).optional(), ...page });
export const transfersQuery = z.object({ ...windowQuery, status: z.enum(TRANSFER_STATUSES).optional(), ...page });
export const statsQuery = z.object(windowQuery);

/** null: every agency (a committee's supervisor); else the caller's own agency. */
export async function scopeOf(agencies: AgencyRepository, p: Principal): Promise<string | null> {
  if (!p.roles.includes('supervisor')) return p.agency;
  return (await agencies.get(p.agency))?.kind === 'committee' ? null : p.agency;
}

/** Records a supervisor's read (what was asked, never an answer). */
export async function auditSupervisorRead(audit: AuditLog, p: Principal, req: Request, what: string): Promise<void> {
  if (!p.roles.includes('supervisor')) return;
  await audit.record({ actor: p.subject, agency: p.agency, action: 'supervision.read', target: { type: 'supervision', id: what }, details: { query: req.query } });
}

const iso = (d: Date | null) => d?.toISOString() ?? null;
export const metadataView = (t: TransferMetadata, now: Date) => {
  const clock = clockOf({ status: t.status, sentAt: t.sentAt, dueAt: t.dueAt }, now);
  return {
    transferId: t.transferId, caseId: t.caseId, caseNumber: t.caseNumber, dossierId: t.dossierId, fromAgency: t.fromAgency, toAgency: t.toAgency,
    stage: t.stage, status: t.status, sentAt: t.sentAt.toISOString(), dueAt: iso(t.dueAt), answeredAt: iso(t.answeredAt), overdueAt: iso(t.overdueAt),
    clock: clock.state, lateSeconds: clock.lateSeconds === null ? null : Math.round(clock.lateSeconds), reason: t.reason, pageCount: t.pageCount, bytes: t.bytes,
  };
};

const CSV_COLUMNS = ['agency', 'stage', 'sent', 'accepted', 'returned', 'pending', 'overdue', 'due_soon', 'pages', 'bytes', 'accept_p50_seconds', 'accept_p90_seconds'];

/** One row per receiving agency and stage, then the total (agency and stage `*`). */
export function statsCsv(s: Stats): string {
  const row = (agency: string, stage: string, c: Omit<Stats, 'byAgencyStage' | 'returnReasons' | 'ocrBacklog'>) =>
    [agency, stage, c.sent, c.accepted, c.returned, c.pending, c.overdue, c.dueSoon, c.pages, c.bytes, c.acceptSeconds.p50 ?? '', c.acceptSeconds.p90 ?? ''];
  // escape_formulas: agency and stage names are data a spreadsheet must not run.
  return stringify([...s.byAgencyStage.map((g) => row(g.agency, g.stage, g)), row('*', '*', s)], { header: true, columns: CSV_COLUMNS, escape_formulas: true });
}

export function supervisionRouter(deps: SupervisionRouteDeps): Router {
  const r = Router();

  /** The agency filter within the caller's scope: another agency outside it is 404. */
  const scoped = async (p: Principal, asked: string | undefined): Promise<string | null> => {
    const scope = await scopeOf(deps.agencies, p);
    if (scope === null) return asked ?? null;
    if (asked !== undefined && asked !== scope) throw notFound('agency');
    return scope;
  };

  /** Every supervision read: the caller, its validated query, its scope; recorded when a supervisor asks. */
  const begin = async <S extends z.ZodType>(req: Request, what: string, schema: S, asked: (q: z.infer<S>) => string | undefined) => {
    const p = principalOf(req);
    const q = parseQuery(schema, req.query);
    const agency = await scoped(p, asked(q));
    await auditSupervisorRead(deps.audit, p, req, what);
    return { q, agency, now: new Date() };
  };

  r.get('/supervision/overdue', async (req, res) => {
    const { q, agency, now } = await begin(req, 'overdue', overdueQuery, () => undefined);
    const items = await deps.supervision.overdue(agency, { dueSoon: q.include === 'due-soon', limit: q.limit, offset: q.offset });
    res.json({ items: items.map((t) => metadataView(t, now)) });
  });

  r.get('/supervision/transfers', async (req, res) => {
    const { q, agency, now } = await begin(req, 'transfers', transfersQuery, (x) => x.agency);
    const items = await deps.supervision.transfers({ from: q.from, to: q.to ?? now, agency, stage: q.stage ?? null, status: q.status ?? null, limit: q.limit, offset: q.offset });
    res.json({ items: items.map((t) => metadataView(t, now)) });
  });

  r.get('/stats', async (req, res) => {
    const { q, agency, now } = await begin(req, 'stats', statsQuery, (x) => x.agency);
    const to = q.to ?? now;
    const stats = await deps.supervision.stats({ from: q.from, to, agency, stage: q.stage ?? null });
    res.vary('Accept');
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      res.type('text/csv; charset=utf-8').send(statsCsv(stats));
      return;
    }
    res.json({ from: q.from.toISOString(), to: to.toISOString(), agency, stage: q.stage ?? null, ...stats });
  });

  return r;
}
