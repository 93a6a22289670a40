/**
 * The OpenAPI paths of supervision and integration (issue 15), generated from the zod schemas
 * that validate those requests, so the document cannot drift from what the routes accept.
 */
import { z } from 'zod';
import { EVENT_TYPES } from '../dossier/events/feed-event.js';
import { eventsQuery } from './routes/events.js';
import { overdueQuery, statsQuery, transfersQuery } from './routes/supervision.js';
import { createWebhookBody, redeliverBody } from './routes/webhooks.js';

const error = { $ref: '#/components/responses/Error' };
const bearer = [{ bearer: [] }];
const errors = { 401: error, 403: error, 404: error };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const idempotencyHeader = { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', minLength: 1, maxLength: 200 }, description: 'the same key and body answer the first response; another body is 422 idempotency_key_reused' };

/** A request schema as JSON Schema (its input side: what a client sends). */
export const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** The query parameters of an object schema. */
function queryParameters(schema: z.ZodObject) {
  const s = jsonSchema(schema) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({ name, in: 'query', required: s.required?.includes(name) ?? false, schema: p }));
}

const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });

const transferMetadata = {
  type: 'object',
  properties: {
    transferId: { type: 'string' }, caseId: { type: 'string' }, caseNumber: { type: 'string' }, dossierId: { type: 'string' },
    fromAgency: { type: 'string' }, toAgency: { type: 'string' }, stage: { type: 'string' }, status: { enum: ['pending', 'accepted', 'returned'] },
    sentAt: { type: 'string', format: 'date-time' }, dueAt: { type: ['string', 'null'], format: 'date-time' }, answeredAt: { type: ['string', 'null'], format: 'date-time' },
    overdueAt: { type: ['string', 'null'], format: 'date-time', description: 'when the scheduled check found it overdue' },
    clock: { enum: ['answered', 'on-time', 'due-soon', 'overdue'] }, lateSeconds: { type: ['integer', 'null'], description: 'past due (positive) or left (negative)' },
    reason: { type: ['string', 'null'] }, pageCount: { type: ['integer', 'null'] }, bytes: { type: ['integer', 'null'] },
  },
};
const counts = {
  sent: { type: 'integer' }, accepted: { type: 'integer' }, returned: { type: 'integer' }, pending: { type: 'integer' },
  overdue: { type: 'integer' }, dueSoon: { type: 'integer' }, pages: { type: 'integer' }, bytes: { type: 'integer' },
  acceptSeconds: { type: 'object', properties: { p50: { type: ['number', 'null'] }, p90: { type: ['number', 'null'] } } },
};
const event = {
  type: 'object',
  required: ['id', 'type', 'time', 'data'],
  properties: { id: { type: 'string', description: 'the event’s seq; webhook-id is msg_<id>' }, type: { enum: [...EVENT_TYPES] }, time: { type: 'string', format: 'date-time' }, data: { type: 'object' } },
};
const subscription = {
  type: 'object',
  properties: {
    id: { type: 'string' }, url: { type: 'string' }, events: { type: 'array', items: { enum: [...EVENT_TYPES] } }, status: { enum: ['active', 'disabled'] },
    createdAt: { type: 'string', format: 'date-time' }, deliveredUpTo: { type: 'string' }, delivered: { type: 'integer' }, lastDeliveredAt: { type: ['string', 'null'] },
    failures: { type: 'integer' }, failingSince: { type: ['string', 'null'] }, retryAt: { type: ['string', 'null'] }, disabledAt: { type: ['string', 'null'] },
    lastErrors: { type: 'array', items: { type: 'object', properties: { time: { type: 'string' }, error: { type: 'string' } } } },
    secret: { type: 'string', description: 'Standard Webhooks secret (whsec_…): in the create answer only' },
  },
};

export const integrationPaths = {
  '/api/supervision/overdue': {
    get: {
      summary: 'pending transfers past due (include=due-soon adds those in the last fifth of their deadline), most late first; a committee’s supervisor: every agency, others: their own agency’s',
      security: bearer, parameters: queryParameters(overdueQuery),
      responses: { 200: json({ type: 'object', properties: { items: { type: 'array', items: transferMetadata } } }, 'overdue transfers'), 400: error, 401: error },
    },
  },
  '/api/supervision/transfers': {
    get: {
      summary: 'transfer metadata (never content) sent in [from, to), newest first; scope as for the overdue list',
      security: bearer, parameters: queryParameters(transfersQuery),
      responses: { 200: json({ type: 'object', properties: { items: { type: 'array', items: transferMetadata } } }, 'transfers'), 400: error, 401: error, 404: error },
    },
  },
  '/api/stats': {
    get: {
      summary: 'transfers sent in [from, to): counts, time to accept (p50, p90) overall and per receiving agency and stage, return reasons ranked, pages and bytes, OCR backlog; JSON, or CSV with Accept: text/csv (one row per agency and stage, then the total as *,*)',
      security: bearer, parameters: queryParameters(statsQuery),
      responses: {
        200: {
          description: 'statistics',
          content: {
            'application/json': { schema: { type: 'object', properties: { ...counts, byAgencyStage: { type: 'array', items: { type: 'object', properties: { agency: { type: 'string' }, stage: { type: 'string' }, ...counts } } }, returnReasons: { type: 'array', items: { type: 'object', properties: { reason: { type: 'string' }, count: { type: 'integer' } } } }, ocrBacklog: { type: 'integer' } } } },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        400: error, 401: error, 404: error,
      },
    },
  },
  '/api/events': {
    get: {
      summary: 'the caller’s agency’s event feed, oldest first; pass `next` as `after` to read on (nothing lost or repeated, across restarts)',
      security: bearer, parameters: queryParameters(eventsQuery),
      responses: { 200: json({ type: 'object', properties: { events: { type: 'array', items: event }, next: { type: 'string' } } }, 'events'), 400: error, 401: error },
    },
  },
  '/api/webhooks': {
    post: {
      summary: 'subscribe the agency’s system (admin); deliveries are Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), body as a feed event, in order per subscription, retried with exponential backoff; the answer carries the secret once',
      security: bearer, parameters: [idempotencyHeader],
      requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(createWebhookBody) } } },
      responses: { 201: json(subscription, 'subscribed'), 400: error, 401: error, 403: error, 422: { ...error, description: 'webhook_target_refused: a private or loopback target off WEBHOOK_ALLOW_HOSTS, or not http(s); idempotency_key_reused' } },
    },
    get: { summary: 'the agency’s subscriptions with their delivery state and last errors (admin)', security: bearer, responses: { 200: json({ type: 'object', properties: { webhooks: { type: 'array', items: subscription } } }, 'subscriptions'), 401: error, 403: error } },
  },
  '/api/webhooks/{id}': {
    get: { summary: 'one subscription (admin of its agency)', security: bearer, parameters: [idParam], responses: { 200: json(subscription, 'subscription'), ...errors } },
    delete: { summary: 'unsubscribe (admin of its agency)', security: bearer, parameters: [idParam], responses: { 204: { description: 'deleted' }, ...errors } },
  },
  '/api/webhooks/{id}/redeliver': {
    post: {
      summary: 're-enable a subscription and deliver again, from event `from` when given (same webhook-id per event: receivers de-duplicate)',
      security: bearer, parameters: [idParam],
      requestBody: { content: { 'application/json': { schema: jsonSchema(redeliverBody) } } },
      responses: { 200: json(subscription, 'subscription'), 400: error, ...errors },
    },
  },
} as const;
