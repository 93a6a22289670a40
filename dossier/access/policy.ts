/** What each role may do. Visibility (which agency sees which case) lives in the repositories. */
import { DossierError } from '../errors.js';
import type { Principal, Role } from '../model.js';

export const PERMISSIONS = {
  'case:create': ['clerk', 'admin'],
  'case:read': ['clerk', 'prosecutor', 'judge', 'auditor', 'admin'],
  'dossier:upload': ['clerk'],
  'dossier:read': ['clerk', 'prosecutor', 'judge', 'admin'],
  // Custody: clerks send, prosecutors and judges answer; admins register agencies and stages.
  'transfer:send': ['clerk'],
  'transfer:answer': ['prosecutor', 'judge'],
  'transfer:read': ['clerk', 'prosecutor', 'judge', 'admin'],
  'agency:manage': ['admin'],
  'stage:manage': ['admin'],
  // Local accounts of the admin's own agency (the web application's administration screen).
  'account:manage': ['admin'],
  // Signed download links: made and revoked by those who read dossiers in the agency's work.
  'link:create': ['clerk', 'prosecutor', 'judge'],
  'link:revoke': ['clerk', 'prosecutor', 'judge'],
  // The audit chain: auditors (and admins) read their agency's events; checking the chain's
  // integrity reveals no content (a count and a seq), so the supervising committee may run it too.
  'audit:read': ['auditor', 'admin'],
  'audit:verify': ['auditor', 'supervisor', 'admin'],
  // An agency's admin connects its own case-handling system (webhook subscriptions).
  'webhook:manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(p: Principal, action: Permission): boolean {
  const allowed: readonly Role[] = PERMISSIONS[action];
  return p.roles.some((r) => allowed.includes(r));
}

export function requirePermission(p: Principal, action: Permission): void {
  if (!can(p, action)) throw new DossierError('forbidden', `role ${p.roles.join(', ')} may not ${action.replace(':', ' ')}`);
}
