/**
 * Webhook delivery: one durable job per subscription (its id is the job key) pumps the agency's
 * feed from the subscription's cursor, one event at a time, and moves the cursor after each 2xx:
 * in order, at least once (a receiver de-duplicates on webhook-id, the event's seq), never two
 * pumps of one subscription at once (the queue runs a key once at a time). An event appended
 * wakes the job in the event's own transaction; a failure backs off exponentially (the job is
 * woken at the retry time) and a subscription that has not succeeded for `disableAfterMs` is
 * disabled, its last errors kept for its admin, until a redeliver call.
 */
import type { EventType, FeedEvent } from '../events/feed-event.js';
import type { JobHandler, JobQueue } from '../ports/job-queue.js';
import type { Log } from '../ports/log.js';
import type { Tx } from '../ports/transactions.js';
import type { FeedReader, StoredFeedEvent, Subscription, SubscriptionRepository, WebhookSender } from '../ports/webhooks.js';

export const WEBHOOK_JOB = 'webhook.deliver';
/** Events read per query while pumping. */
const PAGE = 100;

export interface DeliveryPolicy {
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly disableAfterMs: number;
}

export interface WebhookDeliveryDeps {
  readonly subscriptions: SubscriptionRepository;
  readonly feed: FeedReader;
  readonly sender: WebhookSender;
  readonly queue: JobQueue;
  readonly log: Log;
  readonly policy: DeliveryPolicy;
}

/** The body of a delivery, as in the event feed: { type, time, data } (and the event's id). */
export const webhookBody = (e: StoredFeedEvent) => JSON.stringify({ id: String(e.seq), type: e.type, time: e.time, data: e.data });
export const webhookId = (e: StoredFeedEvent) => `msg_${e.seq}`;

/** The delay before the n-th consecutive failure's retry: base · 2^(n−1), at most max. */
export function retryDelayMs(failures: number, p: DeliveryPolicy): number {
  return Math.min(p.retryMaxMs, p.retryBaseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

export const wakeDelivery = (queue: JobQueue, subscriptionId: string, at: Date | null, within?: Tx) =>
  queue.wake({ kind: WEBHOOK_JOB, key: subscriptionId, runAt: at ?? undefined, payload: { subscription: subscriptionId }, maxAttempts: 10 }, within);

/** Delivers what the subscription has not had yet; returns how many were delivered. */
export async function pump(deps: WebhookDeliveryDeps, id: string, now: () => Date = () => new Date()): Promise<number> {
  let sub = await deps.subscriptions.get(id);
  if (!sub || sub.status !== 'active') return 0;
  if (sub.retryAt && sub.retryAt > now()) {
    // Woken early by a new event while backing off: keep the retry time.
    await wakeDelivery(deps.queue, id, sub.retryAt);
    return 0;
  }
  let delivered = 0;
  for (;;) {
    const events = await deps.feed.list(sub.agency, sub.deliveredSeq, PAGE, sub.events);
    if (events.length === 0) return delivered;
    for (const e of events) {
      const error = await deliverOne(deps, sub, e);
      if (error !== null) {
        await failed(deps, sub, error, now());
        return delivered;
      }
      if (!(await deps.subscriptions.advance(id, sub.deliveredSeq, e.seq))) return delivered; // changed under us (redeliver, delete)
      sub = { ...sub, deliveredSeq: e.seq, failures: 0, failingSince: null, retryAt: null };
      delivered++;
    }
  }
}

async function deliverOne(deps: WebhookDeliveryDeps, sub: Subscription, e: StoredFeedEvent): Promise<string | null> {
  try {
    // Checked before every use: what the name resolves to may have changed since it was registered.
    await deps.sender.checkTarget(sub.url);
    return await deps.sender.send({ url: sub.url, secret: sub.secret }, { id: webhookId(e), body: webhookBody(e) });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

async function failed(deps: WebhookDeliveryDeps, sub: Subscription, error: string, now: Date): Promise<void> {
  const failures = sub.failures + 1;
  const since = sub.failingSince ?? now;
  const disable = now.getTime() - since.getTime() >= deps.policy.disableAfterMs;
  const retryAt = disable ? null : new Date(now.getTime() + retryDelayMs(failures, deps.policy));
  deps.log.warn({ subscription: sub.id, failures, error, retryAt, disabled: disable }, 'webhook delivery failed');
  await deps.subscriptions.recordFailure(sub.id, error, { retryAt, disable });
  if (retryAt) await wakeDelivery(deps.queue, sub.id, retryAt);
}

export function webhookHandler(deps: WebhookDeliveryDeps, concurrency: number): JobHandler {
  return {
    kind: WEBHOOK_JOB,
    concurrency,
    async run(job) {
      await pump(deps, String(job.payload.subscription ?? job.key));
    },
  };
}

/** Subscriptions that want an event type (in the event's transaction: see SqlEventFeed.onEvents). */
export const wants = (events: readonly EventType[], e: FeedEvent) => events.includes(e.type);
