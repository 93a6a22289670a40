/**
 * The scan inside a stored PDF page (a one-page PDF written by pdf-lib at ingest): the largest
 * image XObject the page draws, found through its resources and those of its form XObjects.
 * DCTDecode images are JPEG files as they stand; FlateDecode images are 8-bit gray or RGB pixels,
 * handed to sharp as raw pixels and returned as PNG. Anything else is refused with a clear reason.
 */
import zlib from 'node:zlib';
import { ParseSpeeds, PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream, type PDFObject } from 'pdf-lib';
import sharp from 'sharp';
import { DossierError } from '../dossier/errors.js';

export interface PageImage {
  readonly image: Uint8Array;
  readonly width: number;
  readonly height: number;
}

const name = (o: PDFObject | undefined): string | null => (o instanceof PDFName ? o.decodeText() : null);

function images(doc: PDFDocument, resources: PDFObject | undefined, seen: Set<PDFDict>, out: PDFRawStream[]): void {
  const res = resources && doc.context.lookup(resources);
  if (!(res instanceof PDFDict) || seen.has(res)) return;
  seen.add(res);
  const xobjects = res.lookup(PDFName.of('XObject'));
  if (!(xobjects instanceof PDFDict)) return;
  for (const key of xobjects.keys()) {
    const x = xobjects.lookup(key);
    if (!(x instanceof PDFRawStream)) continue;
    const subtype = name(x.dict.get(PDFName.of('Subtype')));
    if (subtype === 'Image') out.push(x);
    else if (subtype === 'Form') images(doc, x.dict.get(PDFName.of('Resources')), seen, out);
  }
}

const numberOf = (dict: PDFDict, key: string): number | null => {
  const v = dict.lookup(PDFName.of(key));
  return v instanceof PDFNumber ? v.asNumber() : null;
};

/** Components of DeviceGray / DeviceRGB, or of an ICCBased space with N 1 or 3; else null. */
function components(doc: PDFDocument, space: PDFObject | undefined): number | null {
  const s = space && doc.context.lookup(space);
  const n = name(s);
  if (n === 'DeviceGray') return 1;
  if (n === 'DeviceRGB') return 3;
  if (s instanceof PDFArray && name(s.lookup(0)) === 'ICCBased') {
    const profile = s.lookup(1);
    const count = profile instanceof PDFRawStream ? numberOf(profile.dict, 'N') : null;
    return count === 1 || count === 3 ? count : null;
  }
  return null;
}

export async function pdfPageImage(bytes: Uint8Array): Promise<PageImage | null> {
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, { updateMetadata: false, parseSpeed: ParseSpeeds.Fastest });
  } catch (err) {
    throw new DossierError('corrupt_pdf', `a stored PDF page cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  const leaf = doc.getPage(0).node;
  const found: PDFRawStream[] = [];
  images(doc, leaf.Resources(), new Set(), found);
  const area = (s: PDFRawStream) => (numberOf(s.dict, 'Width') ?? 0) * (numberOf(s.dict, 'Height') ?? 0);
  const largest = found.sort((a, b) => area(b) - area(a))[0];
  if (!largest) return null;

  const dict = largest.dict;
  const width = numberOf(dict, 'Width') ?? 0, height = numberOf(dict, 'Height') ?? 0;
  const f = dict.lookup(PDFName.of('Filter'));
  const filters = f instanceof PDFArray ? f.asArray().map((x) => name(x)) : [name(f)];
  const filter = filters.length === 1 ? filters[0] : filters.join('+');
  if (filter === 'DCTDecode') return { image: largest.contents, width, height };
  if (filter === 'FlateDecode') {
    const channels = components(doc, dict.get(PDFName.of('ColorSpace')));
    const bits = numberOf(dict, 'BitsPerComponent');
    const parms = dict.lookup(PDFName.of('DecodeParms'));
    const predictor = parms instanceof PDFDict ? (numberOf(parms, 'Predictor') ?? 1) : 1;
    if (channels === null || bits !== 8 || predictor !== 1) {
      throw new DossierError('unsupported_format', `the page's image is a Flate image OCR cannot read (colour space, ${bits} bits, predictor ${predictor}); supported: 8-bit DeviceGray or DeviceRGB`);
    }
    let pixels: Buffer;
    try {
      pixels = zlib.inflateSync(largest.contents);
    } catch (err) {
      throw new DossierError('corrupt_pdf', `the page's image stream does not inflate: ${(err as Error).message}`);
    }
    if (pixels.length < width * height * channels) throw new DossierError('corrupt_pdf', `the page's image has ${pixels.length} bytes for ${width}x${height}x${channels}`);
    const png = await sharp(pixels.subarray(0, width * height * channels), { raw: { width, height, channels: channels as 1 | 3 } })
      .toColourspace(channels === 1 ? 'b-w' : 'srgb')
      .png({ compressionLevel: 1 })
      .toBuffer();
    return { image: png, width, height };
  }
  throw new DossierError('unsupported_format', `the page's image is encoded with ${filter ?? 'no filter'}; OCR reads DCTDecode (JPEG) and FlateDecode images only`);
}
