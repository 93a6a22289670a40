/**
 * A download that survives a broken connection: the bytes go to `<name>.part` beside a small
 * sidecar (`.<url hash>.download.json`: the file name, the strong ETag, the length), and the next
 * attempt (in this run, or a later run of the same command) asks for the rest with
 * `Range: bytes=N-` and `If-Range: <ETag>`. A server whose representation changed answers 200
 * with the whole new one, which replaces the part: bytes of two different exports are never
 * spliced. The sidecar names the link only by a hash: the URL is a credential.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export interface DownloadOptions {
  readonly url: string;
  readonly outDir: string;
  /** Extra request headers (a bearer token for the authenticated export route). */
  readonly headers?: Record<string, string>;
  /** Attempts after the first when the connection breaks or the server fails (5xx). */
  readonly retries: number;
  /** Before the bytes of an attempt: how many the part already holds (they are replayed through onBytes first). */
  readonly onStart?: (s: { offset: number; length: number; resumed: boolean; restarted: boolean; file: string }) => void;
  /** Every byte of the file, in order, exactly once per attempt (the part's bytes replayed first). */
  readonly onBytes?: (chunk: Buffer) => void;
  readonly onProgress?: (received: number, length: number) => void;
  readonly onRetry?: (err: Error, attempt: number, delayMs: number) => void;
}

export interface DownloadResult {
  readonly file: string;
  readonly length: number;
  readonly etag: string;
  /** Where this run started (0: from the beginning). */
  readonly resumedFrom: number;
}

/** A refusal from the server (4xx), or a response we cannot resume on: no retry helps. */
export class DownloadRefused extends Error {
  override readonly name = 'DownloadRefused';
  constructor(message: string, readonly status: number | null, readonly code: string | null = null) {
    super(message);
  }
}

interface Sidecar {
  readonly v: 1;
  readonly filename: string;
  readonly etag: string;
  readonly length: number;
}

const REPLAY_CHUNK = 1 << 20;

/** Where the state of a download of `url` into `outDir` is kept (named by a hash: the URL is a credential). */
export function sidecarFileOf(outDir: string, url: string): string {
  return path.join(outDir, `.${createHash('sha256').update(url).digest('hex').slice(0, 16)}.download.json`);
}

export async function resumableDownload(o: DownloadOptions): Promise<DownloadResult> {
  await fs.mkdir(o.outDir, { recursive: true });
  const sidecarFile = sidecarFileOf(o.outDir, o.url);
  let firstOffset: number | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await attemptDownload(o, sidecarFile, (offset) => (firstOffset ??= offset));
      return { ...r, resumedFrom: firstOffset ?? 0 };
    } catch (err) {
      if (err instanceof DownloadRefused || attempt >= o.retries) throw err;
      const delay = Math.min(30_000, 1000 * 2 ** attempt);
      o.onRetry?.(err as Error, attempt + 1, delay);
      await sleep(delay);
    }
  }
}

async function attemptDownload(o: DownloadOptions, sidecarFile: string, started: (offset: number) => void): Promise<Omit<DownloadResult, 'resumedFrom'>> {
  const state = await readSidecar(sidecarFile);
  const partOf = (name: string) => path.join(o.outDir, `${name}.part`);
  const had = state ? await fs.stat(partOf(state.filename)).then((s) => s.size, () => 0) : 0;
  if (state && had === state.length) {
    started(had);
    o.onStart?.({ offset: had, length: had, resumed: true, restarted: false, file: path.join(o.outDir, state.filename) });
    await replay(partOf(state.filename), had, o.onBytes);
    return finish(o, state, sidecarFile);
  }
  const resume = state !== null && had > 0 && had < state.length;
  const headers: Record<string, string> = { ...o.headers, ...(resume ? { range: `bytes=${had}-`, 'if-range': state!.etag } : {}) };
  const res = await request(o.url, { method: 'GET', headers, headersTimeout: 120_000, bodyTimeout: 120_000 });
  if (res.statusCode >= 400) {
    const text = await res.body.text().catch(() => '');
    const e = errorOf(text);
    const message = `the server answered ${res.statusCode}${e ? ` ${e.code}: ${e.message}` : ''}`;
    if (res.statusCode >= 500) throw new Error(message);
    throw new DownloadRefused(message, res.statusCode, e?.code ?? null);
  }
  let current: Sidecar;
  let offset: number;
  const chunks = drain(res.body);
  if (res.statusCode === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!resume || !range || Number(range[1]) !== had || Number(range[3]) !== state!.length || res.headers.etag !== state!.etag) {
      res.body.destroy();
      throw new DownloadRefused(`the server's partial answer (${String(res.headers['content-range'])}) does not continue the ${had} bytes held`, 206);
    }
    current = state!;
    offset = had;
  } else if (res.statusCode === 200) {
    const etag = String(res.headers.etag ?? '');
    const length = Number(res.headers['content-length']);
    if (!/^"[^"]+"$/.test(etag) || !Number.isSafeInteger(length)) {
      res.body.destroy();
      throw new DownloadRefused('the server gives no strong ETag and length for this download: it could not be resumed', 200);
    }
    current = { v: 1, filename: fileNameOf(res.headers['content-disposition'], sidecarFile), etag, length };
    if (state) await fs.rm(partOf(state.filename), { force: true });
    await fs.writeFile(sidecarFile, `${JSON.stringify(current)}\n`);
    offset = 0;
  } else {
    res.body.destroy();
    throw new DownloadRefused(`unexpected answer ${res.statusCode}`, res.statusCode);
  }
  started(offset);
  o.onStart?.({ offset, length: current.length, resumed: offset > 0, restarted: resume && offset === 0, file: path.join(o.outDir, current.filename) });
  const part = partOf(current.filename);
  if (offset > 0) await replay(part, offset, o.onBytes);
  const fh = await fs.open(part, offset > 0 ? 'r+' : 'w');
  let received = offset;
  try {
    for await (const chunk of chunks) {
      if (received + chunk.length > current.length) throw new DownloadRefused(`the server sent more than the ${current.length} bytes it announced`, res.statusCode);
      await fh.write(chunk, 0, chunk.length, received);
      received += chunk.length;
      o.onBytes?.(chunk);
      o.onProgress?.(received, current.length);
    }
    if (received !== current.length) throw new Error(`the connection ended after ${received} of ${current.length} bytes`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return finish(o, current, sidecarFile);
}

/**
 * The body's chunks taken at once as they arrive (bounded: the socket is paused past 16 MiB held),
 * so that what arrived before the connection broke is ours to write: a body stream that fails
 * drops what it still buffers. Its error comes out of the iteration, after the chunks before it.
 */
function drain(body: NodeJS.ReadableStream & { destroy(): void }): AsyncGenerator<Buffer> {
  const HIGH = 16 * 1024 * 1024;
  const queue: Buffer[] = [];
  let held = 0;
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  body.on('data', (c: Buffer) => {
    queue.push(c);
    held += c.length;
    if (held > HIGH) body.pause();
    notify();
  });
  body.on('end', () => ((ended = true), notify()));
  body.on('error', (e: Error) => ((failure = e), notify()));
  // Listening starts now (above); the generator below only hands the chunks on.
  return (async function* () {
    try {
      for (;;) {
        const c = queue.shift();
        if (c) {
          held -= c.length;
          if (held < HIGH / 4 && body.isPaused()) body.resume();
          yield c;
        } else if (failure) throw failure;
        else if (ended) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      body.destroy();
    }
  })();
}

/** The whole file is in the part: it takes its name, and the sidecar goes. */
async function finish(o: DownloadOptions, s: Sidecar, sidecarFile: string): Promise<Omit<DownloadResult, 'resumedFrom'>> {
  const file = path.join(o.outDir, s.filename);
  await fs.rename(path.join(o.outDir, `${s.filename}.part`), file);
  await fs.rm(sidecarFile, { force: true });
  return { file, length: s.length, etag: s.etag };
}

/** The bytes a part already holds, for whoever hashes the file as it grows. */
async function replay(file: string, length: number, onBytes: DownloadOptions['onBytes']): Promise<void> {
  if (!onBytes || length === 0) return;
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(REPLAY_CHUNK);
    for (let at = 0; at < length; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(REPLAY_CHUNK, length - at), at);
      if (bytesRead === 0) throw new Error(`${file} is shorter than ${length} bytes`);
      onBytes(Buffer.from(buf.subarray(0, bytesRead)));
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

async function readSidecar(file: string): Promise<Sidecar | null> {
  try {
    const s = JSON.parse(await fs.readFile(file, 'utf8')) as Sidecar;
    return s.v === 1 && typeof s.filename === 'string' && safeName(s.filename) === s.filename && typeof s.etag === 'string' && Number.isSafeInteger(s.length) ? s : null;
  } catch {
    return null;
  }
}

/** The name the server offers (Content-Disposition), made safe to create in the output folder. */
function fileNameOf(disposition: string | string[] | undefined, sidecarFile: string): string {
  // `filename=token` or `filename="quoted"` (RFC 6266); our gateway's names are plain ASCII.
  const m = /(?:^|;)\s*filename=(?:"([^"]*)"|([^;\s]*))/i.exec(String(disposition ?? ''));
  const name = m ? safeName(m[1] ?? m[2] ?? '') : '';
  return name || `download-${path.basename(sidecarFile).split('.')[1]}.zip`;
}

function safeName(name: string): string {
  return path.basename(name).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
}

function errorOf(text: string): { code: string; message: string } | null {
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    return e && typeof e.code === 'string' ? { code: e.code, message: String(e.message ?? '') } : null;
  } catch {
    return null;
  }
}
