/**
 * Authentication for /api and /files: a bearer token (systems, the CLI) or, without one, a
 * browser session cookie (server/session.ts). Either way the same principal rides on the
 * request from here on, so every route applies the same access rules.
 */
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { DossierError } from '../dossier/errors.js';
import type { TokenVerifier } from '../dossier/access/tokens.js';
import { sessionPrincipal } from '../dossier/access/sign-in.js';
import type { Principal } from '../dossier/model.js';
import { sendError } from './errors.js';
import type { CertificatePrincipal } from './client-certificates.js';
import { authenticateSession, type SessionRouteDeps } from './session.js';

const principals = new WeakMap<IncomingMessage, Principal>();

export function authenticate(verify: TokenVerifier, sessions?: SessionRouteDeps, fromCertificate?: CertificatePrincipal) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'OPTIONS') return next(); // CORS preflight carries no credentials
    // A machine client of mutual TLS: its verified certificate is its credential, no token needed.
    if (fromCertificate && req.headers.authorization === undefined) {
      try {
        const principal = fromCertificate(req);
        if (principal) {
          principals.set(req, principal);
          req.log = req.log?.child({ agency: principal.agency, sub: principal.subject, via: 'certificate' });
          return next();
        }
      } catch (err) {
        return sendError(res, err);
      }
    }
    if (req.headers.authorization === undefined && sessions) {
      try {
        const session = await authenticateSession(req, sessions);
        if (session) {
          principals.set(req, sessionPrincipal(session));
          req.log = req.log?.child({ agency: session.agency, sub: session.userId, via: 'session' });
          return next();
        }
      } catch (err) {
        return sendError(res, err);
      }
    }
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
