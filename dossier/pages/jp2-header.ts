/**
 * Image size of a JPEG 2000 file from its header. The bundled libvips has no JPEG 2000 support,
 * so the size (needed for the pixel-flood check) is read from the boxes ourselves: the `ihdr` box
 * inside the `jp2h` header box of a JP2/JPX file, or the SIZ marker of a raw J2K codestream.
 */

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/** Width and height, or null when the header is missing or malformed. */
export function jp2Size(bytes: Buffer): ImageSize | null {
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0xff4fff51) return codestreamSize(bytes, 0);
  const header = findBox(bytes, 0, bytes.length, 'jp2h');
  if (!header) return null;
  const ihdr = findBox(bytes, header.start, header.end, 'ihdr');
  if (!ihdr || ihdr.end - ihdr.start < 14) return null;
  return sized(bytes.readUInt32BE(ihdr.start + 4), bytes.readUInt32BE(ihdr.start));
}

/** SIZ: Lsiz, Rsiz, then Xsiz, Ysiz (reference grid) and XOsiz, YOsiz (image offset on it). */
function codestreamSize(bytes: Buffer, at: number): ImageSize | null {
  if (bytes.length < at + 24) return null;
  const xsiz = bytes.readUInt32BE(at + 8);
  const ysiz = bytes.readUInt32BE(at + 12);
  const xosiz = bytes.readUInt32BE(at + 16);
  const yosiz = bytes.readUInt32BE(at + 20);
  return sized(xsiz - xosiz, ysiz - yosiz);
}

function sized(width: number, height: number): ImageSize | null {
  return width > 0 && height > 0 ? { width, height } : null;
}

/** The content range of the first box of `type` among the boxes in [from, to). */
function findBox(bytes: Buffer, from: number, to: number, type: string): { start: number; end: number } | null {
  let at = from;
  // A box header is 8 bytes (length + type), 16 with a 64-bit length.
  while (at + 8 <= to) {
    let length = bytes.readUInt32BE(at);
    const boxType = bytes.toString('latin1', at + 4, at + 8);
    let headerLength = 8;
    if (length === 1) {
      if (at + 16 > to) return null;
      const big = bytes.readBigUInt64BE(at + 8);
      if (big > BigInt(to - at)) return null;
      length = Number(big);
      headerLength = 16;
    } else if (length === 0) {
      length = to - at; // the last box runs to the end of its container
    }
    if (length < headerLength || at + length > to) return null;
    if (boxType === type) return { start: at + headerLength, end: at + length };
    at += length;
  }
  return null;
}
