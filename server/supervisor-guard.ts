/**
 * The supervising committee reads metadata and statistics, never content. Deny by default: a
 * caller holding the supervisor role reaches only the routes listed here, and every other route
 * (pages, texts, thumbnails, exports, links, search, cases, dossiers, …, and any route added
 * later) answers 404, as for something that does not exist.
 */
import type { NextFunction, Request, Response } from 'express';
import { principalOf } from './auth.js';
import { sendError, notFound } from './errors.js';

/** GET routes (under /api) a supervisor may read. */
const SUPERVISOR_ROUTES: readonly RegExp[] = [
  /^\/supervision\/(overdue|transfers)$/,
  /^\/stats$/,
  /^\/events$/,
  /^\/stages$/,
  /^\/agencies$/,
  /^\/audit\/(verify|checkpoint)$/,
];

export function isSupervisorRoute(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && SUPERVISOR_ROUTES.some((r) => r.test(path));
}

export function supervisorGuard(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'OPTIONS') return next();
  const p = principalOf(req);
  if (p.roles.includes('supervisor') && !isSupervisorRoute(req.method, req.path)) return sendError(res, notFound('resource'));
  next();
}
