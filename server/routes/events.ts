/**
 * GET /api/events?after=&limit=: the caller's agency's event feed, oldest first. `next` is the
 * cursor to pass as `after`; reading on from it loses and repeats nothing (storage/db/event-feed.ts).
 */
import { Router } from 'express';
import { z } from 'zod';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { SqlEventFeed, StoredEvent } from '../../storage/db/event-feed.js';
import { principalOf } from '../auth.js';
import { parseQuery } from '../validate.js';
import { auditSupervisorRead } from './supervision.js';

export interface EventRouteDeps {
  readonly events: SqlEventFeed;
  readonly audit: AuditLog;
}

const cursor = z.string().regex(/^\d{1,18}$/, 'expected a cursor from a previous answer’s next').transform(Number);
export const eventsQuery = z.object({ after: cursor.default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) });

/** The public shape of an event, in the feed and in webhook bodies alike. */
export const eventView = (e: StoredEvent) => ({ id: String(e.seq), type: e.type, time: e.time, data: e.data });

export function eventsRouter(deps: EventRouteDeps): Router {
  const r = Router();
  r.get('/events', async (req, res) => {
    const p = principalOf(req);
    const q = parseQuery(eventsQuery, req.query);
    await auditSupervisorRead(deps.audit, p, req, 'events');
    const events = await deps.events.list(p.agency, q.after, q.limit);
    res.json({ events: events.map(eventView), next: String(events.at(-1)?.seq ?? q.after) });
  });
  return r;
}
