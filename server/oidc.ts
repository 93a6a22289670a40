/**
 * Browser sign-in with the agency's OpenID provider: the authorization code flow with PKCE,
 * state and nonce (openid-client). The provider is found by discovery at first use (it may be
 * down when the gateway starts), its claims are mapped to a user, agency and roles
 * (dossier/access/federated-identity.ts), and the gateway keeps the session: the same cookie as
 * a local sign-in, so every route sees the same principal.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import { Router, type Request, type Response } from 'express';
import * as oidc from 'openid-client';
import { identityFromClaims, type ClaimNames } from '../dossier/access/federated-identity.js';
import { federatedSignIn } from '../dossier/access/sign-in.js';
import { DossierError } from '../dossier/errors.js';
import type { PendingLoginRepository } from '../dossier/ports/accounts.js';
import type { AgencyRepository } from '../dossier/ports/custody.js';
import { sessionCookie, type SessionRouteDeps } from './session.js';

export interface OidcRouteDeps {
  readonly sessions: SessionRouteDeps;
  readonly pendingLogins: PendingLoginRepository;
  readonly agencies: Pick<AgencyRepository, 'get'>;
  readonly publicUrl: string | null;
  readonly oidc: {
    readonly issuer: string;
    readonly clientId: string;
    readonly clientSecret: string;
    readonly scopes: string;
    readonly redirectUrl: string | null;
    readonly claims: ClaimNames;
    readonly label: string | null;
  };
}

export const OIDC_START = '/api/session/oidc';
const CALLBACK = '/session/oidc/callback';
const LOGIN_SECONDS = 600;
const BINDING_PLAIN = 'dossier_oidc';
const BINDING_SECURE = '__Host-dossier_oidc';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const failed = (message: string) => new DossierError('sign_in_failed', message);

// Plain HTTP only to a provider on this machine (tests, a provider beside the gateway).
const loopback = (u: URL) => ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);

/** Only a path of this site: never an open redirect to somewhere else. */
const safeReturn = (v: unknown) => (typeof v === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(v) && v.length < 2000 ? v : '/');

export function oidcRouter(deps: OidcRouteDeps): Router {
  const r = Router();
  let discovered: Promise<oidc.Configuration> | null = null;
  const provider = () => {
    discovered ??= (async () => {
      const issuer = new URL(deps.oidc.issuer);
      return oidc.discovery(issuer, deps.oidc.clientId, undefined, oidc.ClientSecretBasic(deps.oidc.clientSecret), {
        ...(issuer.protocol === 'http:' && loopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
    })();
    // A failed discovery is tried again by the next sign-in.
    discovered.catch(() => (discovered = null));
    return discovered;
  };
  const secure = (req: Request) => req.secure || deps.sessions.secureCookies;
  const bindingName = (req: Request) => (secure(req) ? BINDING_SECURE : BINDING_PLAIN);
  const redirectUri = (req: Request) => deps.oidc.redirectUrl ?? `${deps.publicUrl ?? `${req.protocol}://${req.get('host')}`}/api${CALLBACK}`;
  // SameSite=Lax: the provider sends the browser back with a top-level navigation from its site.
  const bindingCookie = (req: Request, value: string, maxAge: number) =>
    stringifySetCookie({ name: bindingName(req), value, httpOnly: true, sameSite: 'lax', secure: secure(req), path: '/', maxAge });

  r.get('/session/oidc', async (req: Request, res: Response) => {
    let config: oidc.Configuration;
    try {
      config = await provider();
    } catch (err) {
      req.log?.error({ err, issuer: deps.oidc.issuer }, 'OpenID provider discovery failed');
      throw new DossierError('internal', 'the identity provider cannot be reached; try again later');
    }
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const binding = randomBytes(32).toString('base64url');
    await deps.pendingLogins.save({
      state,
      bindingHash: sha256(binding),
      nonce,
      codeVerifier,
      returnTo: safeReturn(req.query.return),
      expiresAt: new Date(Date.now() + LOGIN_SECONDS * 1000),
    });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri(req),
      scope: deps.oidc.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    res.setHeader('Set-Cookie', bindingCookie(req, binding, LOGIN_SECONDS));
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, url.href);
  });

  r.get(CALLBACK, async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Set-Cookie', bindingCookie(req, '', 0)); // one journey, one use
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const login = state ? await deps.pendingLogins.take(state, new Date()) : null;
    if (!login) throw failed('this sign-in is unknown, expired or already used; start again');
    const binding = parseCookie(req.headers.cookie ?? '')[bindingName(req)] ?? '';
    const a = Buffer.from(sha256(binding));
    const b = Buffer.from(login.bindingHash);
    if (!binding || !timingSafeEqual(a, b)) throw failed('this sign-in was started in another browser; start again');
    const config = await provider();
    const current = new URL(redirectUri(req));
    current.search = new URLSearchParams(req.query as Record<string, string>).toString();
    let claims: Record<string, unknown>;
    let issuer: string;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims()!;
      issuer = idClaims.iss;
      // Many providers put only `sub` in the ID token and the rest behind the userinfo endpoint.
      const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      claims = { ...info, ...idClaims };
    } catch (err) {
      req.log?.warn({ err }, 'OpenID sign-in refused');
      throw failed(`the identity provider's answer was not accepted: ${describe(err)}`);
    }
    const who = await identityFromClaims(claims, deps.oidc.claims, deps.agencies).catch((err: unknown) => {
      req.log?.warn({ err, sub: claims.sub, issuer }, 'OpenID identity refused');
      throw err;
    });
    const { secret, session } = await federatedSignIn(deps.sessions, who.userId, { issuer, agency: who.agency, roles: who.roles });
    await deps.sessions.audit.record({
      actor: session.userId,
      agency: session.agency,
      action: 'session.start',
      target: { type: 'account', id: session.userId },
      details: { address: req.socket.remoteAddress ?? 'unknown', via: 'oidc', issuer, roles: session.roles },
    });
    res.setHeader('Set-Cookie', [bindingCookie(req, '', 0), sessionCookie(req, deps.sessions, secret, deps.sessions.policy.absoluteSeconds)]);
    res.redirect(303, login.returnTo);
  });
  return r;
}

/** The same routes where no provider is configured: each says so (the route table stays one). */
export function oidcUnconfigured(): Router {
  const r = Router();
  r.get(['/session/oidc', CALLBACK], () => {
    throw new DossierError('not_found', 'single sign-on is not configured at this gateway; sign in with a local account');
  });
  return r;
}

function describe(err: unknown): string {
  if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError) return `${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  if (!(err instanceof Error)) return 'unexpected answer';
  // A claim that did not match (nonce, iss, aud) is named in the cause.
  let claim: unknown;
  for (let c: unknown = err; c && typeof c === 'object' && claim === undefined; c = (c as { cause?: unknown }).cause) claim = (c as { claim?: unknown }).claim;
  return typeof claim === 'string' ? `${err.message} ("${claim}")` : err.message;
}
