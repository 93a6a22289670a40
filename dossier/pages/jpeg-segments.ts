/**
 * A JPEG's marker segments from SOI up to the first frame header (SOFn), read from the bytes
 * alone: what the page readers need for a size, and the PDF export for size, resolution and kind.
 * Stops quietly at anything malformed; callers treat "no frame header" as "ask sharp".
 */
export interface JpegSegment {
  readonly marker: number;
  /** Offset of the segment's 0xFF marker byte. */
  readonly at: number;
  /** The segment length field: the body plus these two bytes. */
  readonly length: number;
  /** Offset of the body, after marker and length. */
  readonly body: number;
}

/** SOF0–15, except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
export function isFrameHeader(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

export function* jpegSegments(bytes: Buffer): Generator<JpegSegment, void> {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // TEM and RSTn stand alone
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return; // EOI or scan data before any frame header
    const length = bytes.readUInt16BE(at + 2);
    if (length < 2) return;
    yield { marker, at, length, body: at + 4 };
    if (isFrameHeader(marker)) return;
    at += 2 + length;
  }
}
