/**
 * pdf.js (pdfjs-dist's legacy build, for Node) opened the one way this service uses it: in the
 * calling thread (no pdf.js worker), no eval, no font loading, nothing fetched. CMaps, standard
 * font metrics, ICC profiles and the wasm decoders (JBIG2, OpenJPEG, QCMS) are read from
 * pdfjs-dist's own folders.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import type { PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { getDocument } from './pdfjs-module.js';
import { restoreNativeJson } from './native-json.js';
import { DossierError } from '../../errors.js';

const pdfjsDir = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const folder = (name: string) => `${path.join(pdfjsDir, name)}/`;

export interface OpenPdfOptions {
  /** Images with more pixels than this are left out of the drawing instead of decoded (-1: all). */
  readonly maxImagePixels?: number;
}

export async function openPdf(bytes: Uint8Array, options: OpenPdfOptions = {}): Promise<PDFDocumentProxy> {
  try {
    return await getDocument({
      // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
      data: new Uint8Array(bytes),
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      useWorkerFetch: false,
      isOffscreenCanvasSupported: false,
      stopAtErrors: false,
      verbosity: 0,
      cMapUrl: folder('cmaps'),
      cMapPacked: true,
      standardFontDataUrl: folder('standard_fonts'),
      wasmUrl: folder('wasm'),
      iccUrl: folder('iccs'),
      maxImageSize: options.maxImagePixels ?? -1,
    }).promise;
  } catch (err) {
    throw new DossierError('corrupt_pdf', `a stored PDF page cannot be read: ${(err as Error).message}`);
  } finally {
    // The first document loads pdf.js's worker code into this thread (no pdf.js worker), and its
    // bundled core-js replaces JSON again (pdfjs-module.ts): put the engine's back.
    restoreNativeJson();
  }
}
