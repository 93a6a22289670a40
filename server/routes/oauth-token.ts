/**
 * POST /oauth/token: the OAuth 2.0 client-credentials grant for agency systems, where the gateway
 * is its own issuer. The client authenticates with `private_key_jwt` (a client assertion signed by
 * a key registered with `dossier client add`) and gets a short-lived bearer token. Answers and
 * errors are in RFC 6749's shape (`{ error, error_description }`), what OAuth clients expect.
 */
import type { KeyObject } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { ACCESS_TOKEN_SECONDS, checkClientAssertion, type ClientRegistry } from '../../dossier/access/client-assertions.js';
import { issueToken } from '../../dossier/access/tokens.js';
import { DossierError, isDossierError } from '../../dossier/errors.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import { STATUS_BY_CODE } from '../errors.js';

export interface TokenEndpointDeps {
  readonly clients: ClientRegistry;
  readonly audit: AuditLog;
  /** Null where the gateway trusts an outside issuer: then tokens come from there. */
  readonly issuer: { readonly id: string; readonly audience: string; readonly key: () => { privateKey: KeyObject; kid: string } } | null;
  readonly publicUrl: string | null;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const OAUTH_ERROR: Partial<Record<string, string>> = { invalid_client: 'invalid_client', unsupported_grant_type: 'unsupported_grant_type', bad_request: 'invalid_request', not_found: 'invalid_request' };

const field = (body: unknown, name: string) => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
};

export function tokenEndpointRouter(deps: TokenEndpointDeps): Router {
  const r = Router();
  r.post('/token', express.urlencoded({ extended: false, limit: '16kb' }), async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      if (!deps.issuer) throw new DossierError('not_found', 'this gateway trusts an outside identity provider: get tokens there');
      if (!req.is('application/x-www-form-urlencoded')) throw new DossierError('bad_request', 'send the request as application/x-www-form-urlencoded');
      const grant = field(req.body, 'grant_type');
      if (grant !== 'client_credentials') throw new DossierError('unsupported_grant_type', 'only grant_type=client_credentials is offered here');
      if (field(req.body, 'client_secret') !== undefined || req.headers.authorization) throw new DossierError('invalid_client', 'clients authenticate with private_key_jwt only, never a shared secret');
      if (field(req.body, 'client_assertion_type') !== JWT_BEARER) throw new DossierError('invalid_client', `client_assertion_type must be ${JWT_BEARER}`);
      const assertion = field(req.body, 'client_assertion');
      if (!assertion) throw new DossierError('invalid_client', 'client_assertion is missing');
      const endpoint = `${deps.publicUrl ?? `${req.protocol}://${req.get('host')}`}/oauth/token`;
      const client = await checkClientAssertion(deps.clients, assertion, [endpoint, deps.issuer.id], field(req.body, 'client_id'));
      const key = deps.issuer.key();
      const token = await issueToken({ issuer: deps.issuer.id, audience: deps.issuer.audience, key: key.privateKey, kid: key.kid, subject: client.clientId, agency: client.agency, roles: client.roles, ttlSeconds: ACCESS_TOKEN_SECONDS });
      await deps.audit.record({ actor: client.clientId, agency: client.agency, action: 'client.token', target: { type: 'client', id: client.clientId }, details: { roles: client.roles, ttl: ACCESS_TOKEN_SECONDS } });
      res.json({ access_token: token, token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS });
    } catch (err) {
      if (!isDossierError(err)) throw err;
      req.log?.warn({ code: err.code, message: err.message }, 'token request refused');
      const status = err.code === 'invalid_client' ? 401 : STATUS_BY_CODE[err.code] === 404 ? 400 : STATUS_BY_CODE[err.code];
      if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(status).json({ error: OAUTH_ERROR[err.code] ?? 'invalid_request', error_description: err.message });
    }
  });
  return r;
}
