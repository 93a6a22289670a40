/**
 * The text layer of a one-page PDF with pdfjs-dist (legacy build for Node): in-process (no
 * worker thread), no eval, no font loading, nothing fetched — CMaps and standard-font metrics
 * are read from pdfjs-dist's own folders. Word boxes are in PDF points from the top-left of the
 * unrotated page (crop box); each text run's width is shared among its words by characters.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { getDocument, Util } from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { WordsDocument } from '../dossier/ports/page-text.js';
import { DossierError } from '../dossier/errors.js';

const pdfjsDir = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));

export interface TextLayer {
  readonly text: string;
  readonly words: WordsDocument;
}

interface TextItem {
  str: string;
  transform: number[];
  width: number;
  hasEOL?: boolean;
}

type Word = WordsDocument['words'][number];

export async function pdfTextLayer(bytes: Uint8Array): Promise<TextLayer> {
  let doc;
  try {
    doc = await getDocument({
      // pdfjs takes ownership of (detaches) the buffer it is given: hand it a copy.
      data: new Uint8Array(bytes),
      isEvalSupported: false,
      disableFontFace: true,
      useSystemFonts: false,
      useWorkerFetch: false,
      isOffscreenCanvasSupported: false,
      stopAtErrors: false,
      verbosity: 0,
      cMapUrl: `${path.join(pdfjsDir, 'cmaps')}/`,
      cMapPacked: true,
      standardFontDataUrl: `${path.join(pdfjsDir, 'standard_fonts')}/`,
    }).promise;
  } catch (err) {
    throw new DossierError('corrupt_pdf', `a stored PDF page cannot be read: ${(err as Error).message}`);
  }
  try {
    const page = await doc.getPage(1);
    const viewport = page.getViewport({ scale: 1, rotation: 0 });
    const content = await page.getTextContent();
    const words: Word[] = [];
    let text = '';
    for (const raw of content.items) {
      if (!('str' in raw)) continue;
      const item = raw as TextItem;
      text += item.str + (item.hasEOL ? '\n' : '');
      if (!item.str.trim()) continue;
      const m = Util.transform(viewport.transform, item.transform);
      const fontHeight = Math.hypot(m[2]!, m[3]!);
      const x = m[4]!, baseline = m[5]!;
      const perChar = item.str.length ? item.width / item.str.length : 0;
      for (const match of item.str.matchAll(/\S+/g)) {
        const left = x + match.index * perChar;
        const box: [number, number, number, number] = [left, baseline - fontHeight, match[0].length * perChar, fontHeight].map((v) => Math.round(v * 100) / 100) as [number, number, number, number];
        words.push({ text: match[0], confidence: 100, box });
      }
    }
    return {
      text: text.replace(/[ \t]+\n/g, '\n').trim(),
      words: { v: 1, unit: 'pt', width: Math.round(viewport.width * 100) / 100, height: Math.round(viewport.height * 100) / 100, words },
    };
  } finally {
    await doc.destroy();
  }
}
