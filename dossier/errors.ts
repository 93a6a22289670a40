/**
 * Errors as values with stable codes. The domain throws DossierError; the HTTP edge maps each
 * code to a status in one table (server/error-status.ts). Codes are part of the public contract:
 * never rename one, only add.
 */
/** Codes that end an ingest for good: retrying the same bytes cannot succeed. */
const REJECTIONS = [
  'unsupported_format',
  'corrupt_archive',
  'corrupt_image',
  'corrupt_pdf',
  'encrypted_pdf',
  'zip_bomb',
  'unsafe_path',
  'image_too_large',
  'too_many_pages',
  'empty_dossier',
  'pdf_too_large',
] as const;

export const ERROR_CODES = [
  // request and access
  'bad_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  // a request body in a charset or content encoding the gateway does not read
  'unsupported_media_type',
  'invalid_metadata',
  'upload_incomplete',
  // signed links: 401 for a token that is not ours or not intact, 410 for one that is over
  'invalid_link',
  'link_expired',
  'link_revoked',
  'link_used',
  // custody: a transfer to an agency that is not registered; a dossier already in flight
  'unknown_agency',
  'transfer_pending',
  // webhooks: a target the gateway may not call (private or loopback off the allow-list, bad scheme);
  // an Idempotency-Key used before with another request
  'webhook_target_refused',
  'idempotency_key_reused',
  // a page's text: OCR not finished yet; OCR ended failed (the message carries the reason)
  'ocr_pending',
  'ocr_failed',
  // sign-in and browser sessions: a wrong user or password; too many failures in a row; a
  // state-changing request made with a session cookie but without its CSRF token
  'invalid_credentials',
  'too_many_attempts',
  'csrf_failed',
  // single sign-on: the provider's answer did not check out (state, code, nonce, signature);
  // the provider vouched for someone whose agency or role we do not know (never a default role)
  'sign_in_failed',
  'identity_refused',
  // OAuth 2.0 token endpoint: the client's assertion is not accepted; a grant we do not offer
  'invalid_client',
  'unsupported_grant_type',
  // ingest rejections (a dossier ends `rejected` with one of these)
  ...REJECTIONS,
  // the object store kept other bytes than were sent (a put is checked against its checksum)
  'blob_integrity',
  // a service we depend on (the database) cannot be reached for now: try again shortly
  'unavailable',
  // internal
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DossierError extends Error {
  override readonly name = 'DossierError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isDossierError(err: unknown): err is DossierError {
  return err instanceof DossierError;
}

export const REJECTION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(REJECTIONS);
