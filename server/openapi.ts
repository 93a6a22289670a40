/** GET /openapi.json: the API as built so far (OpenAPI 3.1). Extended as routes arrive. */
import { integrationPaths, jsonSchema } from './openapi-integration.js';
import { createCase } from './routes/cases.js';
import { STATUS_BATCH_MAX } from './routes/dossiers.js';
import { acceptBody, returnBody, sendBody } from './routes/transfers.js';

const error = { $ref: '#/components/responses/Error' };
const bearer = [{ bearer: [] }];
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
/** The export leaves out the original upload unless asked: the pages are the evidence, signed one by one. */
const originalParam = { name: 'original', in: 'query', schema: { enum: ['0', '1'], default: '1' }, description: '0: leave out original/<filename>, the upload as the clerk sent it (the pages alone verify against the manifest; dossier verify reports the original absent)' };
/** The export ZIP is resumable: its bytes are fixed by what it holds, named by a strong ETag. */
const exportRangeParams = [
  { name: 'Range', in: 'header', schema: { type: 'string', example: 'bytes=1048576-' }, description: 'one byte range of the archive (a resumed download); several ranges: the whole' },
  { name: 'If-Range', in: 'header', schema: { type: 'string' }, description: 'the ETag the first part came with: a changed export (another ETag) is sent whole (200), never spliced' },
];
const exportResponses = {
  200: { description: 'application/zip; Content-Length, Accept-Ranges: bytes, ETag (strong: the hash of the layout version and of every entry’s name, size and content)' },
  206: { description: 'the range asked for, Content-Range: bytes start-end/length; the bytes are that slice of the whole archive' },
  416: { description: 'the range starts at or beyond the archive’s length (Content-Range: bytes */length)' },
};
const pageParam = { name: 'n', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const errors = { 401: error, 403: error, 404: error };
const linkToken = { name: 'token', in: 'path', required: true, schema: { type: 'string' } };
/** A link is refused: 401 invalid_link (not ours or not intact), 404 (its agency no longer sees the case), 410 link_expired | link_revoked | link_used. */
const linkResponses = (ok: Record<number, unknown>) => ({ ...ok, 401: error, 404: error, 410: error });
/** A JSON request body from the zod schema that validates it. */
const body = (schema: Parameters<typeof jsonSchema>[0]) => ({ required: true, content: { 'application/json': { schema: jsonSchema(schema) } } });
const transferJson = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Transfer' } } } });

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'Dossier gateway', version: '0.1.0', description: 'Resumable upload, per-page hashing and signing, sealed and verifiable dossiers.' },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      // The web application's session: the cookie, plus X-CSRF-Token on state-changing requests.
      session: { type: 'apiKey', in: 'cookie', name: 'dossier_session', description: '__Host-dossier_session under HTTPS; every POST, PUT, PATCH and DELETE (tus too) also needs the session’s token in X-CSRF-Token (403 csrf_failed). Accepted wherever bearer is, with the same access rules.' },
    },
    responses: {
      Error: {
        description: 'An error with a stable code',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['error'],
              properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
            },
          },
        },
      },
    },
    schemas: {
      Case: {
        type: 'object',
        properties: { id: { type: 'string', format: 'uuid' }, number: { type: 'string', description: 'the owner’s number' }, numbers: { type: 'array', description: 'every agency’s own number for the case, owner first', items: { type: 'object', properties: { agency: { type: 'string' }, number: { type: 'string' } } } }, title: { type: 'string' }, agency: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, dossiers: { type: 'array', items: { $ref: '#/components/schemas/Dossier' } } },
      },
      Dossier: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          caseId: { type: 'string' },
          status: { enum: ['receiving', 'processing', 'sealed', 'rejected'] },
          pageCount: { type: ['integer', 'null'] },
          bytes: { type: ['integer', 'null'] },
          received: { type: 'integer', description: 'bytes received so far, while receiving' },
          sha256: { type: ['string', 'null'] },
          merkleRoot: { type: ['string', 'null'] },
          kid: { type: ['string', 'null'] },
          sealedAt: { type: ['string', 'null'], format: 'date-time' },
          progress: { type: 'object', properties: { pages: { type: 'integer' }, thumbnails: { type: 'integer' }, ocr: { type: ['object', 'null'], description: 'OCR counts of a sealed dossier', properties: { done: { type: 'integer' }, failed: { type: 'integer' }, total: { type: 'integer' } } } } },
          error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
          outline: {
            type: 'array',
            description: 'GET /api/dossiers/{id} of a sealed dossier only: the bookmarks of its PDFs (their outlines), nested, each with the dossier page it opens (null: none); empty when it has none',
            items: { $ref: '#/components/schemas/OutlineEntry' },
          },
        },
      },
      OutlineEntry: {
        type: 'object',
        required: ['title', 'page', 'children'],
        properties: {
          title: { type: 'string' },
          page: { type: ['integer', 'null'], description: 'dossier page number, from 1' },
          children: { type: 'array', items: { $ref: '#/components/schemas/OutlineEntry' } },
        },
      },
      Page: {
        type: 'object',
        properties: {
          index: { type: 'integer' }, sha256: { type: 'string' }, size: { type: 'integer' }, mediaType: { type: 'string' },
          sm3: { type: 'string', description: 'the page’s SM3, only for a dossier sealed under the national suite (SIGNATURE_SUITE=sm2-sm3)' },
          width: { type: ['integer', 'null'] }, height: { type: ['integer', 'null'] }, source: { type: 'string' },
          signature: { type: 'string', description: 'JWS compact (EdDSA, or SM2 under the national suite) over the page statement' }, thumbnail: { type: 'boolean' },
          rotation: { type: 'integer', enum: [0, 90, 180, 270], description: 'clockwise degrees that show the page upright (found by OCR); the stored bytes are not turned' },
          ocr: {
            type: ['object', 'null'],
            description: 'null before the seal',
            properties: { status: { enum: ['queued', 'done', 'failed'] }, confidence: { type: ['number', 'null'], description: 'mean word confidence 0–100; 100 for a text layer or a blank page' }, source: { enum: ['ocr', 'text-layer', 'blank'], description: 'blank: no ink on the page (an empty back), not sent to the recogniser' }, reason: { type: ['string', 'null'], description: 'why it failed' } },
          },
        },
      },
      Transfer: {
        type: 'object',
        required: ['id', 'dossierId', 'caseId', 'fromAgency', 'toAgency', 'stage', 'status', 'sentAt'],
        properties: {
          id: { type: 'string', format: 'uuid' }, dossierId: { type: 'string' }, caseId: { type: 'string', format: 'uuid' }, fromAgency: { type: 'string' }, toAgency: { type: 'string' },
          stage: { type: 'string' }, note: { type: ['string', 'null'] }, status: { enum: ['pending', 'accepted', 'returned'] }, sentBy: { type: 'string' }, sentAt: { type: 'string', format: 'date-time' },
          answeredBy: { type: ['string', 'null'] }, answeredAt: { type: ['string', 'null'], format: 'date-time' }, reason: { type: ['string', 'null'] },
          receipt: { type: ['string', 'null'], description: 'JWS compact (EdDSA): the signed custody receipt, once answered' },
          dueAt: { type: ['string', 'null'], format: 'date-time' }, overdueAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      Proof: {
        type: 'object',
        properties: { index: { type: 'integer', description: '0-based leaf index (page n − 1)' }, treeSize: { type: 'integer' }, leafHash: { type: 'string' }, path: { type: 'array', items: { type: 'string' } }, root: { type: 'string' } },
      },
    },
  },
  paths: {
    '/healthz': { get: { summary: 'liveness: the process serves HTTP', responses: { 200: { description: '{ ok: true }' } } } },
    '/readyz': { get: { summary: 'readiness: the database and the blob store answer', responses: { 200: { description: '{ ok, checks: { database, blobs } }' }, 503: { description: 'a check failed (Retry-After: 5); checks name it' } } } },
    '/metrics': { get: { summary: 'Prometheus text format; only to loopback peers not behind a proxy, METRICS_ALLOW addresses, or the METRICS_TOKEN bearer', responses: { 200: { description: 'text/plain; version=0.0.4' }, 404: { description: 'not for this caller' } } } },
    '/openapi.json': { get: { summary: 'this document (OpenAPI 3.1)', responses: { 200: { description: 'OpenAPI document' } } } },
    '/.well-known/jwks.json': { get: { summary: 'current and retired public signing keys', responses: { 200: { description: 'JWKS' } } } },
    '/files/': { post: { summary: 'tus 1.0.0 creation (Upload-Metadata: filename, caseId, title?, filetype?); also creation-with-upload', security: bearer, responses: { 201: { description: 'created' }, 400: error, 413: error, ...errors } } },
    '/files/{id}': {
      head: { summary: 'tus offset', security: bearer, parameters: [idParam], responses: { 200: { description: 'Upload-Offset' }, ...errors } },
      patch: { summary: 'tus append', security: bearer, parameters: [idParam], responses: { 204: { description: 'appended' }, 409: error, ...errors } },
      delete: { summary: 'tus termination of an unfinished upload', security: bearer, parameters: [idParam], responses: { 204: { description: 'terminated' }, ...errors } },
    },
    '/api/cases': {
      post: { summary: 'create a case owned by the caller’s agency (Idempotency-Key honoured)', security: bearer, parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 } }], requestBody: body(createCase), responses: { 201: { description: 'created', content: { 'application/json': { schema: { $ref: '#/components/schemas/Case' } } } }, 400: error, 409: error, ...errors } },
      get: { summary: 'cases visible to the caller (owned, or with a dossier transferred to it), with their dossiers', security: bearer, parameters: [{ name: 'number', in: 'query', schema: { type: 'string' }, description: 'any agency’s number for the case' }], responses: { 200: { description: 'cases' }, ...errors } },
    },
    '/api/cases/{id}': { get: { security: bearer, parameters: [idParam], responses: { 200: { description: 'case' }, ...errors } } },
    '/api/dossiers': {
      get: {
        summary: `several dossiers at once, each as GET /api/dossiers/{id} answers it less the outline (what a bulk migration polls while it waits for seals): up to ${STATUS_BATCH_MAX} ids, comma-separated; a dossier the caller cannot see is left out, as a missing one is`,
        security: bearer,
        parameters: [{ name: 'ids', in: 'query', required: true, schema: { type: 'string' }, description: 'dossier ids (UUIDs), comma-separated' }],
        responses: { 200: { description: 'the visible ones, in the order asked', content: { 'application/json': { schema: { type: 'object', properties: { dossiers: { type: 'array', items: { $ref: '#/components/schemas/Dossier' } } } } } } }, 400: error, ...errors },
      },
    },
    '/api/dossiers/{id}': { get: { security: bearer, parameters: [idParam], responses: { 200: { description: 'dossier', content: { 'application/json': { schema: { $ref: '#/components/schemas/Dossier' } } } }, ...errors } } },
    '/api/dossiers/{id}/pages': { get: { security: bearer, parameters: [idParam, { name: 'offset', in: 'query', schema: { type: 'integer' } }, { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 1000 } }], responses: { 200: { description: 'pages', content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Page' } } } } }, ...errors } } },
    '/api/dossiers/{id}/pages/{n}': { get: { summary: 'the page’s stored bytes (Range supported); with BLOB_STORE=s3 a page of at least S3_REDIRECT_MIN_BYTES is a 302 to a presigned URL of at most 5 minutes', security: bearer, parameters: [idParam, pageParam], responses: { 200: { description: 'bytes' }, 206: { description: 'range' }, 302: { description: 'presigned URL of the object store (audited as the read)' }, 409: error, ...errors } } },
    '/api/dossiers/{id}/original': { get: { summary: 'the upload exactly as received (its sha256 is the dossier’s); Range supported; a 302 to a presigned URL as for pages', security: bearer, parameters: [idParam], responses: { 200: { description: 'bytes' }, 206: { description: 'range' }, 302: { description: 'presigned URL of the object store (audited as the read)' }, 409: error, ...errors } } },
    '/api/dossiers/{id}/pages/{n}/thumbnail': { get: { security: bearer, parameters: [idParam, pageParam], responses: { 200: { description: 'JPEG, 240 px wide, shown upright' }, ...errors } } },
    '/api/dossiers/{id}/pages/{n}/image': {
      get: {
        security: bearer,
        summary: 'The page as a picture for a viewer, upright, any page type (PDF and JPEG 2000 pages drawn by the server); audited as page.view',
        parameters: [idParam, pageParam, { name: 'width', in: 'query', schema: { type: 'integer', minimum: 64, maximum: 3000, default: 1200 } }],
        responses: { 200: { description: 'JPEG' }, 304: { description: 'not modified (ETag)' }, ...errors },
      },
    },
    '/api/dossiers/{id}/pages/{n}/text': { get: { summary: 'the page’s text (OCR or the PDF’s text layer), text/plain UTF-8', security: bearer, parameters: [idParam, pageParam], responses: { 200: { description: 'text', content: { 'text/plain': { schema: { type: 'string' } } } }, 409: { ...error, description: 'ocr_pending: OCR not finished yet; ocr_failed: OCR ended failed (the message says why); conflict: dossier not sealed' }, ...errors } } },
    '/api/search': {
      get: {
        summary: 'full text over the pages of the cases visible to the caller (Latin and CJK), best first',
        security: bearer,
        parameters: [
          { name: 'q', in: 'query', required: true, schema: { type: 'string', minLength: 1, maxLength: 200 }, description: 'words are ANDed; a hyphenated word or a CJK run is a phrase' },
          { name: 'caseId', in: 'query', schema: { type: 'string', format: 'uuid' } },
          { name: 'dossierId', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
        ],
        responses: {
          200: {
            description: 'hits',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    hits: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          dossierId: { type: 'string' },
                          caseId: { type: 'string' },
                          page: { type: 'integer', description: '1-based page number' },
                          snippet: { type: 'string', description: 'HTML-escaped excerpt, matches in <mark>…</mark>' },
                          score: { type: 'number' },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          400: error,
          401: error,
          403: error,
        },
      },
    },
    '/api/dossiers/{id}/pages/{n}/proof': { get: { summary: 'RFC 6962 inclusion proof', security: bearer, parameters: [idParam, pageParam], responses: { 200: { description: 'proof', content: { 'application/json': { schema: { $ref: '#/components/schemas/Proof' } } } }, 409: error, ...errors } } },
    '/api/dossiers/{id}/manifest': { get: { summary: 'signed manifest, JWS compact (application/jose)', security: bearer, parameters: [idParam], responses: { 200: { description: 'JWS' }, 409: error, ...errors } } },
    '/api/dossiers/{id}/export': { get: { summary: 'the sealed dossier as a streamed ZIP (STORE, ZIP64 when needed): manifest.jws, jwks.json, receipts/NNNN-<transfer>.jws, pages/NNNN.<ext>, text/NNNN.txt (pages whose text is ready; not signed), and original/<filename> (left out with ?original=0); the same dossier gives the same bytes, so a download resumes with Range and If-Range', security: bearer, parameters: [idParam, originalParam, ...exportRangeParams], responses: { ...exportResponses, 409: error, ...errors } } },
    '/api/dossiers/{id}/export.pdf': {
      get: {
        summary: 'the sealed dossier as one searchable PDF (page images, OCR text as an invisible layer; PDF pages copied), streamed; pages whose OCR is not done yet have no text layer',
        security: bearer,
        parameters: [idParam],
        responses: { 200: { description: 'application/pdf; X-Ocr-Pages: done/total when the export started', headers: { 'X-Ocr-Pages': { schema: { type: 'string', example: '5253/5253' } } } }, 409: error, ...errors },
      },
    },
    '/api/dossiers/{id}/progress': {
      get: {
        summary: 'ingest and OCR progress as Server-Sent Events (text/event-stream): `progress` events carry the dossier JSON (as GET /api/dossiers/{id}) whenever it changes; a last `done` event when it is sealed with every page’s OCR finished, or rejected; then the stream ends',
        security: bearer,
        parameters: [idParam],
        responses: { 200: { description: 'event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors },
      },
    },
    '/api/dossiers/{id}/links': {
      get: {
        summary: 'the links the caller’s agency made to the dossier, newest first, with their uses { links: [{ id, scope, singleUse, createdBy, createdAt, expiresAt, uses, firstUsedAt, revokedAt, state: active|used|expired|revoked, url (active links only) }] }',
        security: bearer,
        parameters: [idParam],
        responses: { 200: { description: 'links' }, ...errors },
      },
      post: {
        summary: 'a signed download link (EdDSA JWT, scope export: the ZIP and single pages) for the caller’s agency; sealed dossiers its agency holds; no bearer token needed to use it; Idempotency-Key: a repeated key answers the same link',
        security: bearer,
        parameters: [idParam, { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { ttl: { type: ['integer', 'string'], description: 'seconds, or a duration like 90s, 15m, 8h, 2d; at most LINK_MAX_TTL (default 7d); default 1d' }, singleUse: { type: 'boolean', default: false } } } } } },
        responses: { 201: { description: 'created', content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string', description: 'the token’s jti' }, url: { type: 'string', format: 'uri' }, expiresAt: { type: 'string', format: 'date-time' }, scope: { const: 'export' }, singleUse: { type: 'boolean' } } } } } }, 400: error, 409: error, ...errors },
      },
    },
    '/api/audit': {
      get: {
        summary: 'audit events, seq order: of the cases the caller’s agency sees, and the agency’s own events without a case (auditor, admin); a caseId the agency does not see is 404',
        security: bearer,
        parameters: [
          { name: 'caseId', in: 'query', schema: { type: 'string', format: 'uuid' } },
          { name: 'after', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 }, description: 'the previous page’s next' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: { 200: { description: '{ events: [{ seq, time, actor, agency, action, target: { type, id }, caseId, details, prevHash, hash }], next: seq or null }' }, 400: error, ...errors },
      },
    },
    '/api/audit/checkpoint': { get: { summary: 'the newest signed checkpoint { seq, time, hash, jws }: keep it outside the database and give it to `dossier audit verify --anchor` (auditor, supervisor, admin)', security: bearer, responses: { 200: { description: 'checkpoint' }, 404: { ...error, description: 'no checkpoint signed yet' }, 401: error, 403: error } } },
    '/api/audit/verify': { get: { summary: 'recomputes the whole audit chain against its signed checkpoints (auditor, supervisor, admin)', security: bearer, responses: { 200: { description: '{ ok, checked, firstBadSeq?, reason? }' }, ...errors } } },
    '/api/agencies': {
      get: { summary: 'registered agencies { agencies: [{ id, name, kind }] } (anyone authenticated)', security: bearer, responses: { 200: { description: 'agencies' }, 401: error } },
      post: { summary: 'register an agency { id, name, kind: police|procuratorate|court|committee|other } (admin; Idempotency-Key honoured)', security: bearer, responses: { 201: { description: 'registered' }, 400: error, 409: error, 401: error, 403: error } },
    },
    '/api/stages': { get: { summary: 'stages of proceedings { stages: [{ name, label: { en, zh-CN }, deadline (ISO 8601 duration), order }] }', security: bearer, responses: { 200: { description: 'stages' }, 401: error } } },
    '/api/stages/{name}': { put: { summary: 'create (201) or replace (200) a stage { label: { en, zh-CN }, deadline, order? } (admin)', security: bearer, parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'replaced' }, 201: { description: 'created' }, 400: error, 401: error, 403: error } } },
    '/api/dossiers/{id}/transfers': {
      post: {
        summary: 'send a sealed dossier the caller’s agency holds { toAgency, stage, note? } (clerk); Idempotency-Key: a repeated key answers the first transfer',
        security: bearer,
        parameters: [idParam, { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 } }],
        requestBody: body(sendBody),
        responses: { 201: { description: 'sent (Location: /api/transfers/{id})', content: { 'application/json': { schema: { type: 'object', required: ['id', 'status'], properties: { id: { type: 'string', format: 'uuid' }, status: { const: 'pending' } } } } } }, 400: error, 409: error, 422: error, ...errors },
      },
      get: { summary: 'the custody history of a visible dossier { transfers: [Transfer] }', security: bearer, parameters: [idParam], responses: { 200: { description: 'transfers', content: { 'application/json': { schema: { type: 'object', properties: { transfers: { type: 'array', items: { $ref: '#/components/schemas/Transfer' } } } } } } }, ...errors } },
    },
    '/api/transfers': {
      get: {
        summary: 'the agency’s inbox (direction=in) or outbox (out) { direction, transfers: [{ id, dossierId, caseId, fromAgency, toAgency, stage, note, status, sentBy, sentAt, answeredBy, answeredAt, reason, receipt }] }',
        security: bearer,
        parameters: [
          { name: 'direction', in: 'query', schema: { enum: ['in', 'out'], default: 'in' } },
          { name: 'status', in: 'query', schema: { enum: ['pending', 'accepted', 'returned'] } },
          { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 500 } },
          { name: 'offset', in: 'query', schema: { type: 'integer' } },
        ],
        responses: { 200: { description: 'transfers', content: { 'application/json': { schema: { type: 'object', properties: { direction: { enum: ['in', 'out'] }, transfers: { type: 'array', items: { $ref: '#/components/schemas/Transfer' } } } } } } }, 401: error, 403: error },
      },
    },
    '/api/transfers/{id}': { get: { summary: 'one transfer (its sender and receiver only)', security: bearer, parameters: [idParam], responses: { 200: transferJson('transfer'), ...errors } } },
    '/api/transfers/{id}/accept': { post: { summary: 'accept (prosecutor, judge of the receiving agency) { caseNumber? }: the receiver’s own number; answers the transfer with its signed receipt', security: bearer, parameters: [idParam], requestBody: { ...body(acceptBody), required: false }, responses: { 200: transferJson('accepted, with its receipt'), 409: error, ...errors } } },
    '/api/transfers/{id}/return': { post: { summary: 'return with a reason { reason } (prosecutor, judge of the receiving agency); the receipt is signed too', security: bearer, parameters: [idParam], requestBody: body(returnBody), responses: { 200: transferJson('returned, with its receipt'), 400: error, 409: error, ...errors } } },
    '/api/links/{id}': { delete: { summary: 'revoke a link the caller’s agency made (404 for any other)', security: bearer, parameters: [idParam], responses: { 204: { description: 'revoked (again: still 204)' }, ...errors } } },
    '/api/accounts': {
      get: { summary: 'the local accounts of the caller’s agency { accounts: [{ user, agency, roles, disabled, locked, createdAt }] } (admin; where sessions are on)', security: bearer, responses: { 200: { description: 'accounts' }, 401: error, 403: error } },
      post: {
        summary: 'add a local account to the caller’s agency { user, roles, password (at least 12 characters) } (admin; Idempotency-Key honoured); 409 when the user id is taken',
        security: bearer,
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 } }],
        requestBody: { content: { 'application/json': { schema: { type: 'object', additionalProperties: false, required: ['user', 'roles', 'password'], properties: { user: { type: 'string' }, roles: { type: 'array', items: { enum: ['clerk', 'prosecutor', 'judge', 'auditor', 'supervisor', 'admin'] } }, password: { type: 'string', minLength: 12 } } } } } },
        responses: { 201: { description: 'the account (never its password)' }, 400: error, 401: error, 403: error, 409: error, 422: error },
      },
    },
    '/api/accounts/{user}': {
      patch: {
        summary: 'disable or enable an account of the caller’s agency, or set a new password (clears a lockout); either ends its sessions { disabled?, password? } (admin); another agency’s account is 404',
        security: bearer,
        parameters: [{ name: 'user', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'the account' }, 400: error, ...errors },
      },
    },
    '/api/session': {
      post: { summary: 'sign in with a local account (JSON body { user, password }); sets the session cookie (HttpOnly, SameSite=Strict)', responses: { 201: { description: '{ user, agency, roles, csrfToken, expiresAt }' }, 400: error, 401: { description: 'invalid_credentials' }, 403: { description: 'account disabled' }, 429: { description: 'too_many_attempts, with Retry-After' } } },
      get: { summary: 'who is signed in (for a bearer token: who it names, without csrfToken)', security: [{ session: [] }, { bearer: [] }], responses: { 200: { description: '{ user, agency, roles, csrfToken?, expiresAt? }' }, 401: error } },
      delete: { summary: 'sign out: ends the session on the server and clears the cookie', security: [{ session: [] }], responses: { 204: { description: 'ended' }, 400: error, 401: error, 403: error } },
    },
    '/api/session/methods': { get: { summary: 'how one may sign in here: { local, oidc: { label, start } | null }', responses: { 200: { description: 'JSON' } } } },
    '/api/session/oidc': {
      get: {
        summary: 'single sign-on: redirects the browser to the agency’s OpenID provider (authorization code flow, PKCE S256, state, nonce); sets a short-lived SameSite=Lax cookie binding the journey to this browser',
        parameters: [{ name: 'return', in: 'query', schema: { type: 'string' }, description: 'a path of this site to land on after sign-in (default /)' }],
        responses: { 302: { description: 'to the provider' }, 404: { description: 'not_found: no provider configured' }, 500: error },
      },
    },
    '/api/session/oidc/callback': {
      get: {
        summary: 'where the provider sends the browser back: checks state (single use, bound to this browser), exchanges the code with the PKCE verifier, checks the ID token and its nonce, maps the claims to user, agency and roles, and sets the session cookie',
        parameters: [{ name: 'code', in: 'query', schema: { type: 'string' } }, { name: 'state', in: 'query', schema: { type: 'string' } }],
        responses: { 303: { description: 'signed in: to the return path' }, 401: { description: 'sign_in_failed: unknown, used or foreign state; code, ID token or nonce refused' }, 403: { description: 'identity_refused: an agency or role this gateway does not know' }, 404: { description: 'not_found: no provider configured' } },
      },
    },
    '/oauth/token': {
      post: {
        summary: 'OAuth 2.0 client credentials for agency systems registered with `dossier client add` (form body: grant_type=client_credentials, client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer, client_assertion: a JWT signed by the client’s key with iss = sub = client id, aud = this URL, exp at most 5 min ahead, a jti never used before). Answers { access_token, token_type, expires_in } or RFC 6749 errors { error, error_description }',
        requestBody: { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', required: ['grant_type', 'client_assertion_type', 'client_assertion'], properties: { grant_type: { const: 'client_credentials' }, client_assertion_type: { const: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' }, client_assertion: { type: 'string' }, client_id: { type: 'string' } } } } } },
        responses: { 200: { description: 'a bearer token of the client’s agency and roles, valid 5 minutes' }, 400: { description: 'invalid_request, unsupported_grant_type' }, 401: { description: 'invalid_client: unknown client, bad signature, wrong aud, expired, replayed jti' } },
      },
    },
    '/d/{token}/info': { get: { summary: 'what a signed link holds, for its landing page: { case: { number, title }, dossier: { id, filename, pageCount, sealedAt, merkleRoot, sha256 }, expiresAt, singleUse }; does not spend a single-use link', parameters: [linkToken], responses: linkResponses({ 200: { description: 'JSON' } }) } },
    '/d/{token}': { get: { summary: 'the export ZIP through a signed link (a browser asking for text/html without ?download gets the link’s landing page instead); no bearer token; Cache-Control: no-store, Referrer-Policy: no-referrer; resumable as the authenticated export; a spent single-use link still serves the rest of the download that spent it (Range from a later offset with If-Range naming the current ETag), 410 link_used otherwise', parameters: [linkToken, originalParam, ...exportRangeParams], responses: linkResponses(exportResponses) } },
    '/d/{token}/pages/{n}': { get: { summary: 'one page through a signed link (Range supported)', parameters: [linkToken, pageParam], responses: linkResponses({ 200: { description: 'bytes' }, 206: { description: 'range' } }) } },
    ...integrationPaths,
  },
} as const;
