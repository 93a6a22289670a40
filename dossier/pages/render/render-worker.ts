/**
 * The page renderer's worker thread (a piscina task): draws one page and hands its pixels back
 * transferred, not copied. Errors come back as values: a thread boundary keeps an error's message
 * but not its stable code.
 */
import { Piscina } from 'piscina';
import { isDossierError } from '../../errors.js';
import { renderPdfPage, type RenderedPage, type RenderOptions } from './render-pdf.js';

export interface RenderTask {
  readonly pdf: Uint8Array;
  readonly options: RenderOptions;
}

export type RenderReply =
  | { readonly ok: true; readonly page: RenderedPage }
  | { readonly ok: false; readonly code: string; readonly message: string };

class Moved {
  constructor(private readonly reply: RenderReply, private readonly buffers: ArrayBuffer[]) {}
  get [Piscina.transferableSymbol]() { return this.buffers; }
  get [Piscina.valueSymbol]() { return this.reply; }
}

export default async function render(task: RenderTask): Promise<unknown> {
  try {
    const page = await renderPdfPage(task.pdf, task.options);
    // A page drawn by poppler is a view into the process output's buffer: copy out just its pixels.
    const own = page.pixels.byteOffset === 0 && page.pixels.byteLength === page.pixels.buffer.byteLength ? page : { ...page, pixels: new Uint8Array(page.pixels) };
    return Piscina.move(new Moved({ ok: true, page: own }, [own.pixels.buffer as ArrayBuffer]) as never);
  } catch (err) {
    const code = isDossierError(err) ? err.code : 'internal';
    return Piscina.move(new Moved({ ok: false, code, message: err instanceof Error ? err.message : String(err) }, []) as never);
  }
}
