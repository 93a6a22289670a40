/**
 * Machine clients where the gateway is its own issuer: an agency system registered with its
 * public keys (`dossier client add`) proves who it is with a signed client assertion (RFC 7523,
 * OAuth `private_key_jwt`), never a shared password, and gets a short-lived access token for its
 * agency and roles. Each assertion is taken once (its jti is remembered until it expires), must
 * name this token endpoint as its audience, and may live at most a few minutes.
 */
import { createLocalJWKSet, decodeJwt, jwtVerify, errors as joseErrors, type JSONWebKeySet } from 'jose';
import { DossierError } from '../errors.js';
import type { Role } from '../model.js';
import { ACCEPTED_ALGORITHMS } from './tokens.js';

export interface RegisteredClient {
  readonly clientId: string;
  readonly agency: string;
  readonly roles: readonly Role[];
  readonly jwks: JSONWebKeySet;
  readonly disabledAt: Date | null;
}

export interface ClientRegistry {
  get(clientId: string): Promise<RegisteredClient | null>;
  /** Remembers an assertion's jti; false when this client used it before. */
  rememberAssertion(clientId: string, jti: string, expiresAt: Date): Promise<boolean>;
}

/** An assertion may be valid this long at most: a stolen one is of little use. */
export const MAX_ASSERTION_SECONDS = 300;
export const ACCESS_TOKEN_SECONDS = 300;

const badClient = (message: string) => new DossierError('invalid_client', message);

/**
 * Checks a client assertion: a registered, enabled client's key signed it; iss and sub are the
 * client; aud is one of `audiences` (the token endpoint's URL); exp is near; the jti is new.
 */
export async function checkClientAssertion(registry: ClientRegistry, assertion: string, audiences: readonly string[], claimedClientId?: string): Promise<RegisteredClient> {
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    unverified = decodeJwt(assertion);
  } catch {
    throw badClient('client_assertion is not a JWT');
  }
  const clientId = typeof unverified.sub === 'string' ? unverified.sub : '';
  if (!clientId || (claimedClientId !== undefined && claimedClientId !== clientId)) throw badClient('client_assertion must name the client as its sub (and client_id, when sent, must agree)');
  const client = await registry.get(clientId);
  if (!client || client.disabledAt) throw badClient('unknown or disabled client');
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks), {
      issuer: clientId,
      subject: clientId,
      audience: [...audiences],
      algorithms: ACCEPTED_ALGORITHMS,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: 30,
    }));
  } catch (err) {
    throw badClient(describe(err));
  }
  const now = Math.floor(Date.now() / 1000);
  if (payload.exp! - now > MAX_ASSERTION_SECONDS + 30) throw badClient(`client_assertion lives too long: exp at most ${MAX_ASSERTION_SECONDS} s ahead`);
  if (typeof payload.jti !== 'string' || payload.jti.length < 8 || payload.jti.length > 200) throw badClient('client_assertion needs a jti of 8 to 200 characters');
  if (!(await registry.rememberAssertion(clientId, payload.jti, new Date((payload.exp! + 60) * 1000)))) throw badClient('client_assertion already used (jti replayed)');
  return client;
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'client_assertion expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `client_assertion claim "${err.claim}" is not accepted`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'client_assertion algorithm not accepted';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) return 'client_assertion not signed by a key of this client';
  return 'client_assertion not accepted';
}
