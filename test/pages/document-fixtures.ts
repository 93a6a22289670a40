/**
 * PDFs (pdf-lib) and ZIPs (yazl) for the page reader tests, and both by hand where the libraries
 * refuse to write hostile input: encrypted PDFs, unsafe entry names, encrypted entries.
 */
import zlib from 'node:zlib';
import { PDFDocument, PDFName, StandardFonts } from 'pdf-lib';
import yazl from 'yazl';
import { jpeg } from './fixtures.js';

/** A PDF of `pages` pages, each with a line of text and, optionally, a JPEG. */
export async function pdf(pages: number, options: { images?: boolean; size?: [number, number] } = {}): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < pages; i++) {
    const page = doc.addPage(options.size ?? [595.28, 841.89]);
    page.drawText(`Page ${i + 1}`, { x: 50, y: 50, size: 20, font });
    if (options.images) page.drawImage(await doc.embedJpg(await jpeg(i, 200, 260)), { x: 50, y: 100, width: 200, height: 260 });
  }
  return Buffer.from(await doc.save());
}

/** A PDF whose first page links to the last, which alone holds a big image. */
export async function linkedPdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const pages = [doc.addPage(), doc.addPage(), doc.addPage()];
  const image = await doc.embedJpg(await jpeg(7, 900, 1200));
  pages[2]!.drawImage(image, { x: 0, y: 0, width: 595, height: 842 });
  const link = doc.context.register(
    doc.context.obj({ Type: 'Annot', Subtype: 'Link', Rect: [10, 10, 100, 30], Dest: [pages[2]!.ref, 'Fit'], P: pages[0]!.ref }),
  );
  pages[0]!.node.set(PDFName.of('Annots'), doc.context.obj([link]));
  return Buffer.from(await doc.save());
}

/** A hand-written PDF: `objects[i]` becomes object i + 1; offsets in the xref are exact. */
export function handPdf(objects: readonly string[], trailer: string): Buffer {
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) body += `${String(o).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} ${trailer} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/**
 * A one-page PDF protected with the standard security handler: RC4 40-bit as old tools write
 * it, or AES-128 with its content and an object stream encrypted (here: random bytes), which a
 * parser cannot read at all.
 */
export function encryptedPdf(kind: 'rc4' | 'aes' = 'rc4'): Buffer {
  const hex32 = 'a'.repeat(64);
  const id = '/ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]';
  if (kind === 'rc4') {
    return handPdf(
      [
        '<< /Type /Catalog /Pages 2 0 R >>',
        '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>',
        `<< /Filter /Standard /V 1 /R 2 /O <${hex32}> /U <${hex32}> /P -44 >>`,
      ],
      `/Root 1 0 R /Encrypt 4 0 R ${id}`,
    );
  }
  const cipher = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 151 + 17) & 0xff)).toString('latin1');
  return handPdf(
    [
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R >>',
      `<< /Filter /Standard /V 4 /R 4 /Length 128 /CF << /StdCF << /CFM /AESV2 /AuthEvent /DocOpen /Length 16 >> >> /StmF /StdCF /StrF /StdCF /O <${hex32}> /U <${hex32}> /P -1028 >>`,
      `<< /Length 256 /Filter /FlateDecode >>\nstream\n${cipher(256)}\nendstream`,
      `<< /Type /ObjStm /N 2 /First 10 /Length 256 /Filter /FlateDecode >>\nstream\n${cipher(256)}\nendstream`,
    ],
    `/Root 1 0 R /Encrypt 4 0 R ${id}`,
  );
}

export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
  readonly compress?: boolean;
  readonly zip64?: boolean;
}

/** A ZIP written by yazl (stored unless `compress`). */
export async function zip(entries: readonly ZipEntry[]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const e of entries) z.addBuffer(e.data, e.name, { compress: e.compress ?? false, forceZip64Format: e.zip64 ?? false, mtime: new Date(2020, 0, 1) });
  z.end();
  const chunks: Buffer[] = [];
  for await (const chunk of z.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface RawZipEntry {
  readonly name: string | Buffer;
  readonly data: Buffer;
  /** General purpose flags: bit 0 marks the entry as encrypted. */
  readonly flags?: number;
  readonly method?: number;
}

/** A ZIP of stored entries written byte by byte, for names and flags yazl refuses to write. */
export function rawZip(entries: readonly RawZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    const crc = zlib.crc32(e.data);
    const flags = (e.flags ?? 0) | (typeof e.name === 'string' ? 0x800 : 0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(e.method ?? 0, 8);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.data.length - (flags & 1 ? 12 : 0), 22); // encrypted: 12-byte header in the data
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    local.copy(central, 8, 6, 26); // flags, method, time, date, crc, sizes
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.data);
    centrals.push(central, name);
    offset += 30 + name.length + e.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
