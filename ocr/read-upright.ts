/**
 * A doubtful reading is first tried again with every configured language, when the page was read
 * with those of its script only (script.ts): a misjudged script costs one more reading, never
 * the text. Then orientation detection, only where it can pay. OSD costs about a fifth of a page's time, and
 * almost every scanned page is upright, so a page whose lines run left to right is read as it
 * is first; only a doubtful reading (low mean word confidence: an upside-down page reads as
 * garbage at 30–40, an upright one at 85–96 on our synthetic scans) asks OSD, and the turned
 * reading is kept only if it is surer. Pages whose lines run top to bottom (turned 90/270) ask
 * OSD before reading at all.
 */
import type { OcrWord } from './engine.js';
import { decideRotation, turnPage, type DetectOrientation, type PreparedImage, type Rotation, type ScaledPage } from './prepare-image.js';

/** Mean word confidence under which an upright-looking page's reading is doubted. */
export const DOUBTFUL_CONFIDENCE = 60;

export interface Reading {
  readonly prepared: PreparedImage;
  readonly text: string;
  /** Boxes on the prepared (scaled, turned) image. */
  readonly words: OcrWord[];
  readonly confidence: number;
}

export type ReadPrepared = (prepared: PreparedImage) => Promise<Reading>;

export async function readUpright(page: ScaledPage, read: ReadPrepared, detect: DetectOrientation): Promise<Reading> {
  const readTurned = async (r: Rotation) => read(await turnPage(page, r));
  if (page.axis === null) return readTurned(0);
  if (page.axis === 'columns') {
    const upright = await turnPage(page, 0);
    const rotate = decideRotation(await detect(upright.png), page.axis);
    return rotate === 0 ? read(upright) : readTurned(rotate);
  }
  let first = await readTurned(0);
  if (first.confidence < DOUBTFUL_CONFIDENCE && first.prepared.languages.length < first.prepared.configured.length) {
    const all = await read({ ...first.prepared, languages: first.prepared.configured });
    if (all.confidence > first.confidence) first = all;
  }
  if (first.confidence >= DOUBTFUL_CONFIDENCE) return first;
  const rotate = decideRotation(await detect(first.prepared.png), page.axis);
  if (rotate === 0) return first;
  const turned = await read({ ...(await turnPage(page, rotate)), languages: first.prepared.languages });
  return turned.confidence > first.confidence ? turned : first;
}
