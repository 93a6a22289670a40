/**
 * Pages drawn to pixels, for OCR, thumbnails and the viewer: PDF pages (every scan encoding, see
 * render-pdf.ts) and JPEG 2000 images (through a one-page PDF, jp2-page.ts). The drawing runs in
 * a pool of worker threads (piscina), one per core at most, started on demand and ended when idle,
 * so that seconds of synchronous pdf.js work never block the gateway's event loop. A render that
 * runs past its time is stopped by terminating its thread.
 */
import os from 'node:os';
import { Piscina } from 'piscina';
import { DossierError, ERROR_CODES, type ErrorCode } from '../../errors.js';
import { jp2AsPdf } from './jp2-page.js';
import type { RenderedPage, RenderOptions } from './render-pdf.js';
import type { RenderReply, RenderTask } from './render-worker.js';

export type { RenderedPage, RenderOptions } from './render-pdf.js';

/**
 * For OCR: the page's own resolution up to 400 dpi (text at 400 dpi is past what the recogniser
 * gains from) and 25 megapixels (A4 at ~590 dpi; 100 MB of RGBA). Images over 50 megapixels
 * (600 dpi A4 is 35) are left out: decoding one costs pdf.js ~14 bytes a pixel.
 */
export const OCR_RENDER: RenderOptions = Object.freeze({ maxPixels: 25_000_000, maxDpi: 400, maxImagePixels: 50_000_000 });

export const renderableMediaTypes: ReadonlySet<string> = new Set(['application/pdf', 'image/jp2']);

export interface PageRendererOptions {
  /** Threads at most; default the core count. */
  readonly threads?: number;
  /** A render running longer is stopped; default 60 s. */
  readonly timeoutMs?: number;
  /** A thread idle this long ends; default 30 s. */
  readonly idleMs?: number;
}

const fromSource = import.meta.url.endsWith('.ts');

export class PageRenderer {
  private readonly pool: Piscina<RenderTask, RenderReply>;
  private readonly timeoutMs: number;

  constructor(options: PageRendererOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.pool = new Piscina({
      // Compiled: the .js beside this file. From source (tests, bench): the .ts, which the thread
      // can import because it inherits the parent's `--import tsx`.
      filename: new URL(`./render-worker${fromSource ? '.ts' : '.js'}`, import.meta.url).href,
      minThreads: 0,
      maxThreads: Math.max(1, options.threads ?? os.availableParallelism()),
      idleTimeout: options.idleMs ?? 30_000,
      // The JS heap of a thread (pdf.js's decoded images); canvas pixels live outside it.
      resourceLimits: { maxOldGenerationSizeMb: 1536 },
    });
  }

  async render(bytes: Uint8Array, mediaType: string, options: RenderOptions, signal?: AbortSignal): Promise<RenderedPage> {
    if (!renderableMediaTypes.has(mediaType)) throw new DossierError('unsupported_format', `pages of type ${mediaType} are not drawn by the page renderer`);
    const pdf = mediaType === 'image/jp2' ? await jp2AsPdf(bytes) : bytes;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let reply: RenderReply;
    try {
      reply = await this.pool.run({ pdf, options }, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw new DossierError('internal', `drawing the page took longer than ${this.timeoutMs} ms`);
      throw new DossierError('internal', `the page renderer failed: ${(err as Error).message || String(err)}`);
    }
    if (!reply.ok) {
      const code = (ERROR_CODES as readonly string[]).includes(reply.code) ? (reply.code as ErrorCode) : 'internal';
      throw new DossierError(code, reply.message);
    }
    return reply.page;
  }

  /** Threads running now: for tests and metrics. */
  get threads(): number {
    return this.pool.threads.length;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
