/**
 * The page reader in a thread of its own, for fuzzing: a mutation that made a reader loop forever
 * (synchronous code cannot be interrupted from its own thread) or exhaust its heap is caught by
 * the driver (reader-in-thread.ts), which ends this thread and starts another. Each read reports
 * what the reader gave: the pages (checked here: each one is the format it claims) or the error.
 */
import { parentPort } from 'node:worker_threads';
import { isDossierError } from '../../../dossier/errors.js';
import { allowOnlyPageDecoders } from '../../../dossier/pages/page-decoders.js';
import { detectFormat } from '../../../dossier/pages/detect.js';
import { readPages } from '../../../dossier/pages/read-pages.js';
import type { IngestLimits, PageMediaType } from '../../../dossier/pages/types.js';

export interface ReadRequest {
  readonly id: number;
  readonly path: string;
  readonly limits: IngestLimits;
}

export interface PageSummary {
  readonly mediaType: PageMediaType;
  readonly size: number;
  readonly width: number | null;
  readonly height: number | null;
  /** What detection makes of the page's own bytes: it must be its media type. */
  readonly detected: string | null;
}

export type ReadOutcome =
  | { readonly kind: 'pages'; readonly pages: readonly PageSummary[] }
  | { readonly kind: 'rejected'; readonly code: string; readonly message: string; readonly stack?: string };

const MEDIA: Record<string, PageMediaType> = { jpeg: 'image/jpeg', png: 'image/png', tiff: 'image/tiff', jp2: 'image/jp2', webp: 'image/webp', pdf: 'application/pdf' };

async function read(req: ReadRequest): Promise<ReadOutcome> {
  const pages: PageSummary[] = [];
  try {
    for await (const page of readPages(req.path, req.limits)) {
      const format = detectFormat(page.bytes.subarray(0, 1024));
      pages.push({ mediaType: page.mediaType, size: page.bytes.length, width: page.width, height: page.height, detected: format ? MEDIA[format]! : null });
    }
    return { kind: 'pages', pages };
  } catch (err) {
    if (isDossierError(err)) {
      const cause = err.details?.cause;
      return { kind: 'rejected', code: err.code, message: err.message, ...(typeof cause === 'string' ? { stack: cause } : {}) };
    }
    return { kind: 'rejected', code: 'thrown', message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

if (parentPort) {
  // As in the gateway: only the page decoders are loaded by libvips.
  allowOnlyPageDecoders();
  // pdf-lib reports each object it could not parse on the console: thousands of lines here.
  console.warn = () => {};
  console.log = () => {};
  const port = parentPort;
  port.on('message', (req: ReadRequest) => void read(req).then((outcome) => port.postMessage({ id: req.id, outcome })));
  port.postMessage({ ready: true });
}
