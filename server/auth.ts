/** Bearer authentication for /api and /files: the principal rides on the request from here on. */
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { DossierError } from '../dossier/errors.js';
import type { TokenVerifier } from '../dossier/access/tokens.js';
import type { Principal } from '../dossier/model.js';
import { sendError } from './errors.js';

const principals = new WeakMap<IncomingMessage, Principal>();

export function authenticate(verify: TokenVerifier) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'OPTIONS') return next(); // CORS preflight carries no credentials
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!match) return sendError(res, new DossierError('unauthenticated', 'missing bearer token'));
    try {
      const principal = await verify(match[1]!);
      principals.set(req, principal);
      req.log = req.log?.child({ agency: principal.agency, sub: principal.subject });
      next();
    } catch (err) {
      sendError(res, err);
    }
  };
}

/** The authenticated caller of a request that passed `authenticate`. */
export function principalOf(req: IncomingMessage): Principal {
  const p = principals.get(req);
  if (!p) throw new DossierError('unauthenticated', 'not authenticated');
  return p;
}
