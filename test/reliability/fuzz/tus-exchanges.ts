/**
 * Fuzzed tus exchanges as fast-check values: a creation request (its Tus-Resumable, Upload-Length
 * and Upload-Metadata right or broken, with or without a first body), then PATCHes whose offsets
 * and content types are right or off, carrying a seed dossier that may be mutated too. `runExchange`
 * sends one and checks every answer: never a 5xx, every error the JSON shape with a stable code,
 * every acknowledged offset exactly the bytes sent so far, and HEAD telling that same offset.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ERROR_CODES } from '../../../dossier/errors.js';
import { mutations, type Mutation } from './mutations.js';
import { SEED_FORMATS, type SeedFormat } from './seed-dossiers.js';

type LengthField = 'exact' | 'missing' | 'deferred' | 'one-more' | 'one-less' | 'zero' | 'negative' | 'text' | 'huge' | 'float';
type MetadataShape =
  | { readonly kind: 'valid' }
  | { readonly kind: 'missing'; readonly key: 'filename' | 'caseId' }
  | { readonly kind: 'not-base64'; readonly key: 'filename' | 'caseId' }
  | { readonly kind: 'value'; readonly key: 'filename' | 'caseId' | 'title'; readonly value: string }
  | { readonly kind: 'raw'; readonly header: string };

export interface TusExchange {
  readonly format: SeedFormat;
  readonly payload: readonly Mutation[] | null;
  readonly tusResumable: string | null;
  readonly length: LengthField;
  readonly metadata: MetadataShape;
  /** Share of the payload sent with the creation request (creation-with-upload), in 1/16ths. */
  readonly firstBody: number;
  readonly patches: readonly { readonly sixteenths: number; readonly offsetError: number; readonly contentType: string | null }[];
  /** Then send the rest in one right PATCH, as a client resuming does. */
  readonly finish: boolean;
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const weighted = <T>(usual: T, others: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: others });

export const tusExchange: fc.Arbitrary<TusExchange> = fc.record({
  format: fc.constantFrom(...SEED_FORMATS),
  payload: fc.option(mutations, { nil: null }),
  tusResumable: weighted<string | null>('1.0.0', fc.constantFrom(null, '', '0.2.2', '1.0.0, 1.0.0', '2.0.0', ' 1.0.0')),
  length: weighted<LengthField>('exact', fc.constantFrom('missing', 'deferred', 'one-more', 'one-less', 'zero', 'negative', 'text', 'huge', 'float')),
  metadata: fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'valid' as const }) },
    fc.record({ kind: fc.constant('missing' as const), key: fc.constantFrom('filename' as const, 'caseId' as const) }),
    fc.record({ kind: fc.constant('not-base64' as const), key: fc.constantFrom('filename' as const, 'caseId' as const) }),
    fc.record({ kind: fc.constant('value' as const), key: fc.constantFrom('filename' as const, 'caseId' as const, 'title' as const), value: fc.string({ unit: 'grapheme', maxLength: 300 }) }),
    fc.record({ kind: fc.constant('raw' as const), header: printable }),
  ),
  firstBody: weighted(0, fc.integer({ min: 1, max: 16 })),
  patches: fc.array(
    fc.record({
      sixteenths: fc.integer({ min: 1, max: 16 }),
      offsetError: weighted(0, fc.integer({ min: -3, max: 3 })),
      contentType: weighted<string | null>('application/offset+octet-stream', fc.constantFrom(null, 'application/json', 'application/octet-stream', 'application/offset+octet-stream; x=1')),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  finish: weighted(true, fc.constant(false)),
});

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function metadataHeader(m: MetadataShape, caseId: string, filename: string): string {
  const fields: Record<string, string> = { filename: b64(filename), caseId: b64(caseId) };
  if (m.kind === 'missing') delete fields[m.key];
  if (m.kind === 'not-base64') fields[m.key] = '!!not*base64';
  if (m.kind === 'value') fields[m.key] = b64(m.value);
  if (m.kind === 'raw') return m.header;
  return Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(',');
}

function lengthHeaders(field: LengthField, size: number): Record<string, string> {
  const value: Record<LengthField, string | null> = {
    exact: String(size), missing: null, deferred: null, 'one-more': String(size + 1), 'one-less': String(Math.max(size - 1, 0)),
    zero: '0', negative: '-5', text: 'ten', huge: '99999999999999999999', float: `${size}.5`,
  };
  if (field === 'deferred') return { 'upload-defer-length': '1' };
  return value[field] === null ? {} : { 'upload-length': value[field]! };
}

export interface ExchangeResult {
  /** The upload's id, when the creation was accepted. */
  readonly id: string | null;
  /** Set when every byte of the declared length arrived: the SHA-256 of what was sent. */
  readonly completedSha256: string | null;
  readonly statuses: readonly number[];
}

export class ExchangeFailure extends Error {}

/** Checks an answer: below 500, and an error the JSON shape with a code of the catalogue. */
async function checked(res: Response, what: string, statuses: number[]): Promise<Response> {
  statuses.push(res.status);
  if (res.status >= 500 || res.status === 423) throw new ExchangeFailure(`${what}: ${res.status} ${await res.text()}`);
  // A HEAD answer has no body to carry the error shape: its status is the answer.
  if (res.status >= 400 && !what.startsWith('HEAD')) {
    const text = await res.text();
    let code: unknown;
    try {
      code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
    } catch {
      throw new ExchangeFailure(`${what}: ${res.status} answered without the JSON error shape: ${text.slice(0, 200)}`);
    }
    if (!(ERROR_CODES as readonly unknown[]).includes(code)) throw new ExchangeFailure(`${what}: ${res.status} with an unknown code ${String(code)}`);
  }
  return res;
}

async function headOffset(url: string, auth: Record<string, string>, statuses: number[]): Promise<number> {
  const head = await checked(await fetch(url, { method: 'HEAD', headers: { ...auth, 'tus-resumable': '1.0.0' } }), 'HEAD', statuses);
  if (head.status !== 200) throw new ExchangeFailure(`HEAD of a created upload answered ${head.status}`);
  return Number(head.headers.get('upload-offset'));
}

export async function runExchange(base: string, token: string, caseId: string, seeds: Record<SeedFormat, Buffer>, x: TusExchange, mutate: (b: Buffer, m: readonly Mutation[]) => Buffer): Promise<ExchangeResult> {
  const payload = x.payload ? mutate(seeds[x.format], x.payload) : seeds[x.format];
  const statuses: number[] = [];
  const auth = { authorization: `Bearer ${token}` };
  const tus: Record<string, string> = x.tusResumable === null ? {} : { 'tus-resumable': x.tusResumable };
  const first = Math.min(payload.length, Math.floor((payload.length * x.firstBody) / 16));
  const createHeaders: Record<string, string> = { ...auth, ...tus, ...lengthHeaders(x.length, payload.length), 'upload-metadata': metadataHeader(x.metadata, caseId, `dossier.${x.format}`) };
  if (first > 0) createHeaders['content-type'] = 'application/offset+octet-stream';
  const created = await checked(await fetch(`${base}/files/`, { method: 'POST', headers: createHeaders, ...(first > 0 ? { body: payload.subarray(0, first) } : {}) }), 'POST', statuses);
  if (created.status !== 201) return { id: null, completedSha256: null, statuses };
  const location = created.headers.get('location');
  if (!location) throw new ExchangeFailure('201 without a Location');
  const url = new URL(location, base).href;
  const declared = x.length === 'exact' ? payload.length : x.length === 'one-more' ? payload.length + 1 : x.length === 'one-less' ? payload.length - 1 : x.length === 'zero' ? 0 : null;
  // What the server has acknowledged so far: the creation's Upload-Offset when it took a body.
  let offset = first > 0 ? Number(created.headers.get('upload-offset') ?? 0) : 0;
  if (first > 0 && offset !== first && !(declared !== null && offset === Math.min(first, declared))) {
    throw new ExchangeFailure(`creation with ${first} bytes acknowledged ${offset}`);
  }
  const rest = { sixteenths: 16, offsetError: 0, contentType: 'application/offset+octet-stream' };
  for (const [i, p] of [...x.patches, ...(x.finish ? [rest] : [])].entries()) {
    if (declared !== null && offset >= declared) break;
    const end = Math.min(payload.length, offset + Math.max(1, Math.floor((payload.length * p.sixteenths) / 16)));
    const chunk = payload.subarray(offset, end);
    const sentOffset = Math.max(0, offset + p.offsetError);
    const headers: Record<string, string> = { ...auth, ...tus, 'upload-offset': String(sentOffset) };
    if (p.contentType !== null) headers['content-type'] = p.contentType;
    const res = await checked(await fetch(url, { method: 'PATCH', headers, body: chunk }), `PATCH ${i + 1}`, statuses);
    if (res.status === 204) {
      const acknowledged = Number(res.headers.get('upload-offset'));
      const expected = Math.min(sentOffset + chunk.length, declared ?? Infinity);
      if (sentOffset !== offset || acknowledged !== expected) throw new ExchangeFailure(`PATCH ${i + 1} at ${sentOffset} (kept ${offset}) of ${chunk.length} bytes was acknowledged at ${acknowledged}`);
      offset = acknowledged;
    } else {
      // A refused PATCH may have kept part of its body (a client asks HEAD after any failure), but
      // only at the right offset, and never more than it carried.
      const told = await headOffset(url, auth, statuses);
      const most = sentOffset === offset ? offset + chunk.length : offset;
      if (told < offset || told > most) throw new ExchangeFailure(`after a refused PATCH ${i + 1} (${res.status}) at ${sentOffset} of ${chunk.length} bytes, HEAD tells ${told}; ${offset} were kept before`);
      offset = told;
    }
  }
  const complete = declared !== null && offset === declared;
  if (complete) {
    // Once the last byte is in, ingest takes the staged file: HEAD tells all of it, or 410.
    const head = await checked(await fetch(url, { method: 'HEAD', headers: { ...auth, 'tus-resumable': '1.0.0' } }), 'HEAD', statuses);
    if (head.status === 200 ? Number(head.headers.get('upload-offset')) !== declared : head.status !== 410) {
      throw new ExchangeFailure(`HEAD of a complete upload answered ${head.status} with offset ${head.headers.get('upload-offset')}`);
    }
  } else {
    const told = await headOffset(url, auth, statuses);
    if (told !== offset) throw new ExchangeFailure(`HEAD tells ${told} bytes, the PATCHes acknowledged ${offset}`);
  }
  const completedSha256 = complete ? createHash('sha256').update(payload.subarray(0, declared)).digest('hex') : null;
  return { id: url.split('/').pop()!, completedSha256, statuses };
}
