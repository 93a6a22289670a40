/**
 * Worker side of upload-tails.ts: follows each upload's file as it grows, off the thread that
 * takes the PATCH. It hashes the whole upload (the original's SHA-256), asks the kernel to write
 * it out every WRITE_OUT_EVERY bytes, and for a ZIP reads entry after entry (zip-tail.ts),
 * handing each page over with its SHA-256 under credit (at most `window` pages between threads,
 * and a budget of page bytes across all uploads).
 * It reads the bytes back from the page cache: the receiving thread is never slowed to feed it.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { sha256Hex } from '../../hash.js';
import { detectFormat, HEAD_BYTES } from '../../pages/detect.js';
import type { IngestLimits } from '../../pages/types.js';
import { ZipTail, type TailEntry, type GrowingFile } from '../../pages/zip-tail.js';

export type TailFormat = 'zip' | 'image' | 'other';

export type ToTail =
  | { type: 'open'; id: string; file: string; limits: IngestLimits; window: number; hashWhole: boolean; rangesUpTo: number | null; heldBytesBudget: number }
  | { type: 'grow'; id: string; available: number }
  | { type: 'finish'; id: string; size: number }
  | { type: 'credit'; id: string; n: number; bytes: number }
  | { type: 'close'; id: string };

export type FromTail =
  | { type: 'entry'; id: string; entry: Omit<TailEntry, 'page'> & { page: (Omit<NonNullable<TailEntry['page']>, 'bytes'> & { bytes: Uint8Array; sha256: string; size?: number }) | null } }
  | { type: 'entries-end'; id: string; offset: number }
  | { type: 'gave-up'; id: string; reason: string }
  | { type: 'digest'; id: string; sha256: string | null; size: number; format: TailFormat }
  | { type: 'failed'; id: string; message: string };

const CHUNK = 8 * 1024 * 1024;
/**
 * Page bytes handed to the receiving side and not yet stored, across all uploads (each `open` says
 * the budget: upload-tails.ts). The window bounds one upload (16 pages of up to 16 MiB); with many
 * uploads at once the budget bounds their sum, but for the one page each upload may always have in
 * flight.
 */
let heldBytesBudget = Infinity;
let heldBytes = 0;
const WRITE_OUT_EVERY = 128 * 1024 * 1024;

interface Session {
  readonly id: string;
  readonly fd: number;
  /** Null when the receiving thread hashes the upload itself. */
  readonly hash: Hash | null;
  available: number;
  hashed: number;
  sinceWriteOut: number;
  finishSize: number | null;
  credit: number;
  /** Bytes of this upload's pages handed over and not yet stored (part of heldBytes). */
  held: number;
  format: TailFormat | null;
  tail: ZipTail | null;
  tailDone: boolean;
  busy: boolean;
  /** A message arrived while pump ran: it looks again before it stops. */
  dirty: boolean;
  digestSent: boolean;
  closed: boolean;
  readonly limits: IngestLimits;
  /** Stored entries up to this size are kept as ranges of the upload: only their hash and size cross. */
  readonly rangesUpTo: number | null;
}

const sessions = new Map<string, Session>();
const post = (m: FromTail, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

/** The file as far as it is both reported and really written (a report may run a little ahead). */
function fileOf(s: Session): GrowingFile {
  const available = Math.min(s.available, fs.fstatSync(s.fd).size);
  return {
    available,
    read(position, length) {
      const out = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const n = fs.readSync(s.fd, out, filled, length - filled, position + filled);
        if (n === 0) throw new Error(`upload file shorter than the ${available} bytes it had`);
        filled += n;
      }
      return out;
    },
  };
}

/** Hashes what arrived, reads entries while credit lasts, and answers `finish` once all is hashed. */
async function pump(s: Session): Promise<void> {
  if (s.busy || s.closed) return;
  s.busy = true;
  try {
    for (let progressed = true; (progressed || s.dirty) && !s.closed; ) {
      progressed = false;
      s.dirty = false;
      const file = fileOf(s);
      if (s.hashed < file.available) {
        const length = Math.min(CHUNK, file.available - s.hashed);
        if (s.hash) s.hash.update(file.read(s.hashed, length));
        s.hashed += length;
        s.sinceWriteOut += length;
        if (s.sinceWriteOut >= WRITE_OUT_EVERY) {
          s.sinceWriteOut = 0;
          fs.fdatasyncSync(s.fd); // a hint: durability is the ingest's flush
        }
        progressed = true;
      }
      if (s.format === null && (file.available >= HEAD_BYTES || (s.finishSize !== null && file.available === s.finishSize))) {
        const detected = detectFormat(file.read(0, Math.min(HEAD_BYTES, file.available)));
        s.format = detected === 'zip' ? 'zip' : detected === 'jpeg' || detected === 'png' || detected === 'webp' || detected === 'jp2' ? 'image' : 'other';
        if (s.format === 'zip') s.tail = new ZipTail(s.limits);
        else s.tailDone = true;
      }
      while (s.tail && !s.tailDone && s.credit > 0 && (heldBytes < heldBytesBudget || s.held === 0) && !s.closed) {
        const step = await s.tail.step(fileOf(s));
        if (step.type === 'wait') {
          if (s.finishSize !== null && s.hashed === s.finishSize) {
            s.tailDone = true;
            post({ type: 'gave-up', id: s.id, reason: 'the upload ended before its central directory' });
          }
          break;
        }
        progressed = true;
        if (step.type === 'entry') {
          const { page, ...meta } = step.entry;
          if (!page) {
            post({ type: 'entry', id: s.id, entry: { ...meta, page: null } });
            continue;
          }
          if (meta.method === 0 && s.rangesUpTo !== null && page.bytes.byteLength <= s.rangesUpTo) {
            // Kept as its range of the upload: nothing to store, so no credit to wait for.
            post({ type: 'entry', id: s.id, entry: { ...meta, page: { ...page, bytes: new Uint8Array(0), size: page.bytes.byteLength, sha256: sha256Hex(page.bytes) } } });
            continue;
          }
          s.credit--;
          s.held += page.bytes.byteLength;
          heldBytes += page.bytes.byteLength;
          const owned = page.bytes.byteOffset === 0 && page.bytes.byteLength === page.bytes.buffer.byteLength ? page.bytes : Buffer.from(page.bytes);
          const message: FromTail = { type: 'entry', id: s.id, entry: { ...meta, page: { ...page, bytes: owned, sha256: sha256Hex(owned) } } };
          post(message, [owned.buffer as ArrayBuffer]);
        } else {
          s.tailDone = true;
          post(step.type === 'entries-end' ? { type: 'entries-end', id: s.id, offset: step.offset } : { type: 'gave-up', id: s.id, reason: step.reason });
        }
      }
      // The digest goes first, as soon as every byte is hashed: the tail may still be reading.
      if (s.finishSize !== null && s.hashed === s.finishSize && s.format !== null && !s.digestSent) {
        s.digestSent = true;
        post({ type: 'digest', id: s.id, sha256: s.hash?.digest('hex') ?? null, size: s.hashed, format: s.format });
        progressed = true;
      }
      if (s.digestSent && s.tailDone) close(s);
    }
  } catch (err) {
    post({ type: 'failed', id: s.id, message: err instanceof Error ? err.message : String(err) });
    close(s);
  } finally {
    s.busy = false;
  }
}

function close(s: Session): void {
  if (s.closed) return;
  s.closed = true;
  sessions.delete(s.id);
  heldBytes -= s.held;
  fs.closeSync(s.fd);
}

function onMessage(m: ToTail): void {
  if (m.type === 'open') {
    heldBytesBudget = m.heldBytesBudget;
    const old = sessions.get(m.id);
    if (old) close(old);
    try {
      const s: Session = {
        id: m.id, fd: fs.openSync(m.file, 'r'), hash: m.hashWhole ? createHash('sha256') : null, available: 0, hashed: 0, sinceWriteOut: 0, finishSize: null,
        credit: m.window, held: 0, format: null, tail: null, tailDone: false, busy: false, dirty: false, digestSent: false, closed: false, limits: m.limits, rangesUpTo: m.rangesUpTo,
      };
      sessions.set(m.id, s);
    } catch (err) {
      post({ type: 'failed', id: m.id, message: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  const s = sessions.get(m.id);
  if (!s) return;
  if (m.type === 'close') return close(s);
  if (m.type === 'grow') s.available = Math.max(s.available, m.available);
  if (m.type === 'credit') {
    s.credit += m.n;
    s.held -= m.bytes;
    heldBytes -= m.bytes;
    // Bytes freed under the shared budget: any upload may now go on, not only this one.
    for (const other of sessions.values()) {
      if (other === s) continue;
      other.dirty = true;
      void pump(other);
    }
  }
  if (m.type === 'finish') {
    if (m.size !== s.available) {
      post({ type: 'failed', id: s.id, message: `finished at ${m.size} bytes, ${s.available} seen` });
      return close(s);
    }
    s.finishSize = m.size;
  }
  s.dirty = true;
  void pump(s);
}

if (parentPort) parentPort.on('message', onMessage);
