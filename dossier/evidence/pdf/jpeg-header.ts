/**
 * What the PDF needs of a JPEG, read from its header segments in microseconds (sharp's metadata()
 * costs about a millisecond a page, two thirds of the export's time on scanned pages): size,
 * components, the frame kind (baseline/extended/progressive Huffman at 8 bits is what every PDF
 * reader decodes), the JFIF resolution and whether an Adobe APP14 segment is present.
 */
export interface JpegHeader {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  /** 8-bit Huffman coded (SOF0, SOF1, SOF2): embeddable with DCTDecode. */
  readonly embeddable: boolean;
  /** Dots per inch from the JFIF segment, when it gives a unit. */
  readonly dpi: number | null;
  readonly adobe: boolean;
}

export function readJpegHeader(bytes: Buffer): JpegHeader | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let dpi: number | null = null;
  let adobe = false;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // no frame header before the scan
    const length = bytes.readUInt16BE(at + 2);
    if (length < 2 || at + 2 + length > bytes.length) return null;
    const body = at + 4;
    if (marker === 0xe0 && length >= 16 && bytes.toString('latin1', body, body + 5) === 'JFIF\0') {
      const units = bytes[body + 7];
      const x = bytes.readUInt16BE(body + 8);
      if (x > 0 && units === 1) dpi = x;
      if (x > 0 && units === 2) dpi = x * 2.54;
    }
    if (marker === 0xee && length >= 7 && bytes.toString('latin1', body, body + 5) === 'Adobe') adobe = true;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (length < 8) return null;
      const precision = bytes[body]!;
      const height = bytes.readUInt16BE(body + 1);
      const width = bytes.readUInt16BE(body + 3);
      const components = bytes[body + 5]!;
      if (width === 0 || height === 0) return null; // height in a DNL segment: leave it to sharp
      return { width, height, components, embeddable: precision === 8 && marker <= 0xc2 && [1, 3, 4].includes(components), dpi, adobe };
    }
    at += 2 + length;
  }
  return null;
}
