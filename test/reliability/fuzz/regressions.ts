/**
 * Failures that fuzzing found, kept as cases: the seed's format, the mutations fast-check printed,
 * what the reader did before the fix (`found`), and what it must do now (`expect`: `pages:N` or
 * a rejection code).
 */
import type { JsonRequest } from './json-requests.js';
import type { Mutation } from './mutations.js';
import type { TusExchange } from './tus-exchanges.js';
import type { SeedFormat } from './seed-dossiers.js';

export interface ReaderRegression {
  readonly format: SeedFormat;
  readonly mutations: readonly Mutation[];
  /** Set: the mutations apply to this entry of the ZIP seed, which is then packed again (stored). */
  readonly entry?: number;
  readonly found: string;
  readonly expect: string;
}

export const READER_REGRESSIONS: readonly ReaderRegression[] = [];

/** tus exchanges that fuzzing failed: every answer must now pass runExchange's checks. */
export const TUS_REGRESSIONS: readonly { readonly exchange: TusExchange; readonly found: string; readonly expect: number }[] = [
  {
    // FUZZ_SEED=17, seed 117 path 0:0:0:0:0: @tus/server answers its own header checks past onResponseError.
    exchange: { format: 'pdf', payload: null, tusResumable: '1.0.0', length: 'exact', metadata: { kind: 'not-base64', key: 'filename' }, firstBody: 0, patches: [{ sixteenths: 1, offsetError: 0, contentType: null }], finish: false },
    found: '400 "Invalid upload-metadata" as plain text',
    expect: 400,
  },
  {
    exchange: { format: 'jpeg', payload: null, tusResumable: null, length: 'exact', metadata: { kind: 'valid' }, firstBody: 0, patches: [{ sixteenths: 16, offsetError: 0, contentType: null }], finish: false },
    found: '412 "Tus-Resumable Required" as plain text',
    expect: 412,
  },
];

/** JSON requests that fuzzing failed, with the status and code they must now get. */
export const JSON_REGRESSIONS: readonly { readonly request: JsonRequest; readonly found: string; readonly status: number; readonly code: string }[] = [
  {
    // FUZZ_SEED=17, seed 217 path 3:0:0:0:1.
    request: { route: 0, body: { kind: 'whole', value: [] }, contentType: 'application/json; charset=latin1', contentEncoding: null },
    found: '500 internal (the body parser\'s 415 charset.unsupported)',
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    request: { route: 0, body: { kind: 'valid' }, contentType: 'application/json', contentEncoding: 'x-unknown' },
    found: '500 internal (the body parser\'s 415 encoding.unsupported)',
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    request: { route: 0, body: { kind: 'valid' }, contentType: 'application/json', contentEncoding: 'gzip' },
    found: '500 internal (a gzip body that does not inflate: 400 without a type)',
    status: 400,
    code: 'bad_request',
  },
];
