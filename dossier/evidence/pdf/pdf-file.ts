/**
 * The bare bones of a PDF file written front to back: objects go out one by one as Buffers and
 * the file keeps nothing but each object's byte offset for the cross-reference table at the end,
 * so memory does not grow with what has been written.
 */
import zlib from 'node:zlib';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Classic xref entries have 10 offset digits; beyond them an xref stream takes over. */
const CLASSIC_XREF_LIMIT = 9_999_999_999;

export class PdfFile {
  /** Byte offset of object n at [n]; index 0 is the free-list head. */
  private readonly offsets: number[] = [0];
  private written = 0;

  /** `xrefStreamFrom`: the xref offset from which a cross-reference stream is written instead. */
  constructor(private readonly xrefStreamFrom = CLASSIC_XREF_LIMIT) {}

  /** Bytes handed out so far. */
  get position(): number {
    return this.written;
  }

  /** A fresh object number; its object may be written later (e.g. the page tree, at the end). */
  allocate(): number {
    this.offsets.push(-1);
    return this.offsets.length - 1;
  }

  /** Counts bytes that leave the file; every Buffer written must pass through here. */
  emit(bytes: Buffer): Buffer {
    this.written += bytes.length;
    return bytes;
  }

  header(): Buffer {
    // The binary comment tells transfer tools the file is not text.
    return this.emit(Buffer.concat([latin1('%PDF-1.7\n%'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]), latin1('\n')]));
  }

  /** A whole object whose body (dictionary, array, number…) is given as PDF syntax. */
  object(num: number, body: string): Buffer {
    this.offsets[num] = this.written;
    return this.emit(latin1(`${num} 0 obj\n${body}\nendobj\n`));
  }

  /**
   * A stream object with its data at hand; `dict` is the dictionary's inside, without Length.
   * Three pieces, so that a page image leaves as the very Buffer it came in (no copy).
   */
  *stream(num: number, dict: string, data: Buffer): Generator<Buffer> {
    this.offsets[num] = this.written;
    yield this.emit(latin1(`${num} 0 obj\n<<${dict} /Length ${data.length}>>\nstream\n`));
    yield this.emit(data);
    yield this.emit(latin1('\nendstream\nendobj\n'));
  }

  /** Starts a stream object whose length is not known yet: /Length points at `lengthNum`. */
  streamStart(num: number, dict: string, lengthNum: number): Buffer {
    this.offsets[num] = this.written;
    return this.emit(latin1(`${num} 0 obj\n<<${dict} /Length ${lengthNum} 0 R>>\nstream\n`));
  }

  streamEnd(): Buffer {
    return this.emit(latin1('\nendstream\nendobj\n'));
  }

  /** An object whose body is already serialised PDF syntax (objects copied by copied-page.ts). */
  rawObject(num: number, body: Buffer): Buffer {
    this.offsets[num] = this.written;
    return this.emit(Buffer.concat([latin1(`${num} 0 obj\n`), body, latin1('\nendobj\n')]));
  }

  /** Cross-reference section and trailer; every allocated object must have been written. */
  finish(trailer: { root: number; info: number; id: Buffer | null }): Buffer {
    const missing = this.offsets.findIndex((o, n) => n > 0 && o < 0);
    if (missing > 0) throw new Error(`PDF object ${missing} was allocated but never written`);
    const id = trailer.id ? ` /ID [<${trailer.id.toString('hex')}> <${trailer.id.toString('hex')}>]` : '';
    const start = this.written;
    return start >= this.xrefStreamFrom ? this.xrefStream(start, trailer.root, trailer.info, id) : this.xrefTable(start, trailer.root, trailer.info, id);
  }

  private xrefTable(start: number, root: number, info: number, id: string): Buffer {
    const size = this.offsets.length;
    const lines = [`xref\n0 ${size}\n0000000000 65535 f\r\n`];
    for (let n = 1; n < size; n++) lines.push(`${String(this.offsets[n]).padStart(10, '0')} 00000 n\r\n`);
    lines.push(`trailer\n<</Size ${size} /Root ${root} 0 R /Info ${info} 0 R${id}>>\nstartxref\n${start}\n%%EOF\n`);
    return this.emit(latin1(lines.join('')));
  }

  /** PDF 1.5 cross-reference stream with 5-byte offsets: files past 10 GB stay addressable. */
  private xrefStream(start: number, root: number, info: number, id: string): Buffer {
    const self = this.offsets.length;
    const size = self + 1;
    const rows = Buffer.alloc(size * 7);
    rows.writeUInt8(0, 0);
    rows.writeUIntBE(0, 1, 5);
    rows.writeUInt8(255, 6);
    const at = (n: number, offset: number) => {
      rows.writeUInt8(1, n * 7);
      rows.writeUIntBE(offset, n * 7 + 1, 5);
      rows.writeUInt8(0, n * 7 + 6);
    };
    for (let n = 1; n < self; n++) at(n, this.offsets[n]!);
    at(self, start);
    const data = zlib.deflateSync(rows);
    const dict = `<</Type /XRef /Size ${size} /W [1 5 1] /Root ${root} 0 R /Info ${info} 0 R${id} /Filter /FlateDecode /Length ${data.length}>>`;
    return this.emit(Buffer.concat([latin1(`${self} 0 obj\n${dict}\nstream\n`), data, latin1(`\nendstream\nendobj\nstartxref\n${start}\n%%EOF\n`)]));
  }
}

/** A number in PDF syntax: at most 3 decimals, no exponent, no "-0" (same input, same bytes). */
export function num(n: number): string {
  const r = Math.round(n * 1000) / 1000;
  return Object.is(r, -0) || r === 0 ? '0' : String(r);
}

/** A literal string for ASCII text (titles, producer), escaped. */
export function literal(s: string): string {
  return `(${s.replace(/[^\x20-\x7e]/g, '?').replace(/[()\\]/g, (c) => `\\${c}`)})`;
}
