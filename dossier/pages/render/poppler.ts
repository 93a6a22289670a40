/**
 * Poppler's pdftoppm (Debian's poppler-utils), where installed, for the pages pdf.js cannot draw
 * within the budget: an image over `maxImagePixels` (a 35000 x 35000 bilevel scan, a 1200 dpi
 * A4 page) that pdf.js would have to decode whole. Poppler streams an image's rows through its
 * scaler, so the same page costs the output's pixels (measured: hugemono.pdf's 1.2 gigapixels
 * in 83 MB). One process per page, gray PGM on stdout, the PDF on stdin; killed at the signal.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { DossierError } from '../../errors.js';

export const PDFTOPPM = '/usr/bin/pdftoppm';

export const popplerAvailable = (): boolean => fs.existsSync(PDFTOPPM);

export interface GrayPage {
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Binary PGM (P5, 8-bit): header of magic, width, height, maxval, then the rows. */
export function parsePgm(pgm: Buffer): GrayPage {
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pgm.subarray(0, 64).toString('latin1'));
  if (!header) throw new DossierError('internal', 'pdftoppm wrote no PGM image');
  const width = Number(header[1]), height = Number(header[2]), max = Number(header[3]);
  const pixels = pgm.subarray(header[0].length);
  if (max !== 255 || pixels.length < width * height) throw new DossierError('internal', `pdftoppm wrote ${pixels.length} bytes for ${width}x${height}`);
  return { pixels: pixels.subarray(0, width * height), width, height };
}

export function renderWithPoppler(pdf: Uint8Array, dpi: number, signal?: AbortSignal): Promise<GrayPage> {
  return new Promise((resolve, reject) => {
    const child = spawn(PDFTOPPM, ['-f', '1', '-l', '1', '-r', dpi.toFixed(2), '-gray', '-'], { stdio: ['pipe', 'pipe', 'pipe'], signal, env: {} });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-500); });
    child.on('error', (e) => reject(signal?.aborted ? signal.reason : new DossierError('internal', `pdftoppm: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) return reject(new DossierError('corrupt_pdf', `pdftoppm could not draw the page (exit ${code}): ${err.trim()}`));
      try {
        resolve(parsePgm(Buffer.concat(out)));
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.on('error', () => {}); // a child that exits early closes its stdin: the exit code says why
    child.stdin.end(pdf);
  });
}
