/**
 * Local accounts over HTTP, for the administration screen: an agency's admin lists, adds,
 * disables, enables and resets the accounts of their own agency (another agency's accounts do
 * not exist to them: 404). The same rules as `dossier user`; a password never leaves the gateway
 * and is never logged; disabling or a new password ends the account's sessions. Audited.
 */
import { Router } from 'express';
import { z } from 'zod';
import { hashPassword, passwordProblem } from '../../dossier/access/passwords.js';
import { requirePermission } from '../../dossier/access/policy.js';
import { DossierError } from '../../dossier/errors.js';
import { ROLES, type Principal } from '../../dossier/model.js';
import type { AccountRecord, AccountRepository, SessionRepository } from '../../dossier/ports/accounts.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import { principalOf } from '../auth.js';
import { notFound } from '../errors.js';
import { idempotent, type IdempotencyDeps } from '../idempotent.js';
import { parseBody } from '../validate.js';

export interface AccountRouteDeps extends IdempotencyDeps {
  readonly accounts: AccountRepository;
  readonly sessions: Pick<SessionRepository, 'endAllOf'>;
  readonly audit: AuditLog;
}

const userId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$/, 'expected a user id (letters, digits, . _ @ -)');
const password = z.string().superRefine((p, ctx) => {
  const problem = passwordProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const roles = z.array(z.enum(ROLES)).min(1).max(ROLES.length).transform((r) => [...new Set(r)]);
const createBody = z.strictObject({ user: userId, roles, password });
const changeBody = z.strictObject({ disabled: z.boolean().optional(), password: password.optional() }).refine((b) => b.disabled !== undefined || b.password !== undefined, 'expected disabled or password');

export const accountView = (a: AccountRecord, now: Date) => ({
  user: a.userId, agency: a.agency, roles: a.roles, disabled: a.disabledAt !== null,
  locked: a.lockedUntil !== null && a.lockedUntil > now, createdAt: a.createdAt.toISOString(),
});

export function accountsRouter(deps: AccountRouteDeps): Router {
  const r = Router();
  const own = async (p: Principal, id: string): Promise<AccountRecord> => {
    const a = userId.safeParse(id).success ? await deps.accounts.get(id) : null;
    if (!a || a.agency !== p.agency) throw notFound('account');
    return a;
  };

  r.get('/accounts', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'account:manage');
    const now = new Date();
    res.setHeader('Cache-Control', 'no-store');
    res.json({ accounts: (await deps.accounts.list()).filter((a) => a.agency === p.agency).map((a) => accountView(a, now)) });
  });

  r.post('/accounts', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'account:manage');
    const body = parseBody(createBody, req.body);
    const passwordHash = await hashPassword(body.password);
    const answer = await idempotent(deps, req, p, async (tx) => {
      const made = await deps.accounts.create({ userId: body.user, agency: p.agency, roles: body.roles, passwordHash }, new Date(), tx);
      if (!made) throw new DossierError('conflict', `user ${body.user} already exists`);
      await deps.audit.record({ actor: p.subject, agency: p.agency, action: 'account.create', target: { type: 'account', id: made.userId }, details: { roles: made.roles } }, tx);
      return { status: 201, body: accountView(made, new Date()) };
    });
    res.status(answer.status).location(`/api/accounts/${encodeURIComponent(body.user)}`).json(answer.body);
  });

  r.patch('/accounts/:user', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'account:manage');
    const a = await own(p, req.params.user);
    const body = parseBody(changeBody, req.body);
    const now = new Date();
    if (body.password !== undefined) await deps.accounts.setPassword(a.userId, await hashPassword(body.password), now);
    if (body.disabled !== undefined) await deps.accounts.setDisabled(a.userId, body.disabled, now);
    const ended = body.password !== undefined || body.disabled === true ? await deps.sessions.endAllOf(a.userId, now) : 0;
    await deps.audit.record({
      actor: p.subject, agency: p.agency, action: 'account.update', target: { type: 'account', id: a.userId },
      details: { ...(body.disabled !== undefined ? { disabled: body.disabled } : {}), passwordReset: body.password !== undefined, sessionsEnded: ended },
    });
    res.json(accountView((await deps.accounts.get(a.userId))!, now));
  });

  return r;
}
