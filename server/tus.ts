/**
 * The tus 1.0.0 endpoint at /files/. Every check happens before a byte is stored: the caller is
 * authenticated (express middleware in front), a clerk, the metadata is complete, the case is
 * visible to the caller's agency, and the declared length is within the limit. The upload id is
 * the dossier id; the finished upload only enqueues the ingest (it runs before the client's answer).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeRequest, sendNodeResponse } from 'srvx/node';
import { randomUUID } from 'node:crypto';
import { Server, EVENTS, type ServerOptions } from '@tus/server';
import type { Locker } from '@tus/utils';
import { DossierError, isDossierError } from '../dossier/errors.js';
import { requirePermission } from '../dossier/access/policy.js';
import type { CaseRepository } from '../dossier/ports/repositories.js';
import type { Log } from '../dossier/ports/log.js';
import { receiveUpload, type ReceiveDeps } from '../dossier/ingest/receive-upload.js';
import type { HashingFileStore } from '../storage/uploads/hashing-file-store.js';
import { errorBody, STATUS_BY_CODE } from './errors.js';
import { principalOf } from './auth.js';
import { backpressuredBody } from './request-body.js';

export interface TusDeps extends ReceiveDeps {
  readonly store: HashingFileStore;
  readonly cases: CaseRepository;
  readonly maxBytes: number;
  readonly log: Log;
  /** Shared by every gateway on one database (PgUploadLocker); unset: this process's memory. */
  readonly locker?: Locker;
}

type TusRequest = Parameters<NonNullable<ServerOptions['onUploadCreate']>>[0];

const nodeRequest = (req: TusRequest): IncomingMessage => {
  const node = (req as unknown as { runtime?: { node?: { req: IncomingMessage } } }).runtime?.node?.req;
  if (!node) throw new DossierError('internal', 'tus request without its Node.js request');
  return node;
};

/** tus hooks reject by throwing { status_code, body }; ours carry the JSON error shape. */
const reject = (err: DossierError) => ({ status_code: STATUS_BY_CODE[err.code], body: JSON.stringify(errorBody(err.code, err.message)) });

const TUS_ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'not_found',
  412: 'bad_request',
  413: 'payload_too_large',
  415: 'bad_request',
  460: 'bad_request',
};

/** A tus error's plain-text answer as our JSON error shape, its code by status. */
function tusErrorJson(status: number, text: string | undefined): string {
  const code = TUS_ERROR_CODES[status] ?? (status < 500 ? 'bad_request' : 'internal');
  const message = status >= 500 ? 'upload failed' : text?.trim() || code;
  return JSON.stringify(errorBody(code, message));
}

/**
 * @tus/server with two edge adjustments: error answers carry JSON (the shape every other route
 * uses), and request bodies stream with byte-counted backpressure (request-body.ts).
 */
class JsonErrorTusServer extends Server {
  /** The size of an upload already handed to ingest (its staged file gone), or null. */
  finishedSize: ((req: IncomingMessage) => Promise<number | null>) | null = null;

  override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A client that lost the answer to its last PATCH asks with HEAD: the upload is whole, and
    // saying so (offset = length, as tusd does) keeps it from starting the same file again.
    if (req.method === 'HEAD' && this.finishedSize) {
      const size = await this.finishedSize(req).catch(() => null);
      if (size !== null) {
        res.writeHead(200, { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(size), 'Upload-Length': String(size), 'Cache-Control': 'no-store' }).end();
        return;
      }
    }
    const request = new NodeRequest({ req, res });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      Object.defineProperty(request, 'body', { value: backpressuredBody(req), configurable: true });
    }
    // Server.handle does exactly this with srvx's own body; `handler` is private only to the type checker.
    const response = await (this as unknown as { handler(r: InstanceType<typeof NodeRequest>): Promise<Response> }).handler(request);
    return sendNodeResponse(res, response);
  }

  override write(context: Parameters<Server['write']>[0], headers: Headers, status: number, body?: string) {
    if (status < 400) return super.write(context, headers, status, body);
    // @tus/server answers its own header checks (412 without Tus-Resumable, 400 for an invalid
    // header, 404 for an unknown method) here directly, past onResponseError: found by fuzzing.
    const json = body?.startsWith('{') ? body : tusErrorJson(status, body);
    headers.set('Content-Type', 'application/json');
    return super.write(context, headers, status, json);
  }
}

export function createTusServer(deps: TusDeps): Server {
  const server = new JsonErrorTusServer({
    path: '/files',
    datastore: deps.store,
    ...(deps.locker ? { locker: deps.locker } : {}),
    maxSize: deps.maxBytes,
    relativeLocation: true,
    respectForwardedHeaders: false,
    disableTerminationForFinishedUploads: true,
    namingFunction: () => randomUUID(),
    async onIncomingRequest(req, uploadId) {
      // Creation is checked in onUploadCreate; after that only the uploader's agency may touch it.
      if (req.method === 'POST') return;
      const principal = principalOf(nodeRequest(req));
      const d = await deps.dossiers.findVisible(uploadId, principal.agency).catch((err: unknown) => {
        throw isDossierError(err) ? reject(err) : err;
      });
      if (!d) throw reject(new DossierError('not_found', 'upload not found'));
      if (req.method === 'GET') throw reject(new DossierError('not_found', 'download pages through /api/dossiers'));
      if (req.method === 'HEAD' && d.status === 'receiving') {
        // Its last byte landed but the hand-over to ingest failed (the database was out as the
        // last PATCH ended): the client's HEAD after that failure hands it over now.
        const upload = await deps.store.getUpload(uploadId).catch(() => null);
        if (upload?.size !== undefined && upload.offset === upload.size) {
          await receiveUpload(deps, { id: uploadId, bytes: upload.size, sha256: null, actor: principal.subject, recovered: true }).catch((err: unknown) => {
            throw isDossierError(err) ? reject(err) : err;
          });
        }
      }
    },
    async onUploadCreate(req, upload) {
      try {
        const principal = principalOf(nodeRequest(req));
        requirePermission(principal, 'dossier:upload');
        const meta = upload.metadata ?? {};
        const filename = meta.filename?.trim();
        const caseId = meta.caseId?.trim();
        if (!filename) throw new DossierError('invalid_metadata', 'Upload-Metadata must name the file (filename)');
        if (!caseId) throw new DossierError('invalid_metadata', 'Upload-Metadata must name the case (caseId)');
        if (filename.length > 255 || /[\u0000-\u001f\u007f-\u009f/\\]/.test(filename)) {
          throw new DossierError('invalid_metadata', 'filename must be a plain file name of at most 255 characters');
        }
        // Control characters in a title would reach logs, CSV exports and terminals as commands.
        if (meta.title && /[\u0000-\u001f\u007f-\u009f]/.test(meta.title)) {
          throw new DossierError('invalid_metadata', 'title must not contain control characters');
        }
        const theCase = await deps.cases.findVisible(caseId, principal.agency);
        if (!theCase) throw new DossierError('not_found', `case ${caseId} not found`);
        // Receivers see a transferred case read-only; only its owner adds dossiers (supplements).
        if (theCase.agency !== principal.agency) throw new DossierError('forbidden', 'only the agency that owns the case may add dossiers to it');
        await deps.dossiers.create({
          id: upload.id,
          caseId: theCase.id,
          agency: principal.agency,
          uploadedBy: principal.subject,
          filename,
          title: meta.title?.slice(0, 500) ?? null,
          declaredBytes: upload.size ?? null,
        });
        return { metadata: { ...meta, filename, caseId } };
      } catch (err) {
        if (isDossierError(err)) throw reject(err);
        throw err;
      }
    },
    async onUploadFinish(req, upload) {
      const size = upload.size ?? upload.offset;
      const sha256 = await deps.store.takeDigest(upload.id, size);
      await receiveUpload(deps, { id: upload.id, bytes: size, sha256, actor: principalOf(nodeRequest(req)).subject });
      return {};
    },
    onResponseError(req, err) {
      const tusError = 'status_code' in err ? err : null;
      const status = tusError?.status_code ?? 500;
      // A HEAD that fails for a passing reason (the database or the upload locks unreachable) must
      // not look like a lost upload: tus clients start a new upload on any other failure, sending
      // gigabytes again; on 423 they retry the same one.
      if (req.method === 'HEAD' && status >= 500) {
        deps.log.warn({ err }, 'tus HEAD failed; answered 423 so that the client retries');
        return { status_code: 423, body: JSON.stringify(errorBody('unavailable', 'the upload cannot be looked up just now; retry shortly')) };
      }
      if (tusError?.body.startsWith('{')) return undefined;
      if (status >= 500) deps.log.error({ err }, 'tus request failed');
      return { status_code: status, body: tusErrorJson(status, tusError?.body) };
    },
  });
  server.finishedSize = async (req) => {
    const id = /^\/files\/([0-9a-f-]{36})\/?$/.exec(new URL(req.url ?? '/', 'http://x').pathname)?.[1];
    if (!id) return null;
    const d = await deps.dossiers.findVisible(id, principalOf(req).agency);
    return d && d.status !== 'receiving' && d.bytes !== null ? d.bytes : null;
  };
  server.on(EVENTS.POST_TERMINATE, (_req, _res, id) => {
    deps.dossiers.delete(id).catch((err: unknown) => deps.log.error({ err, dossier: id }, 'could not drop a terminated upload'));
  });
  return server;
}
