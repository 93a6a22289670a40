/**
 * Scan-encoding fixtures made by the encoders scanners' software uses: CCITT G4 by libtiff
 * (tiffcp, tiff2pdf: Debian libtiff-tools), JPEG 2000 by OpenJPEG (opj_compress: Debian
 * libopenjp2-tools); one-page PDFs drawing an image XObject with pdf-lib.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument, PDFName } from 'pdf-lib';
import sharp from 'sharp';
import { testEnv } from './env.js';

export const SCAN_TOOLS = ['/usr/bin/tiffcp', '/usr/bin/tiff2pdf', '/usr/bin/opj_compress'];

/** Skips the suite (mandatory in CI) when an encoder is missing; true when all are there. */
export function scanToolsOrSkip(ctx: Mocha.Context): boolean {
  const missing = SCAN_TOOLS.filter((t) => !fs.existsSync(t));
  if (missing.length === 0) return true;
  if (testEnv.ci) throw new Error(`${missing.join(', ')} missing: mandatory in CI (apt-get install libtiff-tools libopenjp2-tools)`);
  console.warn(`    ! ${missing.join(', ')} missing (Debian libtiff-tools, libopenjp2-tools): SKIPPED`);
  ctx.skip();
  return false;
}

export interface Gray { readonly data: Buffer; readonly width: number; readonly height: number }

/** A one-page PDF drawing one image XObject (its dict and encoded bytes) over the page at `dpi`. */
export async function imagePdf(width: number, height: number, dict: Record<string, unknown>, data: Uint8Array, dpi: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const w = (width * 72) / dpi, h = (height * 72) / dpi;
  const image = doc.context.register(doc.context.stream(data, { Type: 'XObject', Subtype: 'Image', Width: width, Height: height, ...dict } as never));
  const page = doc.addPage([w, h]);
  page.node.setXObject(PDFName.of('Im0'), image);
  page.node.set(PDFName.of('Contents'), doc.context.register(doc.context.stream(`q ${w} 0 0 ${h} 0 0 cm /Im0 Do Q`)));
  return doc.save();
}

/** The gray page thresholded to bilevel, G4-coded in one strip by libtiff, wrapped by tiff2pdf. */
export async function ccittG4Pdf(gray: Gray, dir: string, dpi: number): Promise<Buffer> {
  const tif = path.join(dir, 'bilevel.tif'), g4 = path.join(dir, 'g4.tif'), pdf = path.join(dir, 'g4.pdf');
  await sharp(gray.data, { raw: { width: gray.width, height: gray.height, channels: 1 } })
    .threshold(160).toColourspace('b-w').tiff({ compression: 'ccittfax4', bitdepth: 1, xres: dpi / 25.4, yres: dpi / 25.4 }).toFile(tif);
  execFileSync('/usr/bin/tiffcp', ['-c', 'g4', '-r', String(gray.height), tif, g4]);
  execFileSync('/usr/bin/tiff2pdf', ['-o', pdf, g4]);
  return fs.readFileSync(pdf);
}

/** The gray page as a JPEG 2000 file (OpenJPEG, 20:1). */
export async function jpeg2000(gray: Gray, dir: string): Promise<Buffer> {
  const png = path.join(dir, 'page.png'), jp2 = path.join(dir, 'page.jp2');
  await sharp(gray.data, { raw: { width: gray.width, height: gray.height, channels: 1 } }).png().toFile(png);
  execFileSync('/usr/bin/opj_compress', ['-i', png, '-o', jp2, '-r', '20'], { stdio: 'ignore' });
  return fs.readFileSync(jp2);
}

export async function grayOf(image: Buffer): Promise<Gray> {
  const { data, info } = await sharp(image).grayscale().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
