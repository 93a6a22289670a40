/** The one place where error codes become HTTP statuses and the JSON error shape. */
import type { ErrorRequestHandler, Response } from 'express';
import { DossierError, isDossierError, type ErrorCode } from '../dossier/errors.js';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_metadata: 400,
  upload_incomplete: 409,
  invalid_link: 401,
  link_expired: 410,
  link_revoked: 410,
  link_used: 410,
  unknown_agency: 422,
  transfer_pending: 409,
  webhook_target_refused: 422,
  idempotency_key_reused: 422,
  ocr_pending: 409,
  ocr_failed: 409,
  invalid_credentials: 401,
  too_many_attempts: 429,
  csrf_failed: 403,
  sign_in_failed: 401,
  identity_refused: 403,
  invalid_client: 401,
  unsupported_grant_type: 400,
  unsupported_format: 415,
  corrupt_archive: 422,
  corrupt_image: 422,
  corrupt_pdf: 422,
  encrypted_pdf: 422,
  zip_bomb: 422,
  unsafe_path: 422,
  image_too_large: 422,
  too_many_pages: 422,
  empty_dossier: 422,
  pdf_too_large: 413,
  blob_integrity: 502,
  unavailable: 503,
  internal: 500,
};

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Maps anything thrown to a status and body; internal details never reach the client. */
export function toHttpError(err: unknown): { status: number; body: ErrorBody } {
  if (isDossierError(err)) return { status: STATUS_BY_CODE[err.code], body: errorBody(err.code, err.message) };
  const status = (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
  if (status === 400 && (err as { type?: string }).type === 'entity.parse.failed') {
    return { status: 400, body: errorBody('bad_request', 'request body is not valid JSON') };
  }
  if (status === 413) return { status: 413, body: errorBody('payload_too_large', 'request body too large') };
  // The body parser's other refusals of the client's body, a charset it does not read or a gzip
  // body that does not inflate (found by fuzzing: they were 500s); http-errors marks them `expose`.
  if (status === 415) {
    return { status: 415, body: errorBody('unsupported_media_type', 'the request body must be JSON in UTF-8, uncompressed or gzip, deflate or br encoded') };
  }
  if (status !== undefined && status >= 400 && status < 500 && (err as { expose?: unknown }).expose === true) {
    return { status: 400, body: errorBody('bad_request', 'the request body could not be read') };
  }
  // PostgreSQL refuses a NUL or an invalid byte in text (22021, 22P05): the request's input, not our fault.
  const sqlState = (err as { code?: unknown }).code;
  if (sqlState === '22021' || sqlState === '22P05') return { status: 400, body: errorBody('bad_request', 'the request holds a character that cannot be stored (a NUL byte)') };
  return { status: 500, body: errorBody('internal', 'internal error') };
}

export function sendError(res: Response, err: unknown): void {
  const { status, body } = toHttpError(err);
  // A bearer challenge only where a bearer token is what is missing (not for a bad download link).
  if (body.error.code === 'unauthenticated') res.setHeader('WWW-Authenticate', 'Bearer');
  if (body.error.code === 'unavailable') res.setHeader('Retry-After', '5');
  res.status(status).json(body);
}

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const { status } = toHttpError(err);
  if (status >= 500) req.log?.error({ err }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendError(res, err);
};

export function notFound(what: string): DossierError {
  return new DossierError('not_found', `${what} not found`);
}
