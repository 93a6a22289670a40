/**
 * In-stream ingest, the receiving side: while an upload's bytes land in its staging file, a
 * worker thread (tail-worker.ts) follows the file, hashes it and reads its ZIP entries; this side
 * stores each page's blob and signs its statement as it comes, so that at the last byte little is
 * left but to check the central directory and seal (streamed-pages.ts).
 *
 * Everything here is an optimisation held in this process's memory only. Lost (a restart, a resume
 * on another gateway, a write that broke off, a worker that died), the ingest reads the file after
 * the upload as it always did; the blobs stored here are content-addressed, so nothing is harmed.
 */
import { Worker } from 'node:worker_threads';
import { pageStatement, signCanonical } from '../../evidence/statements.js';
import { containedLimit, type BlobStore } from '../../ports/blob-store.js';
import type { Log } from '../../ports/log.js';
import type { DossierRepository } from '../../ports/repositories.js';
import type { IngestLimits, PageMediaType } from '../../pages/types.js';
import type { KeyRing } from '../../signing/signer.js';
import type { FromTail, TailFormat, ToTail } from './tail-worker.js';

/** One entry the stream read, with its page stored and signed at the index it had in the stream. */
export interface StreamedEntry {
  readonly offset: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly page: {
    readonly sha256: string;
    readonly size: number;
    readonly mediaType: PageMediaType;
    readonly width: number | null;
    readonly height: number | null;
    /** The statement signed for this index; re-signed if the dossier order puts the page elsewhere. */
    readonly index: number;
    /** Where the page's bytes start in the upload when it is kept as that range (nothing was stored). */
    readonly rangeStart: number | null;
    readonly signature: Promise<{ readonly jws: string; readonly kid: string }>;
    readonly stored: Promise<void>;
  } | null;
}

/** What the stream made of a finished upload. `gaveUp` set: the ingest reads the file itself. */
export interface StreamedUpload {
  readonly sha256: string;
  readonly size: number;
  readonly format: TailFormat;
  readonly entries: ReadonlyMap<number, StreamedEntry>;
  readonly centralDirectory: number | null;
  readonly gaveUp: string | null;
}

export interface UploadTailsDeps {
  readonly blobs: BlobStore;
  readonly keys: KeyRing;
  readonly dossiers: Pick<DossierRepository, 'get'>;
  readonly limits: IngestLimits;
  readonly log: Log;
  /** Pages between the threads and blob writes in flight at once, per upload. */
  readonly window?: number;
  /** Bytes of pages between the threads and blob writes across all uploads (HELD_BYTES_BUDGET). */
  readonly heldBytesBudget?: number;
  /** How long a finished upload's result waits for its ingest before it is dropped. */
  readonly keepMs?: number;
  /**
   * The tail thread hashes the whole upload too (else the receiving thread does, and passes the
   * digest to finish). Off by default: measured on the loaded machine, the tail then lagged the
   * upload by 11 s and the last PATCH waited for it (BENCHMARKS.md, issue 13).
   */
  readonly hashInTail?: boolean;
}

interface Session {
  readonly id: string;
  readonly statementBase: Promise<{ dossier: string; case: string } | null>;
  readonly entries: Map<number, StreamedEntry>;
  pages: number;
  centralDirectory: number | null;
  gaveUp: string | null;
  digest: { sha256: string | null; size: number; format: TailFormat } | null;
  failed: string | null;
  tailEnded: boolean;
  onDigest: Array<() => void>;
  onEnd: Array<() => void>;
  dropTimer: NodeJS.Timeout | null;
  lastSeen: number;
  /** The upload's SHA-256 as the receiving thread computed it (hashInTail off). */
  received: string | null;
}

/** Default bound on page bytes between the threads across all uploads. */
export const HELD_BYTES_BUDGET = 128 * 1024 * 1024;

const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./tail-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);

export class UploadTails {
  private readonly sessions = new Map<string, Session>();
  private worker: Worker | null = null;
  private readonly window: number;
  private readonly keepMs: number;
  /** Whether the receiving thread leaves the whole upload's hash to the tail thread. */
  readonly hashInTail: boolean;

  private readonly sweeper: NodeJS.Timeout;
  /**
   * Blob writes in flight at once, across uploads. Each one fsyncs on libuv's threadpool (4
   * threads), where the upload's own file writes also run: a few keep the receiving path clear.
   */
  private readonly writeSlots = 2;
  private writing = 0;
  private readonly waitingWrites: Array<() => void> = [];

  constructor(private readonly deps: UploadTailsDeps) {
    this.window = deps.window ?? 16;
    this.keepMs = deps.keepMs ?? 10 * 60_000;
    this.hashInTail = deps.hashInTail ?? false;
    // An upload that stops here (abandoned, or resumed on another gateway) lets its state go.
    this.sweeper = setInterval(() => {
      const stale = Date.now() - this.keepMs;
      for (const s of [...this.sessions.values()]) if (s.lastSeen < stale && !s.dropTimer) this.drop(s.id);
    }, Math.min(60_000, this.keepMs));
    this.sweeper.unref();
  }

  /** The first byte of an upload is about to be written to `file`. */
  begin(id: string, file: string): void {
    this.drop(id);
    const statementBase = this.deps.dossiers.get(id).then(
      (d) => (d ? { dossier: d.id, case: d.caseId } : null),
      () => null,
    );
    const s: Session = { id, statementBase, entries: new Map(), pages: 0, centralDirectory: null, gaveUp: null, digest: null, failed: null, tailEnded: false, onDigest: [], onEnd: [], dropTimer: null, lastSeen: Date.now(), received: null };
    this.sessions.set(id, s);
    this.send({ type: 'open', id, file, limits: this.deps.limits, window: this.window, hashWhole: this.hashInTail, rangesUpTo: containedLimit(this.deps.blobs), heldBytesBudget: this.deps.heldBytesBudget ?? HELD_BYTES_BUDGET });
  }

  /** Bytes up to `available` have been handed to the file (the worker re-reads a short read later). */
  grew(id: string, available: number): void {
    const s = this.sessions.get(id);
    if (!s) return;
    s.lastSeen = Date.now();
    this.send({ type: 'grow', id, available });
  }

  /** The bytes did not arrive in one unbroken run through this process: forget the upload. */
  broken(id: string): void {
    this.drop(id);
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  /** Pages read so far and why the stream stopped reading, if it did (for logs and tests). */
  progress(id: string): { pages: number; gaveUp: string | null } | null {
    const s = this.sessions.get(id);
    return s ? { pages: s.pages, gaveUp: s.gaveUp } : null;
  }

  /**
   * Every byte is written. With the hash in the tail: the upload's SHA-256 once the tail has hashed
   * it all, or null. Otherwise `sha256` is the receiving thread's, returned at once; the tail
   * finishes its reading in the background and the ingest waits for it (take).
   */
  async finish(id: string, size: number, sha256: string | null = null): Promise<string | null> {
    const s = this.sessions.get(id);
    if (!s) return sha256;
    this.send({ type: 'finish', id, size });
    s.dropTimer = setTimeout(() => this.drop(id), this.keepMs);
    s.dropTimer.unref();
    if (!this.hashInTail) {
      s.received = sha256;
      return sha256;
    }
    await new Promise<void>((resolve) => (s.digest || s.failed ? resolve() : s.onDigest.push(resolve)));
    if (!s.digest?.sha256 || s.digest.size !== size) {
      this.drop(id);
      return null;
    }
    return s.digest.sha256;
  }

  /** The finished upload as the stream read it, once the tail is done; null when there is none. */
  async take(id: string): Promise<StreamedUpload | null> {
    const s = this.sessions.get(id);
    if (!s?.dropTimer) return null; // not finished in this process
    await new Promise<void>((resolve) => (s.digest && s.tailEnded) || s.failed ? resolve() : s.onEnd.push(resolve));
    const failed = s.failed;
    this.drop(id);
    const sha256 = s.digest?.sha256 ?? s.received;
    if (failed || !s.digest || !sha256) return null;
    return { sha256, size: s.digest.size, format: s.digest.format, entries: s.entries, centralDirectory: s.centralDirectory, gaveUp: s.gaveUp };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const id of [...this.sessions.keys()]) this.drop(id);
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }

  private async inWriteSlot(write: () => Promise<void>): Promise<void> {
    while (this.writing >= this.writeSlots) await new Promise<void>((resolve) => this.waitingWrites.push(resolve));
    this.writing++;
    try {
      await write();
    } finally {
      this.writing--;
      this.waitingWrites.shift()?.();
    }
  }

  private drop(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    if (s.dropTimer) clearTimeout(s.dropTimer);
    s.failed ??= 'dropped';
    this.settle(s);
    if (this.worker) this.send({ type: 'close', id });
  }

  private settle(s: Session): void {
    if (s.digest || s.failed) for (const f of s.onDigest.splice(0)) f();
    if ((s.digest && s.tailEnded) || s.failed) for (const f of s.onEnd.splice(0)) f();
  }

  private send(m: ToTail): void {
    this.workerThread().postMessage(m);
  }

  private workerThread(): Worker {
    if (this.worker) return this.worker;
    const worker = fromSource
      ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`, { eval: true })
      : new Worker(workerUrl);
    worker.unref();
    worker.on('message', (m: FromTail) => this.onMessage(m));
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.deps.log.warn({ why }, 'upload tail thread stopped; uploads under way are ingested after their last byte');
      for (const s of [...this.sessions.values()]) {
        s.failed ??= why;
        this.drop(s.id);
      }
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit ${code}`));
    this.worker = worker;
    return worker;
  }

  private onMessage(m: FromTail): void {
    const s = this.sessions.get(m.id);
    if (!s) return;
    switch (m.type) {
      case 'entry':
        this.onEntry(s, m.entry);
        break;
      case 'entries-end':
        s.centralDirectory = m.offset;
        s.tailEnded = true;
        break;
      case 'gave-up':
        s.gaveUp = m.reason;
        s.tailEnded = true;
        this.deps.log.info({ dossier: s.id, reason: m.reason }, 'upload read after its last byte, not in the stream');
        break;
      case 'digest':
        s.digest = { sha256: m.sha256, size: m.size, format: m.format };
        if (m.format !== 'zip') s.tailEnded = true;
        break;
      case 'failed':
        s.failed = m.message;
        this.deps.log.warn({ dossier: s.id, reason: m.message }, 'in-stream reading failed');
        break;
    }
    this.settle(s);
  }

  private onEntry(s: Session, e: Extract<FromTail, { type: 'entry' }>['entry']): void {
    const { page, ...meta } = e;
    if (!page) {
      s.entries.set(e.offset, { ...meta, page: null });
      return;
    }
    const index = ++s.pages;
    const bytes = Buffer.from(page.bytes.buffer, page.bytes.byteOffset, page.bytes.byteLength);
    const size = page.size ?? bytes.byteLength;
    // A stored entry kept as its range of the upload (page.size set, no bytes): recorded with the rows.
    const ranged = page.size !== undefined;
    const stored = ranged ? Promise.resolve() : this.inWriteSlot(() => this.deps.blobs.putBytes(page.sha256, bytes));
    // The credit goes back once the blob is written: pages in memory stay bounded by the window.
    if (!ranged) void stored.then(
      () => this.sessions.get(s.id) === s && this.send({ type: 'credit', id: s.id, n: 1, bytes: bytes.byteLength }),
      () => {
        s.failed ??= 'a page blob could not be stored';
        this.drop(s.id);
      },
    );
    const signature = s.statementBase.then(async (base) => {
      if (!base) throw new Error('dossier not found');
      const signer = this.deps.keys.current();
      return { jws: await signCanonical(signer, pageStatement(base, index, { sha256: page.sha256, size, mediaType: page.mediaType })), kid: signer.kid };
    });
    // Awaited (and its failure handled) only if the entry is used; never an unhandled rejection.
    signature.catch(() => {});
    stored.catch(() => {});
    s.entries.set(e.offset, { ...meta, page: { sha256: page.sha256, size, mediaType: page.mediaType, width: page.width, height: page.height, index, signature, stored, rangeStart: ranged ? e.dataStart : null } });
  }
}
