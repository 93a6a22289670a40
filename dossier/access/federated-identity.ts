/**
 * Who an identity provider says a user is, in our terms: a user id, a registered agency and
 * roles we know. The claim names are configured (providers differ: `sub` or
 * `preferred_username`, `agency` or `org`, `roles` or `groups`); a dotted name reaches into an
 * object claim (`realm_access.roles`). Whatever does not map is refused with the reason, never
 * filled in with a default: a default role would be access nobody granted.
 */
import { DossierError } from '../errors.js';
import { ROLES, type Role } from '../model.js';
import type { AgencyRepository } from '../ports/custody.js';

export interface ClaimNames {
  readonly user: string;
  readonly agency: string;
  readonly roles: string;
}

export interface MappedIdentity {
  readonly userId: string;
  readonly agency: string;
  readonly roles: readonly Role[];
}

const AGENCY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A claim by name; a dotted name reaches into object claims when no claim has the whole name. */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  let v: unknown = claims;
  for (const part of name.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

const refuse = (message: string) => new DossierError('identity_refused', message);

export async function identityFromClaims(claims: Record<string, unknown>, names: ClaimNames, agencies: Pick<AgencyRepository, 'get'>): Promise<MappedIdentity> {
  const user = claimAt(claims, names.user);
  if (typeof user !== 'string' || user.length === 0 || user.length > 200) throw refuse(`the identity provider sent no usable "${names.user}" claim`);
  const agency = claimAt(claims, names.agency);
  if (typeof agency !== 'string' || !AGENCY_ID.test(agency)) throw refuse(`the identity provider sent no usable "${names.agency}" claim for ${user}`);
  if (!(await agencies.get(agency))) throw refuse(`agency "${agency}" of ${user} is not registered at this gateway`);
  const raw = claimAt(claims, names.roles);
  const listed = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
  if (listed.length === 0) throw refuse(`the identity provider sent no "${names.roles}" claim for ${user}: no role is assumed`);
  const unknown = listed.filter((r) => typeof r !== 'string' || !(ROLES as readonly string[]).includes(r));
  if (unknown.length) throw refuse(`role ${unknown.map((r) => JSON.stringify(r)).join(', ')} of ${user} is not one of ${ROLES.join(', ')}`);
  return { userId: user, agency, roles: [...new Set(listed as Role[])] };
}
