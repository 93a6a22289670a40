/**
 * Fuzzed JSON requests to the routes that take a body: a valid body with a field replaced,
 * dropped or added, any JSON value instead of it, its text mutated byte by byte, nesting a
 * hundred thousand deep, a `__proto__` key; with the right content type or another, a charset or
 * an encoding that is not there.
 */
import fc from 'fast-check';
import { mutations, mutate, type Mutation } from './mutations.js';

export type Role = 'clerk' | 'prosecutor' | 'admin';

export interface JsonRoute {
  readonly name: string;
  readonly method: 'POST' | 'PUT';
  /** The path, given the ids the suite made (a sealed dossier, a pending transfer). */
  readonly path: (ids: { dossier: string; transfer: string }) => string;
  readonly role: Role;
  readonly valid: Record<string, unknown>;
}

export const JSON_ROUTES: readonly JsonRoute[] = [
  { name: 'create a case', method: 'POST', path: () => '/api/cases', role: 'clerk', valid: { number: 'FZ-1', title: 'fuzz' } },
  { name: 'send a dossier', method: 'POST', path: (i) => `/api/dossiers/${i.dossier}/transfers`, role: 'clerk', valid: { toAgency: 'procuratorate-1', stage: 'arrest-review', note: 'n' } },
  { name: 'accept a transfer', method: 'POST', path: (i) => `/api/transfers/${i.transfer}/accept`, role: 'prosecutor', valid: { caseNumber: 'P-1' } },
  { name: 'return a transfer', method: 'POST', path: (i) => `/api/transfers/${i.transfer}/return`, role: 'prosecutor', valid: { reason: 'incomplete' } },
  { name: 'create a link', method: 'POST', path: (i) => `/api/dossiers/${i.dossier}/links`, role: 'clerk', valid: { ttl: '1h', singleUse: true } },
  { name: 'put a stage', method: 'PUT', path: () => '/api/stages/fuzz-stage', role: 'admin', valid: { label: { en: 'Fuzz', 'zh-CN': '模糊' }, deadline: 'P7D' } },
  { name: 'register an agency', method: 'POST', path: () => '/api/agencies', role: 'admin', valid: { id: 'fuzz-1', name: 'Fuzz agency', kind: 'other' } },
];

export type BodyShape =
  | { readonly kind: 'valid' }
  | { readonly kind: 'field'; readonly key: string; readonly value: unknown }
  | { readonly kind: 'drop'; readonly key: string }
  | { readonly kind: 'whole'; readonly value: unknown }
  | { readonly kind: 'bytes'; readonly mutations: readonly Mutation[] }
  | { readonly kind: 'deep'; readonly depth: number }
  | { readonly kind: 'proto' };

export interface JsonRequest {
  readonly route: number;
  readonly body: BodyShape;
  readonly contentType: string | null;
  readonly contentEncoding: string | null;
}

const KEYS = ['number', 'title', 'toAgency', 'stage', 'note', 'caseNumber', 'reason', 'ttl', 'singleUse', 'label', 'deadline', 'order', 'id', 'name', 'kind', 'extra'];

export const jsonRequest: fc.Arbitrary<JsonRequest> = fc.record({
  route: fc.nat(JSON_ROUTES.length - 1),
  body: fc.oneof(
    fc.constant({ kind: 'valid' as const }),
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('field' as const), key: fc.constantFrom(...KEYS), value: fc.jsonValue({ maxDepth: 3 }) }) },
    fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...KEYS) }),
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('whole' as const), value: fc.jsonValue({ maxDepth: 3 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('bytes' as const), mutations }) },
    fc.record({ kind: fc.constant('deep' as const), depth: fc.constantFrom(1000, 100_000, 400_000) }),
    fc.constant({ kind: 'proto' as const }),
  ),
  contentType: fc.oneof(
    { weight: 8, arbitrary: fc.constant<string | null>('application/json') },
    fc.constantFrom<string | null>(null, 'text/plain', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', 'application/merge-patch+json', 'multipart/form-data; boundary=x'),
  ),
  contentEncoding: fc.oneof({ weight: 8, arbitrary: fc.constant<string | null>(null) }, fc.constantFrom<string | null>('gzip', 'deflate', 'br', 'identity', 'x-unknown')),
});

export function bodyText(route: JsonRoute, shape: BodyShape): Buffer {
  const valid = JSON.stringify(route.valid);
  switch (shape.kind) {
    case 'valid':
      return Buffer.from(valid);
    case 'field':
      return Buffer.from(JSON.stringify({ ...route.valid, [shape.key]: shape.value }));
    case 'drop': {
      const { [shape.key]: _dropped, ...rest } = route.valid;
      return Buffer.from(JSON.stringify(rest));
    }
    case 'whole':
      return Buffer.from(JSON.stringify(shape.value) ?? 'null');
    case 'bytes':
      return mutate(Buffer.from(valid), shape.mutations);
    case 'deep':
      return Buffer.from(`${'['.repeat(shape.depth)}${']'.repeat(shape.depth)}`);
    case 'proto':
      return Buffer.from(`{"__proto__":{"polluted":true,"roles":["admin"]},"constructor":{"prototype":{"polluted":true}},${valid.slice(1)}`);
  }
}
