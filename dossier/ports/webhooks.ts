/** Storage and transport ports of webhook delivery (dossier/integration/). */
import type { EventType } from '../events/feed-event.js';
import type { Tx } from './transactions.js';

export interface Subscription {
  readonly id: string;
  readonly agency: string;
  readonly url: string;
  readonly events: readonly EventType[];
  /** The Standard Webhooks signing secret, `whsec_` + base64. Shown to its admin once. */
  readonly secret: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly status: 'active' | 'disabled' | 'deleted';
  /** Every event of the agency's feed up to this seq has been delivered (or was not subscribed). */
  readonly deliveredSeq: number;
  readonly failures: number;
  readonly failingSince: Date | null;
  readonly retryAt: Date | null;
  readonly lastErrors: readonly { readonly time: string; readonly error: string }[];
  readonly deliveredCount: number;
  readonly lastDeliveredAt: Date | null;
  readonly disabledAt: Date | null;
}

/** A subscription as registered: its defining half, and the key that makes a repeated create a replay. */
export interface NewSubscription extends Pick<Subscription, 'id' | 'agency' | 'url' | 'events' | 'secret' | 'createdBy'> {
  readonly idempotencyKey: string | null;
}

export interface SubscriptionRepository {
  /** Creates one whose cursor starts at the chain's head (events from now on); a repeated key returns the first. */
  create(s: NewSubscription, within?: Tx): Promise<{ subscription: Subscription; created: boolean }>;
  get(id: string): Promise<Subscription | null>;
  /** The agency's subscription, or null (404 for any other agency). */
  findOwned(id: string, agency: string): Promise<Subscription | null>;
  list(agency: string): Promise<Subscription[]>;
  /** Marks it deleted (kept for the audit trail); false when it was not the agency's. */
  delete(id: string, agency: string, within?: Tx): Promise<boolean>;
  /** Moves the cursor from `from` to `to` after a delivery; false when another moved it. */
  advance(id: string, from: number, to: number): Promise<boolean>;
  /** Records a failed attempt: the next try at `retryAt`, or disabled when `disable`. */
  recordFailure(id: string, error: string, o: { retryAt: Date | null; disable: boolean }): Promise<Subscription | null>;
  /** Active again, failures cleared, the cursor moved back to just before `fromSeq` when given. */
  redeliver(id: string, agency: string, fromSeq: number | null, within?: Tx): Promise<Subscription | null>;
}

export interface WebhookMessage {
  /** webhook-id: the same for every attempt of one event, for the receiver's de-duplication. */
  readonly id: string;
  readonly body: string;
}

export interface WebhookSender {
  /** Refuses a URL the gateway may not call (scheme, private or loopback address off the allow-list). */
  checkTarget(url: string): Promise<void>;
  /** One signed POST; resolves with null on a 2xx, else with why it failed. Never follows a redirect. */
  send(target: { url: string; secret: string }, message: WebhookMessage): Promise<string | null>;
}

export interface StoredFeedEvent {
  readonly seq: number;
  readonly type: EventType;
  readonly time: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface FeedReader {
  /** The agency's events after `after`, oldest first, only of `types` when given. */
  list(agency: string, after: number, limit: number, types?: readonly string[]): Promise<StoredFeedEvent[]>;
}
