/**
 * Browser sessions at the HTTP edge: the session cookie, CSRF checking, and the sign-in routes
 * (POST /api/session signs in, GET tells who is signed in, DELETE signs out on the server).
 * A session reaches the same /api and /files routes as a bearer token, with the same principal.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { resumeSession, sessionIdHash, signIn, type SignInDeps } from '../dossier/access/sign-in.js';
import { DossierError } from '../dossier/errors.js';
import type { SessionRecord } from '../dossier/ports/accounts.js';
import type { AuditLog } from '../dossier/ports/audit-log.js';
import { principalOf } from './auth.js';
import { parseBody } from './validate.js';

export interface SessionRouteDeps extends SignInDeps {
  readonly audit: AuditLog;
  /** Mark cookies Secure even when the request reached us as plain HTTP (TLS ends at a proxy: PUBLIC_URL is https). */
  readonly secureCookies: boolean;
}

const PLAIN_NAME = 'dossier_session';
// Under HTTPS the __Host- prefix pins the cookie to this origin: no subdomain can set or shadow it.
const SECURE_NAME = '__Host-dossier_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const sessions = new WeakMap<IncomingMessage, { secret: string; session: SessionRecord }>();

const isSecure = (req: Request, deps: SessionRouteDeps) => req.secure || deps.secureCookies;
const cookieName = (req: Request, deps: SessionRouteDeps) => (isSecure(req, deps) ? SECURE_NAME : PLAIN_NAME);

// httpOnly: no script reads it; SameSite=Strict: no other site's page makes the browser send it.
export const sessionCookie = (req: Request, deps: SessionRouteDeps, value: string, maxAge: number) =>
  stringifySetCookie({ name: cookieName(req, deps), value, httpOnly: true, sameSite: 'strict', secure: isSecure(req, deps), path: '/', maxAge });

/** The session secret the request's cookie carries, if any. */
export function sessionSecretOf(req: Request, deps: SessionRouteDeps): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  const value = parseCookie(header)[cookieName(req, deps)];
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Authenticates a request by its session cookie; state-changing methods must carry the session's
 * CSRF token in X-CSRF-Token (a cross-site page can make the browser send the cookie, never read
 * the token). Null when the request has no session cookie at all.
 */
export async function authenticateSession(req: Request, deps: SessionRouteDeps): Promise<SessionRecord | null> {
  const secret = sessionSecretOf(req, deps);
  if (!secret) return null;
  const session = await resumeSession(deps, secret);
  if (!session) throw new DossierError('unauthenticated', 'session expired or ended; sign in again');
  if (!SAFE_METHODS.has(req.method)) {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameToken(sent, session.csrfToken)) throw new DossierError('csrf_failed', 'missing or wrong X-CSRF-Token for this session');
  }
  sessions.set(req, { secret, session });
  return session;
}

const signInBody = z.strictObject({
  user: z.string().min(1).max(200),
  password: z.string().min(1).max(4096),
});

// Failed sign-ins per client address, besides the per-account lock (dossier/access/sign-in.ts):
// one address guessing across many accounts is slowed too.
const ADDRESS_WINDOW_MS = 10 * 60_000;
const ADDRESS_MAX_FAILURES = 30;

function addressLimiter() {
  const failures = new Map<string, { count: number; since: number }>();
  return {
    check(address: string, now: number) {
      const f = failures.get(address);
      if (f && now - f.since < ADDRESS_WINDOW_MS && f.count >= ADDRESS_MAX_FAILURES) {
        throw new DossierError('too_many_attempts', 'too many failed sign-ins from this address; try again later', { retryAfter: Math.ceil((f.since + ADDRESS_WINDOW_MS - now) / 1000) });
      }
    },
    fail(address: string, now: number) {
      const f = failures.get(address);
      if (!f || now - f.since >= ADDRESS_WINDOW_MS) failures.set(address, { count: 1, since: now });
      else f.count += 1;
      if (failures.size > 10_000) for (const [k, v] of failures) if (now - v.since >= ADDRESS_WINDOW_MS) failures.delete(k);
    },
  };
}

const describe = (s: SessionRecord) => ({
  user: s.userId,
  agency: s.agency,
  roles: s.roles,
  csrfToken: s.csrfToken,
  expiresAt: s.expiresAt.toISOString(),
});

/** The sign-in routes; mounted under /api before bearer authentication. */
export function sessionRouter(deps: SessionRouteDeps, auth: express.RequestHandler): Router {
  const r = Router();
  const limiter = addressLimiter();

  r.post('/session', express.json({ limit: '16kb' }), async (req: Request, res: Response) => {
    // JSON only: a cross-site form cannot send it, and a cross-site fetch of it needs a CORS
    // preflight we never grant, so no other site can sign a browser in (login CSRF).
    if (!req.is('application/json')) throw new DossierError('bad_request', 'sign in with a JSON body');
    const body = parseBody(signInBody, req.body);
    const address = req.socket.remoteAddress ?? 'unknown';
    limiter.check(address, Date.now());
    let made;
    try {
      made = await signIn(deps, body.user, body.password);
    } catch (err) {
      if (err instanceof DossierError && err.code === 'invalid_credentials') limiter.fail(address, Date.now());
      if (err instanceof DossierError && typeof err.details?.retryAfter === 'number') res.setHeader('Retry-After', String(err.details.retryAfter));
      // Logged, not chained: anyone may try, and the audit chain is not theirs to fill.
      req.log?.warn({ user: body.user, address, code: err instanceof DossierError ? err.code : 'internal' }, 'sign-in refused');
      throw err;
    }
    const { secret, session } = made;
    await deps.audit.record({ actor: session.userId, agency: session.agency, action: 'session.start', target: { type: 'account', id: session.userId }, details: { address } });
    res.setHeader('Set-Cookie', sessionCookie(req, deps, secret, deps.policy.absoluteSeconds));
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json(describe(session));
  });

  r.get('/session', auth, (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    const s = sessions.get(req);
    if (s) return void res.json(describe(s.session));
    const p = principalOf(req); // a bearer token: who it names, no session
    res.json({ user: p.subject, agency: p.agency, roles: p.roles });
  });

  r.delete('/session', auth, async (req: Request, res: Response) => {
    const s = sessions.get(req);
    if (!s) throw new DossierError('bad_request', 'no session to end: this request used a bearer token');
    await deps.sessions.end(sessionIdHash(s.secret), new Date());
    await deps.audit.record({ actor: s.session.userId, agency: s.session.agency, action: 'session.end', target: { type: 'account', id: s.session.userId } });
    res.setHeader('Set-Cookie', sessionCookie(req, deps, '', 0));
    res.status(204).end();
  });
  return r;
}
