/** The HTTP edge: routes and middleware only. Everything it uses is handed in (runtime/compose.ts). */
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Server as TusServer } from '@tus/server';
import type { TokenVerifier } from '../dossier/access/tokens.js';
import type { KeyRing } from '../dossier/signing/signer.js';
import type { CaseRepository } from '../dossier/ports/repositories.js';
import type { AuditLog } from '../dossier/ports/audit-log.js';
import type { AuditTrail } from '../dossier/ports/audit-trail.js';
import { authenticate } from './auth.js';
import type { CertificatePrincipal } from './client-certificates.js';
import { sessionRouter, type SessionRouteDeps } from './session.js';
import { tokenEndpointRouter, type TokenEndpointDeps } from './routes/oauth-token.js';
import { OIDC_START, oidcRouter, oidcUnconfigured, type OidcRouteDeps } from './oidc.js';
import { mountWebApp, securityHeaders } from './web-app.js';
import { linkLandingRouter } from './routes/link-landing.js';
import { errorBody, errorHandler } from './errors.js';
import { openApiDocument } from './openapi.js';
import { requestLog } from './request-log.js';
import type { Metrics, MetricsAccess } from './metrics.js';
import { casesRouter } from './routes/cases.js';
import { dossiersRouter, type DossierRouteDeps } from './routes/dossiers.js';
import { dossierProgressRouter } from './routes/dossier-progress.js';
import { downloadLinksRouter, type DownloadLinkDeps } from './routes/download-links.js';
import { linksRouter } from './routes/links.js';
import { auditRouter } from './routes/audit.js';
import { searchRouter, type SearchRouteDeps } from './routes/search.js';
import { agenciesRouter, type AgencyRouteDeps } from './routes/agencies.js';
import { stagesRouter, type StageRouteDeps } from './routes/stages.js';
import { transfersRouter, type TransferRouteDeps } from './routes/transfers.js';
import type { CaseNumberRepository } from '../dossier/ports/custody.js';
import { supervisorGuard } from './supervisor-guard.js';
import { supervisionRouter, type SupervisionRouteDeps } from './routes/supervision.js';
import { eventsRouter, type EventRouteDeps } from './routes/events.js';
import { webhooksRouter, type WebhookRouteDeps } from './routes/webhooks.js';
import { accountsRouter } from './routes/accounts.js';

export interface AppDeps extends DossierRouteDeps, DownloadLinkDeps, SearchRouteDeps, AgencyRouteDeps, StageRouteDeps, TransferRouteDeps,
  SupervisionRouteDeps, EventRouteDeps, WebhookRouteDeps {
  readonly log: Logger;
  readonly verify: TokenVerifier;
  readonly keys: KeyRing;
  readonly cases: CaseRepository;
  readonly caseNumbers: CaseNumberRepository;
  readonly audit: AuditLog & AuditTrail;
  readonly tus: TusServer;
  /** Whether the database and the blob store answer (`/readyz`). */
  readonly readiness: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  readonly metrics: Metrics;
  readonly metricsAccess: MetricsAccess;
  /** Browser sessions (local accounts); absent: bearer tokens only. */
  readonly sessions?: SessionRouteDeps;
  /** Single sign-on with the agency's OpenID provider; absent: local accounts only. */
  readonly oidc?: OidcRouteDeps;
  /** POST /oauth/token for machine clients (private_key_jwt). */
  readonly tokenEndpoint: TokenEndpointDeps;
  /** The built web application (dist/web); null: none is served. */
  readonly webDir?: string | null;
  /** Mutual TLS: the principal of a verified client certificate. */
  readonly certificatePrincipal?: CertificatePrincipal;
  /** express's `trust proxy` (TRUST_PROXY): whose X-Forwarded-* headers to believe. */
  readonly trustProxy?: boolean | number | string;
  /** Marks an upload's PATCH (or POST) as intake while it runs: OCR and thumbnails hold back (ocr/foreground-gate.ts). */
  readonly intake?: () => () => void;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(requestLog(deps.log));
  app.use(deps.metrics.middleware());
  app.use(securityHeaders());
  const sendIndex = deps.webDir ? mountWebApp(app, deps.webDir) : null;

  // Alive: the process answers. Ready: it can serve (database and blob store reachable).
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const r = await deps.readiness();
    if (!r.ok) res.setHeader('Retry-After', '5');
    res.status(r.ok ? 200 : 503).json(r);
  });
  app.get('/metrics', deps.metrics.route(deps.metricsAccess));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(deps.keys.publicJwks());
  });

  const auth = authenticate(deps.verify, deps.sessions, deps.certificatePrincipal);
  app.all(['/files', '/files/*rest'], auth, supervisorGuard, (req, res) => {
    // An upload's bytes arriving are someone waiting: OCR and thumbnails hold back while they do.
    if (req.method === 'PATCH' || req.method === 'POST') res.once('close', deps.intake?.() ?? (() => {}));
    return deps.tus.handle(req, res);
  });

  const api = express.Router();
  if (deps.sessions) api.use(sessionRouter(deps.sessions, auth));
  // What the sign-in screen offers.
  api.get('/session/methods', (_req, res) => {
    res.json({ local: Boolean(deps.sessions), oidc: deps.oidc ? { label: deps.oidc.oidc.label, start: OIDC_START } : null });
  });
  api.use(deps.oidc ? oidcRouter(deps.oidc) : oidcUnconfigured());
  api.use(auth, express.json({ limit: '1mb' }));
  // Supervisors: metadata routes only, 404 everywhere else (before any route can answer).
  api.use(supervisorGuard);
  api.use(casesRouter(deps));
  api.use(dossiersRouter(deps));
  api.use(dossierProgressRouter(deps));
  api.use(agenciesRouter(deps));
  api.use(stagesRouter(deps));
  api.use(transfersRouter(deps));
  api.use(searchRouter(deps));
  api.use(linksRouter(deps));
  api.use(auditRouter(deps));
  api.use(supervisionRouter(deps));
  api.use(eventsRouter(deps));
  api.use(webhooksRouter(deps));
  // Local accounts exist where sessions do (the embedded default's sign-in).
  if (deps.sessions) api.use(accountsRouter({ accounts: deps.sessions.accounts, sessions: deps.sessions.sessions, audit: deps.audit, idempotency: deps.idempotency, transactions: deps.transactions }));
  app.use('/api', api);
  app.use('/oauth', tokenEndpointRouter(deps.tokenEndpoint));
  // Signed download links carry their own credential: no bearer token.
  app.use('/d', linkLandingRouter(deps, sendIndex));
  app.use('/d', downloadLinksRouter(deps));

  app.use((_req, res) => {
    res.status(404).json(errorBody('not_found', 'no such route'));
  });
  app.use(errorHandler);
  return app;
}
