/**
 * Bearer tokens: OIDC-shaped JWTs (iss, aud, sub, exp, agency, roles). Issued locally with the
 * gateway's issuer key (`dossier token issue`) or by an agency's identity provider whose JWKS
 * we trust. Algorithms are pinned; iss, aud and exp are always checked.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { DossierError } from '../errors.js';
import { ROLES, type Principal, type Role } from '../model.js';
import { claimAt } from './federated-identity.js';

/** Asymmetric algorithms only: never `none`, never HMAC (a public key is not a shared secret). */
export const ACCEPTED_ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'];

/** `typ` values of an access token (RFC 7519, RFC 9068); none at all is accepted too. */
const BEARER_TYPES = new Set(['jwt', 'at+jwt', 'application/at+jwt', 'application/jwt']);

const claimsSchema = z.object({
  sub: z.string().min(1).max(200),
  agency: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  roles: z.union([z.array(z.enum(ROLES)).min(1), z.enum(ROLES).transform((r) => [r])]),
});

export type TokenVerifier = (token: string) => Promise<Principal>;

/** Where a token names agency and roles: `agency`, `roles` unless the identity provider uses others. */
export interface TokenClaimNames {
  readonly agency: string;
  readonly roles: string;
}

export function createTokenVerifier(options: { issuer: string; audience: string; keys: JWTVerifyGetKey; claims?: TokenClaimNames }): TokenVerifier {
  const names = options.claims ?? { agency: 'agency', roles: 'roles' };
  return async (token) => {
    let payload: unknown;
    let typ: string | undefined;
    try {
      ({ payload, protectedHeader: { typ } } = await jwtVerify(token, options.keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: 30,
      }));
    } catch (err) {
      throw new DossierError('unauthenticated', describe(err));
    }
    // A token of another kind (a download link, an ID token in a JOSE wrapper) is no access token.
    if (typ !== undefined && !BEARER_TYPES.has(typ.toLowerCase())) throw new DossierError('unauthenticated', `token type "${typ.slice(0, 40)}" is not accepted`);
    const p = payload as Record<string, unknown>;
    const claims = claimsSchema.safeParse({ sub: p.sub, agency: claimAt(p, names.agency), roles: claimAt(p, names.roles) });
    if (!claims.success) throw new DossierError('unauthenticated', `token lacks valid sub, ${names.agency} or ${names.roles} claims`);
    return { subject: claims.data.sub, agency: claims.data.agency, roles: claims.data.roles };
  };
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${err.claim}" is not accepted`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not accepted';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed token';
  return 'token not accepted';
}

export interface IssueTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly key: KeyObject;
  readonly kid: string;
  readonly subject: string;
  readonly agency: string;
  readonly roles: readonly Role[];
  readonly ttlSeconds: number;
}

export async function issueToken(o: IssueTokenOptions): Promise<string> {
  return new SignJWT({ agency: o.agency, roles: [...o.roles] })
    .setProtectedHeader({ alg: 'EdDSA', kid: o.kid, typ: 'JWT' })
    .setIssuer(o.issuer)
    .setAudience(o.audience)
    .setSubject(o.subject)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(Math.floor(Date.now() / 1000) + o.ttlSeconds)
    .sign(o.key);
}
