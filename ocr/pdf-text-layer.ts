/**
 * The text layer of a one-page PDF with pdf.js (opened as dossier/pages/render/pdfjs.ts does:
 * in this thread, nothing fetched, nothing evaluated). Word boxes are in PDF points from the top-left of the
 * unrotated page (crop box); each text run's width is shared among its words by characters.
 */
import { Util } from '../dossier/pages/render/pdfjs-module.js';
import type { WordsDocument } from '../dossier/ports/page-text.js';
import { openPdf } from '../dossier/pages/render/pdfjs.js';

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
  const doc = await openPdf(bytes);
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
