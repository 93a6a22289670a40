/**
 * The image XObjects a stored PDF page (a one-page PDF written by pdf-lib at ingest) draws,
 * found through its resources and those of its form XObjects, with what decides how they can be
 * read: size, filters, colour components, bits, predictor and masks. Parsing only (pdf-lib);
 * nothing is decoded here.
 */
import { ParseSpeeds, PDFArray, PDFDict, PDFDocument, PDFName, PDFNumber, PDFRawStream, type PDFObject } from 'pdf-lib';
import { DossierError } from '../../errors.js';

export interface PageImageInfo {
  readonly stream: PDFRawStream;
  readonly width: number;
  readonly height: number;
  /** Filter names in order, e.g. ['DCTDecode'] or ['FlateDecode']; [] for none. */
  readonly filters: readonly string[];
  /** Colour components (1 gray, 3 RGB) of DeviceGray, DeviceRGB or ICCBased N 1/3; null otherwise. */
  readonly components: 1 | 3 | null;
  readonly bitsPerComponent: number | null;
  readonly predictor: number;
  /** /SMask, /Mask or /ImageMask: the image is not all the page shows of it. */
  readonly masked: boolean;
}

const name = (o: PDFObject | undefined): string | null => (o instanceof PDFName ? o.decodeText() : null);

const numberOf = (dict: PDFDict, key: string): number | null => {
  const v = dict.lookup(PDFName.of(key));
  return v instanceof PDFNumber ? v.asNumber() : null;
};

function collect(doc: PDFDocument, resources: PDFObject | undefined, seen: Set<PDFDict>, out: PDFRawStream[]): void {
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
    else if (subtype === 'Form') collect(doc, x.dict.get(PDFName.of('Resources')), seen, out);
  }
}

function components(doc: PDFDocument, space: PDFObject | undefined): 1 | 3 | null {
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

export async function scanPageImages(bytes: Uint8Array): Promise<PageImageInfo[]> {
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, { updateMetadata: false, parseSpeed: ParseSpeeds.Fastest });
  } catch (err) {
    throw new DossierError('corrupt_pdf', `a stored PDF page cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  let resources: PDFObject | undefined;
  try {
    // pdf-lib loads a file without a page tree and fails only here, with a TypeError.
    resources = doc.getPage(0).node.Resources();
  } catch {
    throw new DossierError('corrupt_pdf', 'the stored PDF page has no readable page');
  }
  const found: PDFRawStream[] = [];
  collect(doc, resources, new Set(), found);
  return found.map((stream) => {
    const dict = stream.dict;
    const f = dict.lookup(PDFName.of('Filter'));
    const filters = (f instanceof PDFArray ? f.asArray().map((x) => name(x)) : [name(f)]).filter((x): x is string => x !== null);
    const parms = dict.lookup(PDFName.of('DecodeParms'));
    const imageMask = dict.lookup(PDFName.of('ImageMask'));
    return {
      stream,
      width: numberOf(dict, 'Width') ?? 0,
      height: numberOf(dict, 'Height') ?? 0,
      filters,
      components: components(doc, dict.get(PDFName.of('ColorSpace'))),
      bitsPerComponent: numberOf(dict, 'BitsPerComponent'),
      predictor: parms instanceof PDFDict ? (numberOf(parms, 'Predictor') ?? 1) : 1,
      masked: dict.has(PDFName.of('SMask')) || dict.has(PDFName.of('Mask')) || String(imageMask) === 'true',
    };
  });
}
