/**
 * What the PDF needs of a JPEG, read from its header segments in microseconds (sharp's metadata()
 * costs about a millisecond a page, two thirds of the export's time on scanned pages): size,
 * components, the frame kind (baseline/extended/progressive Huffman at 8 bits is what every PDF
 * reader decodes), the resolution (JFIF, else EXIF) and whether an Adobe APP14 segment is present.
 */
import { isFrameHeader, jpegSegments } from '../../pages/jpeg-segments.js';

export interface JpegHeader {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  /** 8-bit Huffman coded (SOF0, SOF1, SOF2): embeddable with DCTDecode. */
  readonly embeddable: boolean;
  /** Dots per inch from the JFIF segment or the EXIF IFD0, when either gives a unit. */
  readonly dpi: number | null;
  readonly adobe: boolean;
}

export function readJpegHeader(bytes: Buffer): JpegHeader | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let dpi: number | null = null;
  let exifDpi: number | null = null;
  let adobe = false;
  for (const { marker, at, length, body } of jpegSegments(bytes)) {
    if (at + 2 + length > bytes.length) return null;
    if (marker === 0xe0 && length >= 16 && bytes.toString('latin1', body, body + 5) === 'JFIF\0') {
      const units = bytes[body + 7];
      const x = bytes.readUInt16BE(body + 8);
      if (x > 0 && units === 1) dpi = x;
      if (x > 0 && units === 2) dpi = x * 2.54;
    }
    if (marker === 0xe1 && length >= 16 && bytes.toString('latin1', body, body + 6) === 'Exif\0\0') exifDpi = exifResolution(bytes.subarray(body + 6, at + 2 + length));
    if (marker === 0xee && length >= 7 && bytes.toString('latin1', body, body + 5) === 'Adobe') adobe = true;
    if (isFrameHeader(marker)) {
      if (length < 8) return null;
      const precision = bytes[body]!;
      const height = bytes.readUInt16BE(body + 1);
      const width = bytes.readUInt16BE(body + 3);
      const components = bytes[body + 5]!;
      if (width === 0 || height === 0) return null; // height in a DNL segment: leave it to sharp
      return { width, height, components, embeddable: precision === 8 && marker <= 0xc2 && [1, 3, 4].includes(components), dpi: exifDpi ?? dpi, adobe }; // EXIF over JFIF, as libvips reads them
    }
  }
  return null;
}

/** XResolution (282) in ResolutionUnit (296: 2 inch, the default; 3 centimetre) of the EXIF IFD0. */
function exifResolution(tiff: Buffer): number | null {
  if (tiff.length < 8) return null;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return null;
  let xres: number | null = null;
  let unit = 2;
  for (let i = 0, count = u16(ifd); i < count && ifd + 2 + i * 12 + 12 <= tiff.length; i++) {
    const entry = ifd + 2 + i * 12;
    const tag = u16(entry);
    if (tag === 296 && u16(entry + 2) === 3) unit = u16(entry + 8);
    if (tag === 282 && u16(entry + 2) === 5) {
      const at = u32(entry + 8);
      if (at + 8 > tiff.length) return null;
      const denominator = u32(at + 4);
      xres = denominator > 0 ? u32(at) / denominator : null;
    }
  }
  if (!xres || !(xres > 0)) return null;
  return unit === 3 ? xres * 2.54 : unit === 2 ? xres : null;
}
