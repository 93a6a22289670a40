/**
 * An agency's webhook subscriptions (its admin's): register with { url, events } and get the
 * signing secret once; list them with their delivery state and last errors; delete; redeliver
 * (re-enables a disabled one, optionally from an earlier event). Another agency's is 404.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { requirePermission } from '../../dossier/access/policy.js';
import { EVENT_TYPES } from '../../dossier/events/feed-event.js';
import { wakeDelivery } from '../../dossier/integration/webhook-delivery.js';
import { DossierError } from '../../dossier/errors.js';
import type { AuditLog } from '../../dossier/ports/audit-log.js';
import type { JobQueue } from '../../dossier/ports/job-queue.js';
import type { Transactions } from '../../dossier/ports/transactions.js';
import type { Subscription, SubscriptionRepository, WebhookSender } from '../../dossier/ports/webhooks.js';
import { principalOf } from '../auth.js';
import { notFound } from '../errors.js';
import { idempotencyKeyOf } from '../idempotency.js';
import { parseBody } from '../validate.js';

export interface WebhookRouteDeps {
  readonly subscriptions: SubscriptionRepository;
  readonly webhookSender: WebhookSender;
  readonly queue: JobQueue;
  readonly audit: AuditLog;
  readonly transactions: Transactions;
}

export const createWebhookBody = z.object({
  url: z.string().trim().min(1).max(2000),
  events: z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length).transform((e) => [...new Set(e)].sort()),
});
export const redeliverBody = z.object({ from: z.coerce.number().int().min(1).optional() });

const iso = (d: Date | null) => d?.toISOString() ?? null;
export const subscriptionView = (s: Subscription) => ({
  id: s.id, url: s.url, events: s.events, status: s.status, createdAt: s.createdAt.toISOString(), createdBy: s.createdBy,
  deliveredUpTo: String(s.deliveredSeq), delivered: s.deliveredCount, lastDeliveredAt: iso(s.lastDeliveredAt),
  failures: s.failures, failingSince: iso(s.failingSince), retryAt: iso(s.retryAt), disabledAt: iso(s.disabledAt), lastErrors: s.lastErrors,
});

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export function webhooksRouter(deps: WebhookRouteDeps): Router {
  const r = Router();

  r.post('/webhooks', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'webhook:manage');
    const key = idempotencyKeyOf(req);
    const body = parseBody(createWebhookBody, req.body);
    await deps.webhookSender.checkTarget(body.url);
    const { subscription, created } = await deps.transactions.run(async (tx) => {
      const made = await deps.subscriptions.create({ id: randomUUID(), agency: p.agency, url: body.url, events: body.events, secret: newSecret(), createdBy: p.subject, idempotencyKey: key }, tx);
      if (made.created) {
        await deps.audit.record({ actor: p.subject, agency: p.agency, action: 'webhook.create', target: { type: 'webhook', id: made.subscription.id }, details: { url: body.url, events: body.events } }, tx);
      }
      return made;
    });
    if (!created && (subscription.url !== body.url || subscription.events.join() !== body.events.join())) {
      throw new DossierError('idempotency_key_reused', 'Idempotency-Key already used for another subscription');
    }
    // The secret is shown with the answer to the create (and its replays by Idempotency-Key) only.
    res.status(201).location(`/api/webhooks/${subscription.id}`).json({ ...subscriptionView(subscription), secret: subscription.secret });
  });

  r.get('/webhooks', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'webhook:manage');
    res.json({ webhooks: (await deps.subscriptions.list(p.agency)).map(subscriptionView) });
  });

  r.get('/webhooks/:id', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'webhook:manage');
    const s = await deps.subscriptions.findOwned(req.params.id, p.agency);
    if (!s) throw notFound('webhook');
    res.json(subscriptionView(s));
  });

  r.delete('/webhooks/:id', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'webhook:manage');
    await deps.transactions.run(async (tx) => {
      if (!(await deps.subscriptions.delete(req.params.id, p.agency, tx))) throw notFound('webhook');
      await deps.audit.record({ actor: p.subject, agency: p.agency, action: 'webhook.delete', target: { type: 'webhook', id: req.params.id } }, tx);
    });
    res.status(204).end();
  });

  r.post('/webhooks/:id/redeliver', async (req, res) => {
    const p = principalOf(req);
    requirePermission(p, 'webhook:manage');
    const body = parseBody(redeliverBody, req.body);
    const s = await deps.transactions.run(async (tx) => {
      const again = await deps.subscriptions.redeliver(req.params.id, p.agency, body.from ?? null, tx);
      if (!again) throw notFound('webhook');
      await deps.audit.record({ actor: p.subject, agency: p.agency, action: 'webhook.redeliver', target: { type: 'webhook', id: again.id }, details: { from: body.from ?? null } }, tx);
      await wakeDelivery(deps.queue, again.id, null, tx);
      return again;
    });
    res.json(subscriptionView(s));
  });

  return r;
}
