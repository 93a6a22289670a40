/** tus-js-client, the client a clerk's browser or our CLI uses, driven from tests. */
import fs from 'node:fs';
import * as tus from 'tus-js-client';

export interface TusOptions {
  token: string | null;
  metadata: Record<string, string>;
  chunkSize?: number;
  uploadUrl?: string;
  onProgress?: (sent: number, total: number) => void;
  /** Called once the upload exists on the server (its URL known). */
  onUrl?: (url: string) => void;
}

export function tusUpload(endpoint: string, input: string | Buffer, o: TusOptions): { upload: tus.Upload; done: Promise<string> } {
  let upload!: tus.Upload;
  const done = new Promise<string>((resolve, reject) => {
    const source = typeof input === 'string' ? fs.createReadStream(input) : input;
    let announced = false;
    upload = new tus.Upload(source, {
      endpoint: `${endpoint}/files/`,
      uploadUrl: o.uploadUrl ?? null,
      chunkSize: o.chunkSize ?? 16 * 1024 * 1024,
      uploadSize: typeof input === 'string' ? fs.statSync(input).size : input.length,
      metadata: o.metadata,
      headers: o.token ? { Authorization: `Bearer ${o.token}` } : {},
      retryDelays: [],
      removeFingerprintOnSuccess: true,
      storeFingerprintForResuming: false,
      onProgress(sent, total) {
        if (!announced && upload.url) {
          announced = true;
          o.onUrl?.(upload.url);
        }
        o.onProgress?.(sent, total);
      },
      onError: reject,
      onSuccess: () => resolve(upload.url!),
    });
    upload.start();
  });
  return { upload, done };
}

/** The HTTP status and JSON body behind a tus-js-client error. */
export function tusErrorOf(err: unknown): { status: number; body: any } {
  const res = (err as { originalResponse?: { getStatus(): number; getBody(): string } }).originalResponse;
  if (!res) throw err;
  let body: unknown = res.getBody();
  try {
    body = JSON.parse(String(body));
  } catch {
    /* leave as text */
  }
  return { status: res.getStatus(), body };
}

export function idFromUrl(url: string): string {
  return url.split('/').pop()!;
}
