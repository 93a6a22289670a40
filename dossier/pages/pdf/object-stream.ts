/**
 * An object stream (/Type /ObjStm): N compressed objects behind a header of N pairs "number
 * offset". Decoded by pdf-lib, each object parsed by pdf-lib's parser, as the whole-file parse did.
 */
import { PDFName, PDFNumber, PDFObjectParser, decodePDFRawStream, type PDFContext, type PDFObject, type PDFRawStream } from 'pdf-lib';

export interface DecodedObjectStream {
  readonly members: readonly { num: number; offset: number }[];
  readonly first: number;
  readonly data: Buffer;
}

export function decodeObjectStream(stream: PDFRawStream): DecodedObjectStream | null {
  try {
    const first = stream.dict.lookup(PDFName.of('First'), PDFNumber).asNumber();
    const n = stream.dict.lookup(PDFName.of('N'), PDFNumber).asNumber();
    const decoded = decodePDFRawStream(stream).decode();
    const data = Buffer.from(decoded.buffer, decoded.byteOffset, decoded.byteLength);
    const numbers = data.toString('latin1', 0, Math.min(first, data.length)).trim().split(/[\0\t\n\f\r ]+/).map(Number);
    const members: { num: number; offset: number }[] = [];
    for (let i = 0; i < n && 2 * i + 1 < numbers.length; i++) members.push({ num: numbers[2 * i]!, offset: numbers[2 * i + 1]! });
    return { members, first, data };
  } catch {
    return null;
  }
}

/** The object numbers the stream holds, in order (its member i is `index` i). */
export function objectStreamMembers(stream: PDFRawStream): number[] | null {
  return decodeObjectStream(stream)?.members.map((m) => m.num) ?? null;
}

/** Member `index`, if the stream has it; throws where it cannot be parsed (the whole-file parse failed there too). */
export function objectStreamObject(decoded: DecodedObjectStream, index: number, ctx: PDFContext): PDFObject | undefined {
  const member = decoded.members[index];
  if (!member) return undefined;
  return PDFObjectParser.forBytes(decoded.data.subarray(decoded.first + member.offset), ctx).parseObject();
}
