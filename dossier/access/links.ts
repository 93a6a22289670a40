/**
 * Signed download links: a short EdDSA JWT in the URL stands in for a bearer token, bound to one
 * dossier, one audience agency and one scope, with an expiry and a jti naming its stored row
 * (revocation, single use, use count). The token proves what the gateway issued; the row says
 * whether it still holds. Link keys are their own ring, rotated apart from the evidence keys.
 * Under the national suite the ring's key is SM2 and the token an `alg: "SM2"` JWS of the same
 * claims (jose knows no SM2: the claims are checked here as jwtVerify checks them for EdDSA).
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../duration.js';
import { DossierError } from '../errors.js';
import type { DossierRecord, Principal } from '../model.js';
import type { LinkRecord, LinkRepository, LinkScope } from '../ports/link-repository.js';
import { LINK_SCOPES } from '../ports/link-repository.js';
import type { DossierRepository } from '../ports/repositories.js';
import type { PublicJwks, Signer } from '../signing/signer.js';
import { SM2_ALG } from '../signing/sm2.js';
import { verifyCompactJws } from '../signing/verify-jws.js';
import type { Tx } from '../ports/transactions.js';

/** The token's `typ`: a link token is never mistaken for a bearer token or a statement. */
export const LINK_TYP = 'dossier-link+jwt';
/** The token's `iss`: this gateway, as the issuer of links (not the bearer tokens' issuer). */
export const LINK_ISSUER = 'urn:dossier-gateway:links';
export const LINK_ALG = 'EdDSA';
/** A link without a ttl lives a day, or less when LINK_MAX_TTL is shorter. */
export const DEFAULT_LINK_TTL_SECONDS = 86_400;
/** Longer than any token we issue: anything longer is junk, refused before parsing. */
const MAX_TOKEN_LENGTH = 2048;

export interface LinkSigningKeys {
  current(): Signer;
  /** The Ed25519 private key, when the current key is one (jose signs those tokens). */
  currentPair(): { readonly kid: string; readonly privateKey: KeyObject };
  publicJwks(): PublicJwks;
}

/** What a verified token says. */
export interface LinkClaims {
  readonly id: string;
  readonly dossierId: string;
  readonly audience: string;
  readonly scope: LinkScope;
  readonly expiresAt: Date;
}

/**
 * The lifetime asked for: seconds (a number or digits) or a duration like `2d`; absent, the
 * default. Longer than `maxSeconds` (LINK_MAX_TTL) is refused, not shortened: the caller asked for
 * a promise we will not keep.
 */
export function linkTtlSeconds(requested: number | string | undefined, maxSeconds: number): number {
  if (requested === undefined) return Math.min(DEFAULT_LINK_TTL_SECONDS, maxSeconds);
  const seconds = typeof requested === 'number' ? requested : /^\s*\d+\s*$/.test(requested) ? Number(requested) : parseDuration(requested);
  if (seconds === null || !Number.isSafeInteger(seconds) || seconds < 1) {
    throw new DossierError('bad_request', 'ttl: expected whole seconds or a duration like 90s, 15m, 8h or 2d');
  }
  if (seconds > maxSeconds) {
    throw new DossierError('bad_request', `ttl: ${formatDuration(seconds)} is longer than links may live (LINK_MAX_TTL = ${formatDuration(maxSeconds)})`);
  }
  return seconds;
}

/** Signs the token for a link row. exp and iat are whole seconds, as the row's times are. */
export async function signLinkToken(keys: LinkSigningKeys, link: Pick<LinkRecord, 'id' | 'dossierId' | 'audience' | 'scope' | 'createdAt' | 'expiresAt'>): Promise<string> {
  const signer = keys.current();
  if (signer.alg === SM2_ALG) {
    const claims = { scope: link.scope, iss: LINK_ISSUER, aud: link.audience, sub: link.dossierId, jti: link.id, iat: toSeconds(link.createdAt), exp: toSeconds(link.expiresAt) };
    return signer.sign(Buffer.from(JSON.stringify(claims)), { typ: LINK_TYP });
  }
  const pair = keys.currentPair();
  return new SignJWT({ scope: link.scope })
    .setProtectedHeader({ alg: LINK_ALG, typ: LINK_TYP, kid: pair.kid })
    .setIssuer(LINK_ISSUER)
    .setAudience(link.audience)
    .setSubject(link.dossierId)
    .setJti(link.id)
    .setIssuedAt(toSeconds(link.createdAt))
    .setExpirationTime(toSeconds(link.expiresAt))
    .sign(pair.privateKey);
}

const claimsSchema = z.object({
  jti: z.string().min(1).max(100),
  sub: z.string().min(1).max(200),
  aud: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  scope: z.enum(LINK_SCOPES),
  exp: z.number().int(),
});

/**
 * Verifies a token: EdDSA only (never `none`, never HMAC), our typ, our issuer, a key of the link
 * ring (current or retired), exp. The signature is checked before expiry, so only a token we
 * issued can be told it is expired (410); anything else is 401.
 */
export async function verifyLinkToken(token: string, keys: LinkSigningKeys, now: Date): Promise<LinkClaims> {
  if (token.length > MAX_TOKEN_LENGTH) throw invalidLink();
  if (headerAlg(token) === SM2_ALG) return sm2LinkClaims(token, keys, now);
  // The ring is read on every use so that a rotation is seen at once.
  const getKey: JWTVerifyGetKey = (header, input) => createLocalJWKSet({ keys: [...keys.publicJwks().keys] })(header, input);
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, getKey, {
      algorithms: [LINK_ALG],
      typ: LINK_TYP,
      issuer: LINK_ISSUER,
      requiredClaims: ['jti', 'sub', 'aud', 'exp', 'iat'],
      currentDate: now,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new DossierError('link_expired', 'this link has expired');
    throw invalidLink();
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw invalidLink();
  const c = claims.data;
  return { id: c.jti, dossierId: c.sub, audience: c.aud, scope: c.scope, expiresAt: new Date(c.exp * 1000) };
}

/** The row must say what the token says: a validly signed token for another row is not a link. */
export function matchLinkRow(claims: LinkClaims, row: LinkRecord | null): LinkRecord {
  if (
    !row ||
    row.dossierId !== claims.dossierId ||
    row.audience !== claims.audience ||
    row.scope !== claims.scope ||
    toSeconds(row.expiresAt) !== toSeconds(claims.expiresAt)
  ) {
    throw invalidLink();
  }
  return row;
}

/** Why a link row refuses a use at `now` (revoked before expired before used), or null. */
export function linkRefusal(row: LinkRecord, now: Date): DossierError | null {
  if (row.revokedAt) return new DossierError('link_revoked', 'this link has been revoked');
  if (row.expiresAt.getTime() <= now.getTime()) return new DossierError('link_expired', 'this link has expired');
  if (row.singleUse && row.usedAt) return new DossierError('link_used', 'this single-use link has already been used');
  return null;
}

export interface LinkDeps {
  readonly links: LinkRepository;
  readonly linkKeys: LinkSigningKeys;
  readonly dossiers: Pick<DossierRepository, 'findVisible'>;
}

/**
 * A new link for the caller's own agency to a sealed dossier it sees (the caller checked both).
 * The row is stored before the token exists, so no token ever names a missing row.
 */
export async function createLink(
  deps: Pick<LinkDeps, 'links' | 'linkKeys'>,
  input: { principal: Principal; dossier: DossierRecord; ttlSeconds: number; singleUse: boolean },
  now: Date,
  within?: Tx,
): Promise<{ link: LinkRecord; token: string }> {
  if (input.dossier.status !== 'sealed') throw new DossierError('conflict', `dossier is ${input.dossier.status}, not sealed: only a sealed dossier can be linked`);
  const createdAt = new Date(toSeconds(now) * 1000);
  const link = await deps.links.create({
    id: randomUUID(),
    dossierId: input.dossier.id,
    caseId: input.dossier.caseId,
    audience: input.principal.agency,
    scope: 'export',
    createdBy: input.principal.subject,
    createdAgency: input.principal.agency,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + input.ttlSeconds * 1000),
    singleUse: input.singleUse,
  }, within);
  return { link, token: await signLinkToken(deps.linkKeys, link) };
}

/**
 * Everything a use checks short of counting it: the token, its row, that the row still holds, and
 * that the audience agency still sees the (sealed) dossier. An agency that no longer sees the case
 * gets 404, the answer for any case it does not see. The caller checks what the use asks for (a
 * page that exists) and then calls consumeLink, so that a bad request never spends a single use.
 */
export async function admitLink(
  deps: LinkDeps,
  token: string,
  now: Date,
  options: { resumable?: boolean } = {},
): Promise<{ link: LinkRecord; dossier: DossierRecord; spent: boolean }> {
  const claims = await verifyLinkToken(token, deps.linkKeys, now);
  const link = matchLinkRow(claims, await deps.links.get(claims.id));
  const refusal = linkRefusal(link, now);
  // A spent single-use link may still continue its download: the caller decides (spentLinkResumes).
  const spent = refusal?.code === 'link_used' && options.resumable === true;
  if (refusal && !spent) throw refusal;
  const dossier = await deps.dossiers.findVisible(link.dossierId, link.audience);
  if (!dossier || dossier.status !== 'sealed') throw new DossierError('not_found', 'dossier not found');
  return { link, dossier, spent };
}

/**
 * What a spent single-use link still serves: the rest of the download that spent it, so that a
 * receiver whose connection broke is not left with half a dossier. That is a range request from
 * a later offset (start > 0) whose If-Range names the export's current strong ETag: the receiver
 * holds the first bytes of exactly these bytes. The ETag is a SHA-256 over the export's content,
 * learnt only from a response, so a party holding just the token cannot produce it; and a changed
 * export (another ETag) is never served again through the spent link. Anything else is link_used.
 */
export function spentLinkResumes(request: { ifRange: string | string[] | undefined; etag: string; rangeStart: number | null }): void {
  const resumes = request.ifRange === request.etag && request.rangeStart !== null && request.rangeStart > 0;
  if (!resumes) throw new DossierError('link_used', 'this single-use link has already been used (it continues only the interrupted download of the same export: Range with If-Range)');
}

/** Counts the use atomically; a concurrent use that got there first makes this one refused. */
export async function consumeLink(links: LinkRepository, link: LinkRecord, now: Date): Promise<LinkRecord> {
  const used = await links.consume(link.id, now);
  if (used) return used;
  const current = await links.get(link.id);
  throw (current && linkRefusal(current, now)) ?? invalidLink();
}

function invalidLink(): DossierError {
  return new DossierError('invalid_link', 'this link is not valid');
}

function toSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

function headerAlg(token: string): unknown {
  try {
    return (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: unknown }).alg;
  } catch {
    return undefined;
  }
}

/** An SM2 link token: signature by a key of the link ring, our typ and issuer, the claims present, not expired. */
async function sm2LinkClaims(token: string, keys: LinkSigningKeys, now: Date): Promise<LinkClaims> {
  let payload: unknown;
  try {
    const v = await verifyCompactJws(token, keys.publicJwks(), [SM2_ALG]);
    if (v.protectedHeader.typ !== LINK_TYP) throw invalidLink();
    payload = JSON.parse(Buffer.from(v.payload).toString('utf8'));
  } catch {
    throw invalidLink();
  }
  const p = payload as Record<string, unknown>;
  if (typeof p !== 'object' || p === null || p.iss !== LINK_ISSUER || typeof p.iat !== 'number') throw invalidLink();
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw invalidLink();
  const c = claims.data;
  if (c.exp <= Math.floor(now.getTime() / 1000)) throw new DossierError('link_expired', 'this link has expired');
  return { id: c.jti, dossierId: c.sub, audience: c.aud, scope: c.scope, expiresAt: new Date(c.exp * 1000) };
}
