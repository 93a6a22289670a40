/**
 * One resumable tus upload from the command line (tus-js-client): remembered in a state file by a
 * fingerprint of the file and where it goes, so that a later process resumes it instead of
 * starting over. Shared by `dossier upload` and `dossier migrate`.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tus from 'tus-js-client';

/** Where unfinished uploads are remembered (tus-js-client declares the type without exporting it). */
export type UrlStorage = NonNullable<ConstructorParameters<typeof tus.Upload>[1]['urlStorage']>;

// tus-js-client's Node build exports a file-backed URL storage that its type declarations omit.
const { FileUrlStorage } = tus as unknown as { FileUrlStorage: new (file: string) => UrlStorage };

/**
 * The JSON file storage of tus-js-client, for one upload per process (`dossier upload`): it locks
 * the file on every call and fails with ELOCKED when calls overlap, so `migrate` keeps its own.
 */
export function fileUrlStorage(file: string): UrlStorage {
  return new FileUrlStorage(file);
}

export interface ResumableUpload {
  readonly file: string;
  readonly server: string;
  readonly token: string;
  readonly metadata: Record<string, string>;
  readonly chunkSize: number;
  /** Where unfinished uploads are remembered. */
  readonly urlStorage: UrlStorage;
  /** What makes this upload distinct besides the file itself (case, server). */
  readonly fingerprintParts: readonly string[];
  /**
   * Send the bytes with the creation request (tus creation-with-upload): one round trip instead of
   * POST then PATCH. The upload URL is only known once the bytes are sent, so a crash meanwhile
   * leaves nothing to resume: for small files, whose re-run sends them again (and which the
   * caller must be able to find by their hash if the server got them whole).
   */
  readonly dataDuringCreation?: boolean;
  readonly onProgress?: (sent: number, total: number) => void;
  readonly onResume?: (uploadUrl: string) => void;
}

/** Resolves with the upload URL (its last segment is the dossier id). */
export function resumableUpload(o: ResumableUpload): Promise<string> {
  const stat = fs.statSync(o.file);
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(fs.createReadStream(o.file), {
      endpoint: `${o.server}/files/`,
      chunkSize: o.chunkSize,
      uploadSize: stat.size,
      uploadDataDuringCreation: o.dataDuringCreation ?? false,
      metadata: o.metadata,
      headers: { Authorization: `Bearer ${o.token}` },
      retryDelays: [0, 1000, 3000, 5000, 10_000, 20_000, 30_000, 60_000],
      urlStorage: o.urlStorage,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      fingerprint: async () => ['dossier-upload', path.resolve(o.file), stat.size, stat.mtimeMs, ...o.fingerprintParts].join('|'),
      onError: reject,
      onProgress: o.onProgress,
      onSuccess: () => resolve(upload.url!),
    });
    upload.findPreviousUploads().then((previous) => {
      const last = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
      if (last?.uploadUrl) {
        upload.resumeFromPreviousUpload(last);
        o.onResume?.(last.uploadUrl);
      }
      upload.start();
    }, reject);
  });
}

export interface DossierJson {
  id: string;
  status: string;
  bytes: number | null;
  sha256: string | null;
  pageCount: number | null;
  merkleRoot: string | null;
  error?: { code: string; message: string };
  progress?: { ocr?: { done: number; failed: number; total: number } | null };
}

export async function apiJson<T>(server: string, token: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${server}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

/**
 * Polls a dossier until it leaves receiving/processing: often at first (a small dossier seals within
 * a fraction of a second of its last byte), then every `maxEveryMs`.
 */
export async function waitForOutcome(server: string, token: string, id: string, maxEveryMs = 1000): Promise<DossierJson> {
  for (let everyMs = 100; ; everyMs = Math.min(maxEveryMs, everyMs * 1.5)) {
    const { status, json } = await apiJson<DossierJson>(server, token, 'GET', `/api/dossiers/${id}`);
    if (status !== 200) throw new Error(`GET /api/dossiers/${id}: ${status} ${JSON.stringify(json)}`);
    if (json.status !== 'receiving' && json.status !== 'processing') return json;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
